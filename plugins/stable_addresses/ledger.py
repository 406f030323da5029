"""The address ledger: every address the site has published, and from what.

A committed JSON file in content/ (``ADDRESS_LEDGER``), written only by a
successful build. For each address (``xay-dung-dang/dai-hoi.html``) it
records the article it leads to: its source file (relative to content/),
its ``Date`` to the minute and its category. An address no article makes
any more is kept: when the same article can be found among this build's
(:func:`plan`), the old address becomes a redirect to the new one;
otherwise it is reported once and marked ``gone``.

Everything here is pure: data in, data out; the plugin does the reading,
the writing and the reporting.
"""

import html
import json
from dataclasses import dataclass, field

VERSION = 1
NOTE = ("Sổ địa chỉ của trang: lệnh dựng trang tự ghi, đừng sửa tay; hãy commit tệp này cùng bài viết "
        "(written by the build, never edit by hand; commit it with the content)")
DATE_FORMAT = "%Y-%m-%d %H:%M"


class LedgerError(ValueError):
    """The ledger cannot be used; ``str()`` says what is wrong (Vietnamese, then English)."""


@dataclass(frozen=True)
class Published:
    """One document as this build publishes it."""
    source: str           # relative to content/, "/"-separated
    date: str = None      # "YYYY-MM-DD HH:MM", or None (a page without Date)
    category: str = None  # the category's slug, or None (a page)
    title: str = ""


@dataclass
class Plan:
    redirects: dict = field(default_factory=dict)  # old address -> current address
    lost: list = field(default_factory=list)       # old addresses newly without a successor
    entries: dict = field(default_factory=dict)    # the ledger to keep


def minute(moment):
    """``moment`` (a datetime or None) as the ledger compares dates."""
    return moment.strftime(DATE_FORMAT) if moment is not None else None


def valid_address(url):
    """An address the ledger may hold: relative, ``/``-separated, no empty,
    ``.`` or ``..`` segment, nothing a URL or a file name could misread."""
    if not isinstance(url, str) or not url or url.startswith("/") or "\\" in url:
        return False
    if any(ord(c) < 0x20 or c in "?#" or c == "\x7f" for c in url):
        return False
    parts = url.split("/")
    if url.endswith("/"):
        parts = parts[:-1]
    return all(part not in ("", ".", "..") for part in parts)


def address_file(url):
    """The output file that answers at ``url`` (``x/`` -> ``x/index.html``)."""
    return url + "index.html" if url.endswith("/") else url


def _entry_problem(url, entry):
    if not valid_address(url):
        return f"địa chỉ {url!r} không hợp lệ (not a relative address)"
    if not isinstance(entry, dict) or not isinstance(entry.get("source"), str):
        return f"mục {url!r} thiếu “source” (entry without a source)"
    for key in ("date", "category", "to"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"mục {url!r}: “{key}” phải là chuỗi (must be a string)"
    if entry.get("to") is not None and not valid_address(entry["to"]):
        return f"mục {url!r}: “to” không phải địa chỉ hợp lệ (not a relative address)"
    if not isinstance(entry.get("gone", False), bool):
        return f"mục {url!r}: “gone” phải là true hoặc false (must be a boolean)"
    return None


def parse(data):
    """``{address: entry}`` from the ledger's bytes. Raises LedgerError."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise LedgerError(f"không đọc được JSON ({error}) (not valid UTF-8 JSON)") from None
    if not isinstance(document, dict) or document.get("version") != VERSION or \
            not isinstance(document.get("addresses"), dict):
        raise LedgerError(f"không phải sổ địa chỉ phiên bản {VERSION} (not an address ledger of version {VERSION})")
    for url, entry in document["addresses"].items():
        problem = _entry_problem(url, entry)
        if problem:
            raise LedgerError(problem)
    return document["addresses"]


def to_bytes(entries):
    """The ledger file for ``entries``: sorted, one field order, so the
    same site always gives the same bytes (git shows only real changes)."""
    ordered = {}
    for url in sorted(entries):
        entry = entries[url]
        ordered[url] = {key: entry[key] for key in ("source", "date", "category", "to", "gone")
                        if entry.get(key) not in (None, False)}
    document = {"note": NOTE, "version": VERSION, "addresses": ordered}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _identity(published):
    return {"source": published.source, "date": published.date, "category": published.category}


def successor(entry, current, new_addresses, by_source):
    """The current address of the article ``entry`` recorded, or None: the
    one its source file makes now (a changed Slug or Category), else the
    only address new in this build with the same Date (to the minute) and
    category (a renamed folder)."""
    if entry["source"] in by_source:
        return by_source[entry["source"]]
    if not entry.get("date"):
        return None
    candidates = [url for url in new_addresses
                  if current[url].date == entry["date"] and current[url].category == entry.get("category")]
    return candidates[0] if len(candidates) == 1 else None


def plan(ledger, current):
    """What this build publishes at old addresses, and the ledger after it.

    ``ledger``: ``{address: entry}`` as read; ``current``: ``{address:
    Published}`` of every document this build writes (drafts excluded).
    An address of ``current`` records its document. An old address that
    nothing makes any more redirects to its article's current address
    (chains collapse: the entry is re-pointed at the article, so A→B then
    B→C leaves A→C) or, with no identifiable successor, is kept ``gone``
    (reported the first time only).
    """
    result = Plan()
    # addresses an article took in this build: never published, or until now
    # only a redirect or gone (a folder renamed back to its old name)
    new_addresses = sorted(url for url in current if url not in ledger or ledger[url].get("to")
                           or ledger[url].get("gone"))
    by_source = {published.source: url for url, published in sorted(current.items())}
    for url, published in current.items():
        result.entries[url] = _identity(published)
    for url in sorted(set(ledger) - set(current)):
        entry = ledger[url]
        target = successor(entry, current, new_addresses, by_source)
        if target is None:
            result.entries[url] = dict(_identity(Published(entry["source"], entry.get("date"),
                                                           entry.get("category"))), gone=True)
            if not entry.get("gone"):
                result.lost.append(url)
        else:
            result.redirects[url] = target
            result.entries[url] = dict(_identity(current[target]), to=target)
    return result


REDIRECT_HTML = (
    '<!DOCTYPE html>\n'
    '<html lang="vi"><head><meta charset="utf-8">\n'
    '<title>{title}</title>\n'
    '<meta name="robots" content="noindex">\n'
    '<link rel="canonical" href="{canonical}">\n'
    '<meta http-equiv="refresh" content="0; url={href}">\n'
    '</head><body><p>Bài viết đã chuyển sang địa chỉ mới: <a href="{href}">{title}</a></p></body></html>\n'
)


def redirect_html(href, canonical, title):
    """The page left at an old address: sends browsers (and search
    engines, through the canonical link) to ``href``; never indexed."""
    return REDIRECT_HTML.format(href=html.escape(href, quote=True), canonical=html.escape(canonical, quote=True),
                                title=html.escape(title or href, quote=True))


def line_of(text, url):
    """The line (1-based) of ``url``'s entry in the ledger's text; 1 if none."""
    key = json.dumps(url, ensure_ascii=False) + ":"
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(key):
            return number
    return 1
