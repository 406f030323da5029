"""The live widgets' JSON feeds: reading, validating, and the bulletin text.

Plain functions, no Pelican: each ``parse_*`` takes decoded JSON and
returns ``(value, problems)``; a problem names the field (``today``,
``regions[1].cases``) so the build can say ``content/feeds/visitors.json:
field today: ...``. A feed with any problem is not used at all: the build
falls back to the last good values instead (see ``__init__``).
"""

import codecs
import datetime
import json
import os
import re

from .content_paths import real_path_inside
from .vietnamese import to_vn, vi_number

from .safe_text import CONTROL_IN_FILE, codepoints, first_control, strip_invisible


# Bounds checked before or while decoding, so a hostile or broken file costs
# little: views.json of 5,000 articles is about 0.5 MB, the deepest feed
# (covid.json) nests 3 levels, and counts stay below 9e15, the largest
# integer the browser's script holds exactly (live-widgets.js, ok()).
MAX_FEED_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 16
MAX_COUNT = 9 * 10**15
MAX_DIGITS = len(str(MAX_COUNT))
# a JSON string (escapes included) or one bracket: strings are skipped whole
# so a "[" inside one does not count as nesting. Possessive, and an
# unclosed string runs to the end in one match: a file of `\"` without a
# closing quote would otherwise be rescanned from every quote (quadratic).
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)|[\[\]{}]', re.S)


class FeedError(ValueError):
    """A feed file that cannot be used; ``field`` says where (or ``None``),
    ``line`` the line of the file when the problem has one."""

    def __init__(self, field, message, line=None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.line = line


class _BadToken(ValueError):
    """A number or constant the decoder met that no feed may hold."""

    def __init__(self, token, message):
        super().__init__(message)
        self.token = token
        self.message = message


def is_count(value):
    """A non-negative integer below ``MAX_COUNT`` (``True``/``False`` and
    ``3.0`` are not): the same test as ``ok()`` in live-widgets.js."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_COUNT


def _line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def read_text(path, root=None, limit=MAX_FEED_BYTES):
    """The text of ``path``: a regular file of at most ``limit`` bytes, UTF-8
    (a BOM is allowed), no control character but tab and line ends, and,
    when ``root`` is given, resolving (symlinks followed) inside ``root``.
    Raises FeedError naming the line where there is one."""
    if root is not None and not real_path_inside(root, path):
        raise FeedError(None, (
            f"tệp trỏ ra ngoài thư mục {os.path.basename(os.path.normpath(root))}/ (liên kết tượng trưng?) nên không được dùng "
            f"(resolves outside {os.path.basename(os.path.normpath(root))}/, to {os.path.realpath(path)})"))
    try:
        if not os.path.isfile(path):  # a folder, a pipe or a device would block or mislead
            raise FeedError(None, "tệp không tồn tại (file not found)" if not os.path.exists(path)
                            else "không phải tệp thông thường (not a regular file)")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise FeedError(None, f"không đọc được tệp: {error.strerror} (unreadable file)") from None
    if len(data) > limit:
        raise FeedError(None, f"tệp lớn hơn {limit // 1024} KB (file larger than {limit // 1024} KB)")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FeedError(None, f"tệp không phải UTF-8: hãy lưu lại với mã UTF-8 (not UTF-8: {error.reason})",
                        data.count(b"\n", 0, error.start) + 1) from None
    found = first_control(text, CONTROL_IN_FILE)
    if found:
        raise FeedError(None, f"tệp chứa ký tự điều khiển {codepoints(found[1])}; hãy xóa nó (control character)",
                        found[0])
    return text


def _check_depth(text):
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise FeedError(None, f"JSON lồng nhau quá {MAX_DEPTH} tầng (nested deeper than {MAX_DEPTH})",
                                _line_of(text, match.start()))
        elif token in "]}":
            depth -= 1


def _integer(digits):
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise _BadToken(digits, f"số có {len(digits.lstrip('-'))} chữ số, quá lớn (number too long)")
    return int(digits)


def _constant(name):
    raise _BadToken(name, f"“{name}” không phải số JSON hợp lệ (not valid JSON)")


def decode_json(text):
    """``text`` decoded, nesting and numbers bounded first. Raises FeedError."""
    _check_depth(text)
    try:
        return json.loads(text, parse_int=_integer, parse_constant=_constant)
    except _BadToken as error:
        raise FeedError(None, error.message, _line_of(text, max(text.find(error.token), 0))) from None
    except json.JSONDecodeError as error:
        raise FeedError(None, f"JSON không hợp lệ: {error.msg} (invalid JSON)", error.lineno) from None


def _clean_string(text, field, notes):
    found = first_control(text)
    if found:
        raise FeedError(field, f"chứa ký tự điều khiển {codepoints(found[1])}; hãy xóa nó (control character in text)")
    text, removed = strip_invisible(text)
    if removed and notes is not None:
        notes.append((field, removed))
    return text


def clean_strings(value, field="", notes=None):
    """``value`` with invisible characters removed from every string, keys
    included (each removal noted as ``(field, characters)`` in ``notes``);
    a control character raises FeedError. Depth is already bounded."""
    if isinstance(value, str):
        return _clean_string(value, field or "(gốc)", notes)
    if isinstance(value, list):
        return [clean_strings(item, f"{field}[{index}]", notes) for index, item in enumerate(value)]
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            where = f"{field}.{key}" if field else key
            cleaned[_clean_string(key, where, notes)] = clean_strings(item, where, notes)
        return cleaned
    return value


def read_json(path, root=None, notes=None):
    """Decoded JSON of ``path`` with its strings cleaned (see
    ``clean_strings``); raises FeedError for a missing or broken file.
    Each removal is noted in ``notes`` as ``(path, field, characters)``."""
    found = []
    data = clean_strings(decode_json(read_text(path, root)), notes=found)
    if notes is not None:
        notes.extend((path, field, removed) for field, removed in found)
    return data


# How far ahead of this machine's clock a feed's time may be (clocks of the
# machines that write feeds drift a little). The newest valid copy of a feed
# wins at every build, so one dated 2099 would otherwise win for ever.
MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)


def not_in_future(moment, field, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if moment > now + MAX_CLOCK_SKEW:
        raise FeedError(field, (
            f"thời gian {to_vn(moment):%d/%m/%Y %H:%M} ở tương lai; kiểm tra đồng hồ của máy ghi tệp này "
            "(time in the future: check the clock of the machine that wrote this feed)"))
    return moment


# The form counter/feeds.schema.json names: date, "T", time, and an offset.
# Without the offset the browser would read the time in the reader's own
# zone (11h00 in Hà Nội shown as 16h00 in Paris), so none is guessed.
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})\Z")


def parse_time(value, field="updated"):
    """An ISO 8601 time with its offset (``2020-08-14T11:00:00+07:00``),
    not in the future."""
    if not isinstance(value, str):
        raise FeedError(field, "phải là thời gian dạng 2020-08-14T11:00:00+07:00 (must be an ISO 8601 string)")
    if not _ISO_TIME.match(value):
        raise FeedError(field, f"thời gian phải có dạng 2020-08-14T11:00:00+07:00, có cả múi giờ; nhận được "
                               f"{value[:40]!r} (must be ISO 8601 with its offset)")
    try:
        moment = to_vn(datetime.datetime.fromisoformat(value))
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31 shifted to Vietnam time
        raise FeedError(field, f"thời gian không hợp lệ: {value[:40]!r} (invalid ISO 8601 time)") from None
    return not_in_future(moment, field)


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


def _counts(data, field, required=True):
    """``data[field]``, an object of ``{path: count}`` (an optional one may be absent)."""
    counts = data.get(field)
    if counts is None and not required:
        return {}
    if not isinstance(counts, dict):
        raise FeedError(field, "phải là đối tượng {\"đường-dẫn.html\": số} (must be an object of counts)")
    for url, count in counts.items():
        if not is_count(count):
            raise FeedError(f"{field}[{url!r}]", "phải là số nguyên không âm (must be a non-negative integer)")
    return dict(counts)


def parse_views(data):
    """``{"updated", "views": {url: count}, "clicks"?: {url: count}}`` →
    ``{url: count}``, the page views (counter/feeds.schema.json)."""
    _require_object(data)
    parse_time(data.get("updated"))
    _counts(data, "clicks", required=False)
    return _counts(data, "views")


def parse_clicks(data):
    """The clicks of the same feed: requests of redirect pages (banners'
    outbound links), ``{path: count}``; absent while there are none."""
    parse_views(data)
    return _counts(data, "clicks", required=False)


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
    try:
        updated = datetime.datetime.fromtimestamp(numbers.pop("updated") / 1000, tz=datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):  # a count, but past the year 9999
        raise FeedError("updated", "thời điểm (mili giây) quá xa (epoch milliseconds out of range)") from None
    return numbers, not_in_future(updated, "updated")


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
                at = f"{source}:{error.line}" if error.line else source
                field = f"{where}.source ({at}" + (f": {error.field})" if error.field else ")")
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
