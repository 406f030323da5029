"""Checks on the staff's Markdown headers, as plain functions.

Each problem is a :class:`Problem` that prints as ``path:line: message``:
a Vietnamese sentence for the staff, with the English key it concerns, so
the person who wrote the article can find and fix it without a developer.
"""

import datetime
import re
from dataclasses import dataclass

HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)[ \t]*:[ \t]?(.*)$")

ARTICLE_KEYS = {
    "title", "date", "modified", "category", "tags", "author", "authors",
    "summary", "image", "imagecaption", "gallery", "attachments", "featured",
    "status", "slug", "lang", "translation", "template",
}
PAGE_KEYS = {"title", "slug", "summary", "status", "template", "modified", "lang", "image", "imagecaption", "order"}
REQUIRED = {"article": ("title", "date", "category"), "page": ("title",)}
STATUSES = {"published", "draft", "hidden"}
TRUE = {"true", "yes", "1", "có"}
BOOLEANS = TRUE | {"false", "no", "0", "không"}
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
# An address is a file name on every server and in every URL: lower-case
# ASCII letters, digits and single hyphens (what Pelican's slugify makes).
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The Party's founding (3/2/1930) is older than anything the board
# publishes; a date after tomorrow is a typo (9999-12-31 would pin the
# article first forever). Only the check reads the clock; no page does.
FIRST_DATE = datetime.datetime(1930, 1, 1)
LAST_DATE = datetime.datetime(2100, 12, 31, 23, 59, 59)
FUTURE_DAYS = 1


_VISIBLE = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7f)}


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str
    # "error" fails every build; "warning" fails `make publish` and `make
    # check` but lets `make html` and the devserver show the rest.
    severity: str = "error"

    def __str__(self):
        label = "" if self.severity == "error" else "cảnh báo: "
        # one problem, one line, whatever a file name or a quoted value holds
        # (a newline in a folder name, an escape sequence for the terminal)
        return f"{self.path}:{self.line}: {label}{self.message}".translate(_VISIBLE)


def parse_header(text):
    """Split a Markdown file's header into ``{key: (line, value)}``.

    Returns ``(fields, problems, end)``: problems are ``(line, message)``
    and ``end`` is the number of the last header line. The header ends at
    the first blank line, as in Python Markdown's meta extension; an
    indented line continues the previous key (``Gallery``, ``Attachments``
    list one file per line), and its value keeps one line per entry.
    """
    fields, problems = {}, []
    last_key = None
    end = 0
    lines = text.splitlines()
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            break
        end = number
        if line[:1] in " \t" and last_key:
            start, value = fields[last_key]
            fields[last_key] = (start, f"{value}\n{line.strip()}")
            continue
        match = HEADER_LINE.match(line)
        if not match:
            problems.append((number, (
                f"dòng tiêu đề không đúng dạng “Khóa: giá trị”: {line.strip()[:60]!r} "
                "(header line must be 'Key: value'; leave one blank line between "
                "the header and the body)"
            )))
            break
        key = match.group(1).lower()
        if key in fields:
            problems.append((number, f"khóa {match.group(1)} bị lặp lại (duplicate key {match.group(1)})"))
        fields[key] = (number, match.group(2).strip())
        last_key = key
    return fields, problems, end


def parse_bool(value):
    """``Featured: true`` and friends (the values ``BOOLEANS`` accepts)."""
    return str(value).strip().lower() in TRUE


def list_entries(value):
    """``[(file, caption)]`` of a list key (``Gallery``, ``Attachments``):
    one ``file | caption`` per line, as Pelican's list or as one string."""
    lines = value if isinstance(value, list) else str(value or "").splitlines()
    entries = []
    for line in lines:
        name, _, caption = str(line).partition("|")
        if name.strip():
            entries.append((name.strip(), caption.strip()))
    return entries


def header_entries(fields, key):
    """``[(line, file, caption)]`` of a list key such as ``Gallery`` or
    ``Attachments``: one ``file | caption`` per line (caption optional)."""
    if key not in fields:
        return []
    start, value = fields[key]
    # the value's first line sits on the key's own line; the rest follow it
    return [(start + index, name, caption)
            for index, raw in enumerate(value.split("\n"))
            for name, caption in list_entries(raw)]


def parse_date(value):
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def today_in_vietnam():
    from vi_locale.formatting import TIMEZONE

    return datetime.datetime.now(TIMEZONE).replace(tzinfo=None)


def date_problem(key, value, today):
    """``(severity, message)`` for an implausible date, or None. Outside
    [1930, 2100] is an error whatever the day (a typed 9999 would pin the
    article first for ever); after tomorrow is a warning, the only rule
    that reads the clock: it fails `make publish` (an article from the
    future stays on top until then) but never changes what a page says."""
    date = parse_date(value)
    name = key.capitalize()
    if date is None:
        return None
    if not FIRST_DATE <= date <= LAST_DATE:
        return "error", (f"{name}: {value!r} không hợp lý: ngày phải từ 01/01/1930 đến 31/12/2100; kiểm tra "
                         f"lại năm ({name} must be between 1930-01-01 and 2100-12-31)")
    tomorrow = today + datetime.timedelta(days=FUTURE_DAYS)
    if date > tomorrow:
        return "warning", (f"{name}: {value!r} là ngày trong tương lai (sau {tomorrow:%d/%m/%Y}): bài sẽ đứng "
                           f"đầu các danh sách đến ngày đó; kiểm tra lại ngày ({name} is in the future)")
    return None


def check_header(path, text, kind="article", categories=None, parsed=None, today=None):
    """All header problems of one Markdown file, as :class:`Problem` s.

    ``kind`` is ``"article"`` or ``"page"``; ``categories``, when given, is
    the list of category names the site knows (``MENU_CATEGORIES``);
    ``parsed`` is ``parse_header(text)`` when the caller already has it;
    ``today`` (naive, Vietnam time) defaults to the clock.
    """
    today = today or today_in_vietnam()
    fields, found, _ = parsed or parse_header(text)
    problems = [Problem(path, line, message) for line, message in found]
    known = ARTICLE_KEYS if kind == "article" else PAGE_KEYS
    for key, (line, value) in fields.items():
        if key not in known:
            problems.append(Problem(path, line, (
                f"khóa không được hỗ trợ: {key!r} — kiểm tra lỗi chính tả "
                f"(unknown key {key!r})"
            )))
    for key in REQUIRED[kind]:
        if key not in fields or not fields[key][1]:
            line = fields[key][0] if key in fields else 1
            problems.append(Problem(path, line, (
                f"thiếu {key.capitalize()} (missing required key {key.capitalize()})"
            )))
    for key in ("date", "modified"):
        if key in fields and fields[key][1] and parse_date(fields[key][1]) is None:
            line, value = fields[key]
            problems.append(Problem(path, line, (
                f"{key.capitalize()}: {value!r} không phải ngày hợp lệ; viết theo dạng "
                f"2020-03-23 08:15 ({key.capitalize()} must be YYYY-MM-DD HH:MM)"
            )))
        elif key in fields and fields[key][1] and date_problem(key, fields[key][1], today):
            severity, message = date_problem(key, fields[key][1], today)
            problems.append(Problem(path, fields[key][0], message, severity))
    if fields.get("slug", (0, ""))[1] and not SLUG.match(fields["slug"][1]):
        line, value = fields["slug"]
        problems.append(Problem(path, line, (
            f"Slug: {value[:60]!r} chỉ được gồm chữ thường không dấu a-z, chữ số 0-9 và dấu gạch ngang, "
            "ví dụ dai-hoi-dang-bo-xa-dong-tien (Slug may hold only a-z, 0-9 and single hyphens)"
        )))
    if "status" in fields and fields["status"][1].lower() not in STATUSES:
        line, value = fields["status"]
        problems.append(Problem(path, line, (
            f"Status: {value!r} phải là published, draft hoặc hidden (Status must be published, draft or hidden)"
        )))
    if "featured" in fields and fields["featured"][1].lower() not in BOOLEANS:
        line, value = fields["featured"]
        problems.append(Problem(path, line, (
            f"Featured: {value!r} phải là true hoặc false (Featured must be true or false)"
        )))
    if kind == "article" and categories and fields.get("category", (0, ""))[1]:
        line, value = fields["category"]
        if value not in categories:
            problems.append(Problem(path, line, (
                f"Category: chuyên mục {value!r} không có trong danh mục; dùng một trong: "
                f"{', '.join(categories)} (unknown category)"
            )))
    return sorted(problems)
