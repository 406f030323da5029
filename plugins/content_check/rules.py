"""Checks on the staff's Markdown headers, as plain functions.

Each problem is a :class:`Problem` that prints as ``path:line: message``:
a Vietnamese sentence for the staff, with the English key it concerns, so
the person who wrote the article can find and fix it without a developer.
"""

import datetime

from portal.header import (ARTICLE_KEYS, BOOLEANS, FIRST_DATE, FUTURE_DAYS, LAST_DATE, PAGE_KEYS,
                           REQUIRED, SLUG, STATUSES, parse_date, parse_header)
from portal.problems import Problem
from portal.vietnamese import TIMEZONE


def today_in_vietnam():
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
