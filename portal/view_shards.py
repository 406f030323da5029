"""Where the live numbers are published so that no page has to change:
view-count shards and the small HTML fragments readers without JavaScript
see.

Standard library only: the counter (``counter/``, run by cron with the
system's ``python3`` and no virtual environment) and the build both import
this module, so both publish byte-identical files for the same numbers and
the counter's compare-before-write finds nothing to do after a build.

Inside the published feeds folder (``feeds/``)::

    luot-xem/3f.json                          {"views": {"<address>": n, ...}}: one shard
    luot-xem/3f/xay-dung-dang/ket-qua.html    "Lượt xem: 185", for that article's <noscript>
    thong-ke.html                             the visitor statistics, for the widget's <noscript>

A page names its shard and its fragment, computed at build time from its
address alone (``shard_path``, ``fragment_url``): the script never hashes.
"""

import hashlib
import html
import json
from urllib.parse import quote

# 256 shards: the first two hex digits of the address's SHA-256 (stable
# across machines and Python versions, unlike hash()). At 20,000 counted
# articles a shard holds about 78 addresses (about 110 in the fullest: the
# binomial tail); with long addresses (~95 bytes an entry) that is about
# 8 KB as written, 11 KB at most, 1-3 KB gzipped: it arrives in the first
# round trip (TCP's initial window is 10 segments, about 14 KB), so more
# shards would not show a count any sooner, while each shard is one more
# file the counter compares every minute.
# At 1,000 articles a shard holds 4 addresses: still one small request.
SHARD_DIGITS = 2
SHARDS_FOLDER = "luot-xem"  # "lượt xem", views
VISITORS_FRAGMENT = "thong-ke.html"  # "thống kê", statistics

# The fragments' look, inline (no stylesheet to fetch): the page's own
# font and the sizes of .stats li and .article__views, so the <iframe>
# (sized in portal.css) shows them as the script would.
FONT = '"Segoe UI",Roboto,"Noto Sans",Arial,"Helvetica Neue",sans-serif'
VISITORS_STYLE = (f"body{{margin:0;font:16px/1.6 {FONT};color:#1d1d1d}}"
                  "ul{list-style:none;margin:0;padding:0}li{padding:3px 0}")
VIEWS_STYLE = f"body{{margin:0;font:14.4px/1.6 {FONT};color:#5b5b5b}}p{{margin:0}}"
PLACEHOLDER = "…"  # what the widget shows before its numbers arrive

# The visitor statistics' lines, in the widget's order.
VISITOR_LINES = (("online", "Đang online"), ("today", "Hôm nay"), ("total", "Lượt truy cập"))


def shard_of(address):
    """The shard (``"3f"``) of a page's address as published
    (``xay-dung-dang/ket-qua.html``, the key of views.json)."""
    return hashlib.sha256(address.encode("utf-8")).hexdigest()[:SHARD_DIGITS]


# Every shard, as its file is named.
SHARDS = tuple(f"{n:0{SHARD_DIGITS}x}" for n in range(16 ** SHARD_DIGITS))


def shard_file(shard):
    """``luot-xem/3f.json`` of shard ``3f``, relative to the feeds folder."""
    return f"{SHARDS_FOLDER}/{shard}.json"


def shard_name(path):
    """``3f`` of ``luot-xem/3f.json``."""
    return path[len(SHARDS_FOLDER) + 1:-len(".json")]


def shard_path(address):
    """The shard file of a page's address: what the page names in its
    ``data-views-shard`` attribute."""
    return shard_file(shard_of(address))


def _is_safe_address(address):
    """An address that names a file below the shard's folder and nowhere
    else: relative, no empty, ``.`` or ``..`` part, no backslash nor
    control character, an ``.html`` page."""
    parts = address.split("/")
    return (address.endswith(".html") and "\\" not in address
            and not any(part in ("", ".", "..") for part in parts)
            and not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in address))


def fragment_path(address):
    """``luot-xem/3f/xay-dung-dang/ket-qua.html``, relative to the feeds
    folder: the page's own address under its shard's folder (so two
    addresses never share a fragment). None for an address that is no
    safe relative path (a feed's key is never trusted to name a file)."""
    if not _is_safe_address(address):
        return None
    return f"{SHARDS_FOLDER}/{shard_of(address)}/{address}"


def fragment_url(address):
    """``fragment_path`` percent-encoded for a ``src`` attribute."""
    path = fragment_path(address)
    return None if path is None else quote(path, safe="/")


def group(views):
    """``{shard: {address: count}}`` of ``{address: count}``."""
    shards = {}
    for address, count in views.items():
        shards.setdefault(shard_of(address), {})[address] = count
    return shards


def render_shard(counts):
    """A shard's exact bytes: its addresses sorted, compact. No time in
    it: a shard changes only when one of its counts does, so the browser
    revalidates it for a 304 and the counter rewrites only that file."""
    document = {"views": dict(sorted(counts.items()))}
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def render_shards(views):
    """``{shard file: bytes}`` of every shard, empty ones included: any
    page's fetch finds its shard (an empty one rather than a 404, which a
    browser reports as an error), and a shard whose last page left is
    emptied rather than left stale."""
    shards = group(views)
    return {shard_file(shard): render_shard(shards.get(shard, {})) for shard in SHARDS}


def grouped(number):
    """``2.686.455``: the Vietnamese thousands separator (vi_number's
    output for a whole number, without Babel)."""
    return f"{number:,}".replace(",", ".")


def _document(title, style, body):
    return ("<!DOCTYPE html>\n"
            f'<html lang="vi"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
            f"<title>{html.escape(title)}</title><style>{style}</style></head>"
            f"<body>{body}</body></html>\n").encode("utf-8")


def views_fragment(count):
    """The fragment of one article: ``Lượt xem: 185``; an empty body for
    ``None`` (not counted yet), as the page hides the line then."""
    body = "" if count is None else f"<p>Lượt xem: {html.escape(grouped(count))}</p>"
    return _document("Lượt xem", VIEWS_STYLE, body)


def visitors_fragment(visitors):
    """The visitor statistics (``{"online", "today", "total"}``), or the
    widget's placeholders for ``None`` (no figures yet)."""
    items = "".join(
        f"<li>{html.escape(label)}: <strong>"
        f"{html.escape(PLACEHOLDER if visitors is None else grouped(visitors[key]))}</strong></li>"
        for key, label in VISITOR_LINES)
    return _document("Thống kê truy cập", VISITORS_STYLE, f"<ul>{items}</ul>")
