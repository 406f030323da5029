"""The live widgets' JSON feeds: reading, validating, and the bulletin text.

Plain functions, no Pelican: each ``parse_*`` takes decoded JSON and
returns ``(value, problems)``; a problem names the field (``today``,
``regions[1].cases``) so the build can say ``content/feeds/visitors.json:
field today: ...``. A feed with any problem is not used at all: the build
falls back to the last good values instead (see ``__init__``).
"""

import datetime
import json
import os

from vi_locale.formatting import to_vn, vi_number


class FeedError(ValueError):
    """A feed file that cannot be used; ``field`` says where (or ``None``)."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def is_count(value):
    """A non-negative integer (``True``/``False`` and ``3.0`` are not)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_json(path):
    """Decoded JSON of ``path``; raises FeedError for a missing or broken file."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise FeedError(None, "tệp không tồn tại (file not found)") from None
    except UnicodeDecodeError as error:
        raise FeedError(None, f"tệp không phải UTF-8 (not UTF-8: {error.reason})") from None
    except json.JSONDecodeError as error:
        raise FeedError(None, (
            f"JSON không hợp lệ ở dòng {error.lineno}, cột {error.colno}: {error.msg} "
            f"(invalid JSON at line {error.lineno})"
        )) from None


def parse_time(value, field="updated"):
    """An ISO 8601 time (offset required; naive means Vietnam time)."""
    if not isinstance(value, str):
        raise FeedError(field, "phải là thời gian dạng 2020-08-14T11:00:00+07:00 (must be an ISO 8601 string)")
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise FeedError(field, f"thời gian không hợp lệ: {value[:40]!r} (invalid ISO 8601 time)") from None
    return to_vn(moment)


def _require_object(data):
    if not isinstance(data, dict):
        raise FeedError(None, "phải là một đối tượng JSON {...} (top level must be an object)")


def _count(data, field, path=None):
    value = data.get(field)
    if not is_count(value):
        raise FeedError(path or field, (
            f"phải là số nguyên không âm, nhận được {json.dumps(value, ensure_ascii=False)[:40]} "
            "(must be a non-negative integer)"
        ))
    return value


def parse_visitors(data):
    """``{"updated", "online", "today", "total"}`` → dict with a datetime."""
    _require_object(data)
    return {
        "updated": parse_time(data.get("updated")),
        "online": _count(data, "online"),
        "today": _count(data, "today"),
        "total": _count(data, "total"),
    }


def parse_views(data):
    """``{"updated", "views": {url: count}}`` → ``{url: count}``."""
    _require_object(data)
    parse_time(data.get("updated"))
    views = data.get("views")
    if not isinstance(views, dict):
        raise FeedError("views", "phải là đối tượng {\"đường-dẫn.html\": số} (must be an object of counts)")
    for url, count in views.items():
        if not is_count(count):
            raise FeedError(f"views[{url!r}]", "phải là số nguyên không âm (must be a non-negative integer)")
    return dict(views)


# disease.sh: /v3/covid-19/all carries "affectedCountries", a country's
# /v3/covid-19/countries/{country} carries "country"; both carry these.
DISEASE_SH_FIELDS = ("updated", "cases", "deaths", "recovered")


def parse_disease_sh(data):
    """Numbers and time of a saved disease.sh response (all or one country)."""
    if not isinstance(data, dict) or not ("affectedCountries" in data or "country" in data):
        raise FeedError(None, (
            "không phải phản hồi disease.sh /v3/covid-19/all hoặc /countries/{country} "
            "(not a disease.sh 'all' or 'countries/{country}' response)"
        ))
    numbers = {field: _count(data, field) for field in DISEASE_SH_FIELDS}
    updated = datetime.datetime.fromtimestamp(numbers.pop("updated") / 1000, tz=datetime.timezone.utc)
    return numbers, updated


REGION_NUMBERS = ("cases", "deaths", "recovered")


def parse_covid(data, folder, read=read_json):
    """The bulletin: title, newest time, and regions with their numbers.

    A region names a ``source`` file in ``folder`` (a saved disease.sh
    response) or carries its own numbers. Raises FeedError; a problem in a
    source file is reported with that file's name in the field.
    """
    _require_object(data)
    title = data.get("title", "Cập nhật virus nCoV")
    if not isinstance(title, str) or not title.strip():
        raise FeedError("title", "phải là chuỗi chữ không rỗng (must be a non-empty string)")
    newest = parse_time(data.get("updated"))
    regions_in = data.get("regions")
    if not isinstance(regions_in, list) or not regions_in:
        raise FeedError("regions", "phải là danh sách khu vực [...] (must be a non-empty list)")
    regions = []
    for index, region in enumerate(regions_in):
        where = f"regions[{index}]"
        if not isinstance(region, dict):
            raise FeedError(where, "phải là đối tượng {\"name\": ...} (must be an object)")
        name = region.get("name")
        if not isinstance(name, str) or not name.strip():
            raise FeedError(f"{where}.name", "phải là chuỗi chữ không rỗng (must be a non-empty string)")
        if "source" in region:
            source = region["source"]
            if not isinstance(source, str) or os.path.basename(source) != source or source.startswith("."):
                raise FeedError(f"{where}.source", "phải là tên một tệp trong cùng thư mục (must be a file name in the same folder)")
            try:
                numbers, updated = parse_disease_sh(read(os.path.join(folder, source)))
            except FeedError as error:
                field = f"{where}.source ({source}" + (f": {error.field})" if error.field else ")")
                raise FeedError(field, error.message) from None
            newest = max(newest, updated)
        else:
            numbers = {}
            for key in REGION_NUMBERS:
                if key in region:
                    numbers[key] = _count(region, key, f"{where}.{key}")
            if not numbers:
                raise FeedError(where, "cần ít nhất một số: cases, deaths hoặc recovered (needs cases, deaths or recovered)")
        regions.append({"name": name.strip(), **numbers})
    return {"title": title.strip(), "updated": newest, "regions": regions}


def region_sentence(region):
    """``Việt Nam: 911 người mắc, 21 người tử vong (đã phục hồi 425).``"""
    parts = []
    if "cases" in region:
        parts.append(f"{vi_number(region['cases'])} người mắc")
    if "deaths" in region:
        parts.append(f"{vi_number(region['deaths'])} người tử vong")
    text = ", ".join(parts)
    if "recovered" in region:
        recovered = f"đã phục hồi {vi_number(region['recovered'])}"
        text = f"{text} ({recovered})" if text else recovered
    return f"{region['name']}: {text}."
