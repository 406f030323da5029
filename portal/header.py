"""The staff's Markdown header, read as plain data.

A header is ``Key: value`` lines up to the first blank line, as in Python
Markdown's meta extension; list keys (``Gallery``, ``Attachments``) hold
one ``file | caption`` per line. The build's plugins and ``make check``
read headers with these functions, so they agree on what a header says.
"""

import datetime
import re

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


