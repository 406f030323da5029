"""Visitor and page-view counter: web-server access logs -> two JSON feeds.

The site is static, so its live numbers come from the web servers' access
logs ("combined" format, plain or gzip). Every run reads only what is new
since the previous run and writes:

* ``visitors.json``: ``{"updated": ISO time, "online": n, "today": n, "total": n}``
* ``views.json``: ``{"updated": ISO time, "views": {"<category>/<slug>.html": n}}``

Definitions (also in the README):

* page view: GET answered 200 or 304, for an HTML page of the published site
  (``--site``, default ``output``): the request's path, normalised as nginx
  does (query and fragment dropped, percent-escapes decoded once, slashes
  merged, ``.``/``..`` removed), must be an ``.html`` file of the site or a
  folder with an ``index.html``; not under ``/feeds/``, ``/pagefind/``,
  ``/theme/``, ``/images/``, ``/anh/``, ``/tai-lieu/``, ``/banners/``,
  ``/articles/``; not an error page such as ``/404.html``; by a client that is
  not a bot (empty user agent, or one containing a word of ``BOT_WORDS``);
* visitor: (IP, user agent); visit: a visitor's page views with no gap over
  30 minutes (exactly 30 minutes continues the visit);
* "now": the newest timestamp among all well-formed lines ever read (any
  request), never the machine's clock; but a line dated more than
  MAX_CLOCK_SKEW after the machine's clock is not counted at all;
* online: visitors with a page view in [now - 5 min, now];
* today: visits that began on now's calendar day in Vietnam (UTC+7);
* total: all visits ever counted + a base (``STATS_TOTAL_BASE``);
* views: page views per page (``.html`` pages of the site only, keyed by
  their published URL), cumulative.

Every cost is bounded by the input's size: a line over MAX_LINE_BYTES is
skipped (counted as too long), a gzip file decompressing to more than
MAX_GZIP_RATIO times its size (or MAX_GZIP_BYTES) is refused whole.

Exit status: 0 everything given was read (too long and malformed lines are
skipped, counted in the summary: anyone can send them); 1 something was
refused or could not be read (a file, the site) or lines are dated ahead of
this machine's clock, each named on stderr, the rest counted; 2 nothing
done (damaged state, cannot write).

Usage::

    python plugins/live_widgets/counter.py [--feeds-dir DIR] [--state FILE] [--site DIR]
                                           [--total-base N] LOGFILE...

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import gzip
import hashlib
import json
import os
import re
import secrets
import stat
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from operator import itemgetter
from pathlib import Path
from urllib.parse import unquote

# --- Settings ----------------------------------------------------------------

DEFAULT_FEEDS_DIR = "content/feeds"
DEFAULT_STATE = "cache/stats-state.json"
VISITORS_FEED = "visitors.json"
VIEWS_FEED = "views.json"

VN_OFFSET = 7 * 3600  # Asia/Ho_Chi_Minh: UTC+7, no daylight saving since 1975
VN_TZ = timezone(timedelta(seconds=VN_OFFSET))
VISIT_GAP = 30 * 60  # a longer gap starts a new visit; exactly 30 min continues
ONLINE_WINDOW = 5 * 60  # online = page view in [now - 5 min, now]
# Visitors idle for longer than VISIT_GAP cannot continue a visit; we keep them
# a little longer so that a server whose log lags behind the others (buffered
# writes) still joins lines to the right visit.
VISITOR_KEEP = VISIT_GAP + 10 * 60
DAYS_KEPT = 400  # visits begun per day, kept as a small history
FILE_MEMORY = 31 * 86400  # forget a log file not seen for a month (log time)
# A file is known by the sha256 of its first 4 KiB: a fixed number of bytes,
# wherever its first newline is (a file shorter than that by all its bytes,
# widened as it grows).
FINGERPRINT_BYTES = 4096
CHUNK = 1 << 20
STATE_VERSION = 1
DEFAULT_SITE = "output"

# nginx accepts a request line and each header up to 8 KiB
# (large_client_header_buffers 4 8k): request, referer and agent together stay
# well under 32 KiB. A longer line is no reader's request: it is skipped and
# counted as "too long", in linear time (its bytes are never joined up).
MAX_LINE_BYTES = 32 * 1024
# A gzip log may decompress to at most this many times its size, and never to
# more than MAX_GZIP_BYTES (about a week of the benchmark's busy traffic in one
# file); a file that would is refused whole. Real access logs compress 5-30x
# (a log of nothing but an uptime monitor's lines about 60x); one line repeated
# compresses about 230x, zeros about 1000x.
MAX_GZIP_RATIO = 100
MIN_GZIP_ALLOWANCE = 1 << 20  # a tiny gzip file may still hold a few repeated lines
MAX_GZIP_BYTES = 2 << 30
# A line dated more than this after the machine's clock is not counted: one
# such line would otherwise become "now" and empty online and today for good.
MAX_CLOCK_SKEW = 5 * 60
# Lookups are cached per distinct key; longer keys (long agents, junk
# requests) are recomputed, so the caches stay small whatever the log holds.
CACHE_KEY_MAX = 1024
CACHE_ENTRIES = 200_000

# Paths that are not pages even when they end in "/" or ".html".
EXCLUDED_PREFIXES = ("/feeds/", "/pagefind/", "/theme/", "/images/", "/anh/", "/tai-lieu/", "/banners/", "/articles/")
ERROR_PAGE_RE = re.compile(r"/\d[\dx]{2}\.html\Z", re.IGNORECASE)  # /404.html, /50x.html

# Clients that are not readers: a user agent containing any of these words
# (case-insensitive) is a bot. Substring tests, because one regex alternation
# of fifty words is slow in Python. Real Zalo in-app browsers ("... Zalo
# android/..."), Facebook's in-app browser (FBAN/FBAV) and Cốc Cốc are kept;
# their link previewers (ZaloPC-Bot, "Zalo ... preview", facebookexternalhit,
# coccocbot) are not. "bot" does not match the Cubot phone brand.
BOT_WORDS = (
    "bot", "crawl", "spider", "slurp", "archiver",
    "facebookexternalhit", "facebookcatalog", "meta-externalagent",
    "preview", "whatsapp", "telegram", "viber",  # link previewers (Zalo, Skype, Google Web Preview...)
    "mediapartners-google", "apis-google", "google-inspectiontool", "google-read-aloud",
    "google-site-verification",
    "curl", "wget", "python-requests", "python-urllib", "httpx", "aiohttp",
    "go-http-client", "java/", "okhttp", "libwww", "scrapy", "httpclient", "axios", "node-fetch", "undici",
    "headless", "phantomjs", "puppeteer", "playwright", "selenium", "lighthouse", "pagespeed", "gtmetrix",
    "uptime", "pingdom", "statuscake", "site24x7", "monitor", "check_http", "nagios", "zabbix",
)

# One "combined" line: IP ident user [time] "request" status bytes "referer" "agent"
# (anything after the user agent is ignored). FAST_RE is the same pattern for
# lines without a backslash, i.e. without escaped quotes; it is four times
# faster than the general one.
_TIME = rb"\[(\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\]"
_QUOTED = rb'"([^"\\]*(?:\\.[^"\\]*)*)"'
_QUOTED_SKIP = rb'"(?:[^"\\]*(?:\\.[^"\\]*)*)"'
FULL_RE = re.compile(
    rb"(\S+) \S+ \S+ " + _TIME + rb" " + _QUOTED + rb" (\d{3}) (?:\d+|-) " + _QUOTED_SKIP + rb" " + _QUOTED
)
FAST_RE = re.compile(rb'(\S+) \S+ \S+ ' + _TIME + rb' "([^"]*)" (\d{3}) (?:\d+|-) "[^"]*" "([^"]*)"')

_MONTHS = {m.encode(): i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# --- Parsing ---------------------------------------------------------------------


_minute_cache: dict[bytes, int] = {}


def parse_timestamp(text: bytes | str) -> int:
    """``10/Oct/2020:13:55:36 +0700`` -> Unix seconds (ValueError if invalid).

    No strptime: the date/hour/minute part is converted once per minute and
    cached, seconds are added.
    """
    if isinstance(text, str):
        text = text.encode("ascii")
    if len(text) != 26 or text[20:21] != b" " or text[21:22] not in (b"+", b"-"):
        raise ValueError(f"bad timestamp {text!r}")
    minute = text[:17] + text[20:]
    base = _minute_cache.get(minute)
    if base is None:
        month = _MONTHS.get(text[3:6].capitalize())
        if month is None:
            raise ValueError(f"bad month in {text!r}")
        offset = int(text[22:24]) * 3600 + int(text[24:26]) * 60
        if text[21:22] == b"-":
            offset = -offset
        year = int(text[7:11])
        if year < 1970:  # no web server logs before the epoch; day arithmetic below year 1 would fail
            raise ValueError(f"bad year in {text!r}")
        moment = datetime(year, month, int(text[0:2]), int(text[12:14]), int(text[15:17]),
                          tzinfo=timezone.utc)  # raises ValueError on 31/Feb, 25:00...
        base = int((moment - _EPOCH).total_seconds()) - offset
        if len(_minute_cache) > 100_000:
            _minute_cache.clear()
        _minute_cache[minute] = base
    seconds = int(text[18:20])
    if seconds > 60:
        raise ValueError(f"bad seconds in {text!r}")
    return base + seconds


def is_bot(user_agent: str) -> bool:
    """True for clients that are not readers: empty/``-`` agent, or one of BOT_WORDS."""
    agent = user_agent.strip().lower()
    if agent in ("", "-"):
        return True
    if "cubot" in agent:
        agent = agent.replace("cubot", "")
    return any(word in agent for word in BOT_WORDS)


_NGINX_ESCAPE_RE = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")


def _unescape_nginx(text: str) -> str:
    """nginx logs non-ASCII request bytes as ``\\xHH``; turn them back into text."""
    return _NGINX_ESCAPE_RE.sub(
        lambda m: bytes.fromhex(m.group(0).replace("\\x", "")).decode("utf-8", "replace"), text)


def normalise_path(target: str) -> str | None:
    """The path a request target names once nginx has normalised it, or None.

    The result has no leading slash ("" for the site's root): the query and
    fragment are dropped, nginx's ``\\xHH`` log escapes undone, percent-escapes
    decoded once (``%252e`` stays the text ``%2e``), repeated slashes merged and
    dot segments removed (RFC 3986 5.2.4), as nginx does before serving:
    ``/x/../a.html``, ``//a.html``, ``/%2e/a.html?x=1`` all give ``a.html``.
    ``..`` above the root (nginx answers 400) and targets that are not paths
    (``*``, absolute-form proxy requests, junk) give None.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return None
    if "\\x" in path:
        path = _unescape_nginx(path)
    if "%" in path:
        path = unquote(path, errors="replace")
    parts = path.split("/")[1:]
    segments: list[str] = []
    for part in parts:
        if part == "..":
            if not segments:
                return None
            segments.pop()
        elif part and part != ".":
            segments.append(part)
    if not segments:
        return ""
    # "/a/", "/a/." and "/a/b/.." all name the folder a/, served as a/index.html
    folder = parts[-1] in ("", ".", "..")
    return "/".join(segments) + ("/" if folder else "")


def page_path(target: str) -> str | None:
    """The page a request target names, or None if it cannot be an HTML page.

    The normalised path (see normalise_path) when it ends with ``.html`` or
    ``/`` and is outside EXCLUDED_PREFIXES and the error pages; a folder's
    ``index.html`` is the folder, as published: ``/thoi-su/index.html`` ->
    ``thoi-su/``, ``/`` -> ``""``. Whether the page exists is the site's say
    (PublishedSite).
    """
    path = normalise_path(target)
    if path is None:
        return None
    if path == "index.html" or path.endswith("/index.html"):
        path = path[:-len("index.html")]
    if path and not (path.endswith(".html") or path.endswith("/")):
        return None
    if ("/" + path).startswith(EXCLUDED_PREFIXES) or ERROR_PAGE_RE.match("/" + path):
        return None
    return path


def views_key(page: str) -> str | None:
    """The key a page is counted under in views.json: only ``.html`` pages."""
    return page if page.endswith(".html") else None


def request_page(request: str) -> str | None:
    """``GET /path HTTP/1.1`` -> page path (see page_path), None if not a GET of a page."""
    parts = request.split(" ")
    if len(parts) not in (2, 3) or parts[0] != "GET":
        return None
    return page_path(parts[1])


class SiteError(Exception):
    """The published site cannot be used to tell pages from other requests."""


class PublishedSite:
    """The published site (``output/``): which page paths exist in it.

    Only a path that is an HTML file of the site is a page view, so made-up
    addresses that nginx still answers 200 (a ``try_files`` fallback) count
    nothing and views.json holds at most one key per published ``.html``
    page (articles, pages, banner redirect pages): staff decide its size,
    not whoever sends requests. One stat per distinct path per run, cached.
    """

    def __init__(self, root):
        self.root = Path(root)
        self._real = os.path.realpath(self.root)
        self._cache: dict[str, bool] = {}
        self._folders: dict[str, str] = {}

    def check(self) -> None:
        """Raise SiteError unless the folder holds a built site."""
        if not self.root.is_dir():
            raise SiteError(f"site folder {self.root} not found (or not a folder)")
        if not (self.root / "index.html").is_file():
            raise SiteError(f"site folder {self.root} has no index.html: not a built site")

    def has_page(self, page: str) -> bool:
        """True if ``page`` (see page_path) is a file of the site, symlinks kept inside."""
        found = self._cache.get(page)
        if found is None:
            found = self._lookup(page)
            if len(page) <= CACHE_KEY_MAX:
                if len(self._cache) > CACHE_ENTRIES:
                    self._cache.clear()
                self._cache[page] = found
        return found

    def _lookup(self, page: str) -> bool:
        """One lstat per page; the real path of each folder once (a few dozen
        folders), of the file itself only when it is a symlink."""
        folder, _, name = (page + "index.html" if page == "" or page.endswith("/") else page).rpartition("/")
        try:
            real_folder = self._folders.get(folder)
            if real_folder is None:
                real_folder = os.path.realpath(os.path.join(self._real, folder))
                if len(self._folders) < CACHE_ENTRIES and len(folder) <= CACHE_KEY_MAX:
                    self._folders[folder] = real_folder
            if real_folder != self._real and not real_folder.startswith(self._real + os.sep):
                return False
            file = os.path.join(real_folder, name)
            mode = os.lstat(file).st_mode
            if stat.S_ISLNK(mode):
                real = os.path.realpath(file)
                return real.startswith(self._real + os.sep) and os.path.isfile(real)
            return stat.S_ISREG(mode)
        except (OSError, ValueError):  # missing, NUL byte, name too long
            return False


_day_cache: dict[int, str] = {}


def vn_day(moment: int) -> str:
    """The calendar day in Vietnam (UTC+7) of a Unix time, as ``YYYY-MM-DD``."""
    number = (moment + VN_OFFSET) // 86400
    day = _day_cache.get(number)
    if day is None:
        day = _day_cache[number] = date.fromordinal(number + 719163).isoformat()
    return day


def iso_time(moment: int | None) -> str | None:
    """Unix time -> ``2020-08-14T11:00:00+07:00`` (None stays None)."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, VN_TZ).isoformat()


# --- Visits ---------------------------------------------------------------------------


class Visits:
    """Sessionize page views, in time order, into visits.

    ``visitors`` maps a visitor id to the time of their latest page view (this
    is what carries open visits over from one run to the next); ``days`` maps a
    Vietnamese calendar day to the number of visits that began on it.
    """

    def __init__(self, visitors: dict | None = None, days: dict | None = None, gap: int = VISIT_GAP):
        self.visitors = {} if visitors is None else visitors
        self.days = {} if days is None else days
        self.gap = gap
        self.new_visits = 0

    def add(self, moment: int, visitor) -> bool:
        """Count one page view; True if it begins a new visit.

        A page view within ``gap`` seconds of the visitor's latest one
        continues the visit, also when it comes late (earlier than that latest
        one, from a log read after it).
        """
        last = self.visitors.get(visitor)
        if last is not None and abs(moment - last) <= self.gap:
            if moment > last:
                self.visitors[visitor] = moment
            return False
        if last is None or moment > last:
            self.visitors[visitor] = moment
        day = vn_day(moment)
        self.days[day] = self.days.get(day, 0) + 1
        self.new_visits += 1
        return True


def online_count(visitors: dict, now: int | None) -> int:
    """Visitors whose latest page view is within ONLINE_WINDOW before ``now``."""
    if now is None:
        return 0
    since = now - ONLINE_WINDOW
    return sum(1 for last in visitors.values() if since <= last <= now)


def visitor_id(ip: bytes, agent: bytes) -> str:
    """A pseudonymous visitor id: the state file stores no IP address."""
    return hashlib.blake2b(ip + b"\0" + agent, digest_size=12).hexdigest()


# --- State -------------------------------------------------------------------------


class StateError(Exception):
    """The state file exists but cannot be used (refuse rather than recount)."""


@dataclass
class State:
    newest: int | None = None  # "now": newest well-formed line ever read
    visits: int = 0  # all visits counted (without the base)
    page_views: int = 0
    total_base: int = 0
    days: dict = field(default_factory=dict)  # "YYYY-MM-DD" -> visits begun
    visitors: dict = field(default_factory=dict)  # visitor id -> latest page view
    views: dict = field(default_factory=dict)  # page -> page views
    files: list = field(default_factory=list)  # log files read (see LogFiles)

    @classmethod
    def load(cls, path: Path) -> "State":
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, RecursionError) as error:
            raise StateError(f"cannot read state file {path}: {error}") from error
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise StateError(f"state file {path} has an unknown format")
        try:
            state = cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except KeyError as error:
            raise StateError(f"state file {path} is incomplete: no {error}") from error
        problem = state.problem()
        if problem:
            raise StateError(f"state file {path} is damaged: {problem}")
        return state

    def problem(self) -> str | None:
        """What is wrong with a state read from disk (None: usable), so a damaged
        file is refused with its field named instead of failing half-way."""
        def number(value):  # counts are >= 0; times (Unix seconds) may be anything
            return isinstance(value, int) and not isinstance(value, bool)

        def whole(value):
            return number(value) and value >= 0
        if not (self.newest is None or number(self.newest)):
            return "newest is not a time"
        for name in ("visits", "page_views", "total_base"):
            if not whole(getattr(self, name)):
                return f"{name} is not a whole number"
        for name, valid in (("days", whole), ("visitors", number), ("views", whole)):
            table = getattr(self, name)
            if not isinstance(table, dict) or not all(isinstance(k, str) and valid(v) for k, v in table.items()):
                return f"{name} is not a table of numbers"
        fields = {"fp": str, "fp_len": int, "offset": int, "lines": int, "path": str, "seen": int}
        if not isinstance(self.files, list):
            return "files is not a list"
        for number, entry in enumerate(self.files, 1):
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), kind) for k, kind in fields.items()):
                return f"files entry {number} is incomplete"
        return None

    def to_bytes(self) -> bytes:
        data = {"version": STATE_VERSION, **self.__dict__}
        return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")

    def today(self) -> int:
        return 0 if self.newest is None else self.days.get(vn_day(self.newest), 0)

    def online(self) -> int:
        return online_count(self.visitors, self.newest)

    def total(self) -> int:
        return self.visits + self.total_base

    def prune(self) -> None:
        """Drop what can no longer matter for the numbers."""
        if self.newest is None:
            return
        keep_after = self.newest - VISITOR_KEEP
        self.visitors = {v: t for v, t in self.visitors.items() if t >= keep_after}
        first_day = vn_day(self.newest - DAYS_KEPT * 86400)
        self.days = {d: n for d, n in self.days.items() if d > first_day}
        self.files = [f for f in self.files if f["seen"] >= self.newest - FILE_MEMORY]


def render_feeds(state: State, is_page=None) -> dict[str, bytes]:
    """The feeds' exact contents, derived from the state and, for views.json,
    the pages the site publishes now (``is_page``): keys counted by an earlier
    counter for addresses that are no page, and pages taken down, stay out
    of the feed (their counts stay in the state, should a page come back)."""
    updated = iso_time(state.newest)
    visitors = {"updated": updated, "online": state.online(), "today": state.today(), "total": state.total()}
    shown = state.views.items() if is_page is None else [(k, n) for k, n in state.views.items() if is_page(k)]
    ranked = dict(sorted(shown, key=lambda item: (-item[1], item[0])))
    views = {"updated": updated, "views": ranked}
    return {name: (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
            for name, data in ((VISITORS_FEED, visitors), (VIEWS_FEED, views))}


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: temporary file, fsync, rename.

    The temporary file is new and uniquely named in the same folder
    (``.NAME.<pid>-<random>.tmp``), so two processes writing the same target
    never write into each other's file; it is created with mode 0666 minus
    the umask, like any file the build writes, because the feeds are served
    by nginx as another user. A write that fails leaves no temporary file; one
    killed leaves it behind for remove_leftovers.
    """
    path = Path(path)
    while True:
        temporary = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_dir(path.parent)


def remove_leftovers(path: Path) -> None:
    """Delete the temporary files of writes to ``path`` killed before their rename.

    Only the counter calls this, holding its lock: no other process writes
    its state or its feeds.
    """
    for leftover in Path(path).parent.glob(f".{glob.escape(Path(path).name)}.*tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def sync_feeds(state: State, feeds_dir: Path, is_page=None) -> list[str]:
    """Write the feeds that differ from what the state says; names written."""
    feeds_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in render_feeds(state, is_page).items():
        target = feeds_dir / name
        try:
            if target.read_bytes() == data:
                continue
        except OSError:
            pass
        write_atomic(target, data)
        written.append(name)
    return written


# --- Reading logs ------------------------------------------------------------------


class LogFiles:
    """The log files already read, known by content, not by name.

    Each entry: ``fp`` (sha256 hex of the first ``fp_len`` decompressed bytes:
    the first FINGERPRINT_BYTES, or all of a shorter file, whatever they hold;
    never where the first newline is, so one long line cannot hide a file),
    ``offset`` (decompressed bytes consumed: whole lines, or the skipped start
    of an overlong line), ``skip`` (true while inside an overlong line),
    ``lines`` consumed, ``gz_size`` (compressed size once a gzip file was read
    to its end, else null), ``refused`` (compressed size of a gzip file refused
    as a bomb), ``path`` (name when last seen) and ``seen`` ("now" when last
    seen).

    Renaming, compressing or copying a file keeps its first bytes, so
    ``access.log`` -> ``access.log.1`` -> ``access.log.2.gz`` (and the copy
    made by ``copytruncate``) stay one entry and only bytes after ``offset``
    are ever read; a file truncated in place and written again starts with
    other bytes, so it is a new entry read from its start. The device and
    inode would add nothing: compressing and copying change them.
    """

    def __init__(self, entries: list):
        self.entries = entries
        self._index: dict[int, dict[str, dict]] = {}
        for entry in entries:
            self._index.setdefault(entry["fp_len"], {})[entry["fp"]] = entry

    def find(self, head: bytes) -> dict | None:
        """The known file whose fingerprint this head starts with (longest match)."""
        for length in sorted(self._index, reverse=True):
            if 0 < length <= len(head):
                entry = self._index[length].get(hashlib.sha256(head[:length]).hexdigest())
                if entry is not None:
                    return entry
        return None

    def add(self, head: bytes, path: str) -> dict:
        entry = {"fp": hashlib.sha256(head).hexdigest(), "fp_len": len(head), "offset": 0, "skip": False,
                 "lines": 0, "gz_size": None, "path": path, "seen": 0}
        self.entries.append(entry)
        self._index.setdefault(entry["fp_len"], {})[entry["fp"]] = entry
        return entry

    def widen(self, entry: dict, head: bytes) -> None:
        """A file first seen shorter than 4 KiB gets the full-length fingerprint."""
        if len(head) <= entry["fp_len"]:
            return
        digest = hashlib.sha256(head).hexdigest()
        if digest in self._index.get(len(head), {}):
            return
        del self._index[entry["fp_len"]][entry["fp"]]
        entry["fp"], entry["fp_len"] = digest, len(head)
        self._index.setdefault(len(head), {})[digest] = entry


class LineSplitter:
    """Cut a byte stream into lines in linear time, whatever it holds.

    ``feed(chunk)`` returns the lines that end in ``chunk``; a line longer
    than ``limit`` comes out as None as soon as it passes the limit, and the
    rest of it is dropped up to its newline without ever being joined up
    (joining an endless run of bytes chunk after chunk is what made it
    quadratic). ``consumed`` is the number of bytes behind everything
    returned: where the next run goes on, with ``skipping`` saying it is
    still inside an overlong line.
    """

    def __init__(self, skipping: bool = False, limit: int = MAX_LINE_BYTES):
        self.limit = limit
        self.skipping = skipping
        self.consumed = 0
        self._pending: list[bytes] = []
        self._pending_len = 0

    def feed(self, chunk: bytes) -> list[bytes | None]:
        out: list[bytes | None] = []
        start = 0
        if self.skipping:
            end = chunk.find(b"\n")
            if end < 0:
                self.consumed += len(chunk)
                return out
            self.consumed += end + 1
            start, self.skipping = end + 1, False
        last = chunk.rfind(b"\n", start)
        if last < 0:
            self._hold(chunk, start, out)
            return out
        if self._pending:
            first = chunk.find(b"\n", start)
            self._pending.append(chunk[start:first])
            line = b"".join(self._pending)
            self._pending, self._pending_len = [], 0
            out.append(line if len(line) <= self.limit else None)
            self.consumed += len(line) + 1
            start = first + 1
        if start <= last:
            lines = chunk[start:last].split(b"\n")
            if max(map(len, lines)) <= self.limit:
                out.extend(lines)
            else:
                out.extend(line if len(line) <= self.limit else None for line in lines)
            self.consumed += last + 1 - start
        self._hold(chunk, last + 1, out)
        return out

    def finish(self) -> list[bytes]:
        """The unterminated last line of a file known to be complete (gzip)."""
        if not self._pending:
            return []
        line = b"".join(self._pending)
        self._pending, self._pending_len = [], 0
        self.consumed += len(line)
        return [line]

    def _hold(self, chunk: bytes, start: int, out: list) -> None:
        """Keep the unfinished end of ``chunk``, or give up on a line past the limit."""
        size = len(chunk) - start
        if not size:
            return
        if self._pending_len + size > self.limit:
            out.append(None)
            self.consumed += self._pending_len + size
            self._pending, self._pending_len = [], 0
            self.skipping = True
        else:
            self._pending.append(chunk[start:])
            self._pending_len += size


def gzip_allowance(compressed_size: int) -> int:
    """How many decompressed bytes a gzip file of this size may give."""
    return min(MAX_GZIP_BYTES, max(MIN_GZIP_ALLOWANCE, MAX_GZIP_RATIO * compressed_size))


class Refused(Exception):
    """A log file not counted at all; the message says why."""


class NotALog(OSError):
    """A folder, a device or a pipe given as a log: reading it would never end or fail."""


def open_log(path: str):
    """Open a log for binary reading, gunzipping it if it starts with gzip's magic.

    Only regular files: O_NONBLOCK so that a pipe given by mistake does not
    block the open, and /dev/zero or a folder are refused, not read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotALog(path)
    raw = os.fdopen(fd, "rb")
    try:
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            return gzip.GzipFile(fileobj=raw, mode="rb"), raw, True
        raw.seek(0)
        return raw, raw, False
    except BaseException:
        raw.close()
        raise


# Lines not counted, by kind: what the per-file message says about them.
REJECTIONS = {
    "malformed": 'not a line of the "combined" log format: skipped',
    "too_long": f"line longer than {MAX_LINE_BYTES} bytes: skipped",
    "future": "dated [{when}], more than {skew} minutes after this machine's clock ({clock}): not counted",
}


class Scanner:
    """Read new lines from log files and collect page views (not yet sessionized)."""

    def __init__(self, files: LogFiles, site: PublishedSite, clock: float):
        self.files = files
        self.site = site
        self.clock = int(clock)
        self.horizon = int(clock) + MAX_CLOCK_SKEW  # later lines are not counted
        self.events: list[tuple[int, bytes, str | None]] = []  # (time, ip\0agent, views key)
        self.newest: int | None = None
        self.lines = 0
        self.rejected = dict.fromkeys(REJECTIONS, 0)
        self.files_given = 0
        self.files_read = 0  # files opened and checked (new data or not)
        self.unchanged = 0
        self.failed = 0  # unreadable, damaged or refused: the exit status says so
        self.changed = False  # anything to record in the state
        self.messages: list[str] = []
        self.used: list[dict] = []  # entries of the files given this run
        self._notes: dict[str, list] = {}  # this file's rejections: kind -> [first line, count, detail]
        self._time_cache: dict[bytes, int] = {}
        self._request_cache: dict[bytes, str | None | bool] = {}
        self._agent_cache: dict[bytes, bool] = {}
        self._visitor_keys: dict[bytes, bytes] = {}

    @property
    def malformed(self) -> int:
        return self.rejected["malformed"]

    def scan(self, path: str) -> None:
        self.files_given += 1
        try:
            handle, raw, compressed = open_log(path)
        except NotALog:
            self._fail(f"stats: {path}: not a log file (a folder, a device or a pipe): skipped")
            return
        except OSError as error:
            self._fail(f"stats: {path}: cannot read ({error.strerror or error}): skipped, nothing counted from it")
            return
        self._notes = {}
        try:
            self._scan_open(path, handle, raw, compressed)
        finally:
            handle.close()
            raw.close()
            self._report_notes(path)

    def _fail(self, message: str) -> None:
        self.failed += 1
        self.messages.append(message)

    def _scan_open(self, path, handle, raw, compressed) -> None:
        try:
            head = handle.read(FINGERPRINT_BYTES)
        except (OSError, EOFError, zlib.error) as error:
            self._fail(f"stats: {path}: cannot read ({error}): skipped, nothing counted from it")
            return
        self.files_read += 1
        size = os.fstat(raw.fileno()).st_size
        if not head:
            self.unchanged += 1  # empty: nothing to read, nothing to know it by
            return
        entry = self.files.find(head)
        if entry is None:
            entry = self.files.add(head, path)
            self.changed = True
        elif len(head) > entry["fp_len"]:
            self.files.widen(entry, head)
            self.changed = True
        if entry["path"] != path:
            entry["path"] = path
            self.changed = True
        self.used.append(entry)
        if compressed and entry.get("refused") == size:
            self._fail(f"stats: {path}: refused by an earlier run (see its message); "
                       "still not counted: remove or replace the file")
            return
        if compressed and entry["gz_size"] == size:
            self.unchanged += 1  # a gzip file read to its end earlier: cannot have grown
            return
        if not compressed and size <= entry["offset"]:
            self.unchanged += 1
            return
        saved = (len(self.events), self.lines, dict(self.rejected), self.newest,
                 entry["offset"], entry["lines"], entry.get("skip", False))
        try:
            self._read_new(path, handle, entry, gzip_allowance(size) if compressed else None)
        except Refused as refused:
            # None of this file counts: undo what it added in this run.
            events, self.lines, self.rejected, self.newest, *kept = saved
            del self.events[events:]
            entry["offset"], entry["lines"], entry["skip"] = kept
            entry["refused"] = size
            self._notes = {}
            self.changed = True
            self._fail(f"stats: {path}: {refused}: refused, nothing counted from it")
            return
        except EOFError:
            # A gzip file still being written by logrotate: keep the whole
            # lines read so far, the rest is read on the next run.
            self.messages.append(f"stats: {path}: compressed data ends early (still being written?): "
                                 f"counted up to byte {entry['offset']}, the rest on the next run")
            return
        except (OSError, zlib.error) as error:
            self._fail(f"stats: {path}: cannot read past byte {entry['offset']} ({error}): "
                       "what came before is counted, the rest is tried again on the next run")
            return
        if compressed:
            entry["gz_size"] = size
            entry.pop("refused", None)
            self.changed = True

    def _read_new(self, path, handle, entry, allowance) -> None:
        """Count the lines after the entry's offset, recording progress after each chunk."""
        start = entry["offset"]
        splitter = LineSplitter(entry.get("skip", False))
        handle.seek(start)
        position = start
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            position += len(chunk)
            if allowance is not None and position > allowance:
                raise Refused(f"decompresses to more than {allowance} bytes "
                              f"(limit: {MAX_GZIP_RATIO} times its size, at most {MAX_GZIP_BYTES})")
            self._take(splitter.feed(chunk), entry, start + splitter.consumed, splitter.skipping)
        if allowance is not None:  # a finished gzip file: its last line counts even without "\n"
            self._take(splitter.finish(), entry, start + splitter.consumed, False)

    def _take(self, lines, entry, offset, skipping) -> None:
        if lines:
            self._scan_lines(lines, entry["lines"])
            entry["lines"] += len(lines)
        if offset != entry["offset"] or skipping != entry.get("skip", False):
            entry["offset"], entry["skip"] = offset, skipping
            self.changed = True

    def _note(self, kind: str, number: int, count: int, detail: dict | None = None) -> None:
        """Remember this file's first rejected line of a kind (its number) and how many."""
        note = self._notes.get(kind)
        if note is None:
            self._notes[kind] = [number, count, detail or {}]
        else:
            note[1] += count

    def _report_notes(self, path: str) -> None:
        for kind, (number, count, detail) in sorted(self._notes.items(), key=lambda item: item[1][0]):
            more = f" (and {count - 1} more in this file)" if count > 1 else ""
            self.messages.append(f"stats: {path}:{number}: {REJECTIONS[kind].format(**detail)}{more}")
        self._notes = {}

    def _scan_lines(self, lines: list, before: int) -> None:
        """The hot loop: one regex per line, caches for everything else.

        ``before``: lines of this file before these, for the line numbers of
        the messages. A None is a line over MAX_LINE_BYTES.
        """
        fast, full = FAST_RE.match, FULL_RE.match
        times, requests, agents = self._time_cache, self._request_cache, self._agent_cache
        visitors = self._visitor_keys
        append = self.events.append
        newest = -1 if self.newest is None else self.newest
        horizon = self.horizon
        last_stamp, last_time = None, 0
        malformed = too_long = future = 0
        first_malformed = first_future = None
        for line in lines:
            if line is None:
                too_long += 1
                continue
            match = full(line) if b"\\" in line else fast(line)
            if match is None:
                if first_malformed is None:
                    first_malformed = line
                malformed += 1
                continue
            ip, stamp, request, status, agent = match.groups()
            if stamp == last_stamp:
                moment = last_time
            else:
                moment = times.get(stamp)
                if moment is None:
                    try:
                        moment = parse_timestamp(stamp)
                    except ValueError:
                        if first_malformed is None:
                            first_malformed = line
                        malformed += 1
                        continue
                    if len(times) > CACHE_ENTRIES:
                        times.clear()
                    times[stamp] = moment
                last_stamp, last_time = stamp, moment
            if moment > horizon:
                if first_future is None:
                    first_future = (line, stamp)
                future += 1
                continue
            if moment > newest:
                newest = moment
            if (status != b"200" and status != b"304") or not request.startswith(b"GET "):
                continue
            # The request's views key (str), None for a page not counted in
            # views.json, True for a request that is not a page view.
            key = requests.get(request, False)
            if key is False:
                page = request_page(request.decode("utf-8", "replace"))
                key = True if page is None or not self.site.has_page(page) else views_key(page)
                if len(request) <= CACHE_KEY_MAX:
                    if len(requests) > CACHE_ENTRIES:
                        requests.clear()
                    requests[request] = key
            if key is True:
                continue
            bot = agents.get(agent)
            if bot is None:
                bot = is_bot(agent.decode("utf-8", "replace"))
                if len(agent) <= CACHE_KEY_MAX:
                    if len(agents) > CACHE_ENTRIES:
                        agents.clear()
                    agents[agent] = bot
            if bot:
                continue
            who = ip + b"\0" + agent
            append((moment, visitors.setdefault(who, who), key))  # one bytes object per visitor
        self.lines += len(lines)
        # The first rejected line of each kind is found again by value: an
        # equal line earlier in the batch would have been rejected the same way.
        if malformed:
            self._note("malformed", before + lines.index(first_malformed) + 1, malformed)
        if too_long:
            self._note("too_long", before + lines.index(None) + 1, too_long)
        if future:
            line, when = first_future  # the log's own text: a year 9999 has no ISO form after +7 hours
            self._note("future", before + lines.index(line) + 1, future,
                       {"when": when.decode("ascii"), "skew": MAX_CLOCK_SKEW // 60, "clock": iso_time(self.clock)})
        for kind, number in (("malformed", malformed), ("too_long", too_long), ("future", future)):
            self.rejected[kind] += number
        if newest >= 0:
            self.newest = newest


# --- A run ----------------------------------------------------------------------------


@dataclass
class Summary:
    files: int = 0
    unchanged: int = 0
    failed: int = 0
    lines: int = 0
    malformed: int = 0
    too_long: int = 0
    future: int = 0
    page_views: int = 0
    visits: int = 0
    online: int = 0
    today: int = 0
    total: int = 0
    # 0: all read; 1: something refused or unreadable (a file, the site), or
    # lines dated in the future: look at the messages; 2: nothing done
    # (damaged state, cannot write).
    exit_code: int = 0
    locked: bool = False  # another run was in progress: nothing done
    counted: bool = True  # False: refused before reading (no site, damaged state): no summary line
    messages: list = field(default_factory=list)

    def line(self) -> str:
        files = f"{self.files} files"
        if self.unchanged:
            files += f" ({self.unchanged} unchanged)"
        if self.failed:
            files += f", {self.failed} unreadable or refused"
        skipped = f"{self.malformed} malformed skipped"
        if self.too_long:
            skipped += f", {self.too_long} too long skipped"
        if self.future:
            skipped += f", {self.future} dated in the future skipped"
        return (f"stats: {files}, {self.lines} lines read, {skipped}, "
                f"{self.page_views} page views, {self.visits} visits; "
                f"online {self.online}, today {self.today}, total {self.total}")


class Locked(Exception):
    pass


def _lock(state_path: Path):
    handle = open(state_path.with_name(state_path.name + ".lock"), "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise Locked(handle.name) from None
    return handle


def forget_the_future(state: State, horizon: int) -> bool:
    """Undo what lines dated after ``horizon`` did to a state (earlier versions
    counted them): "now" falls back to the newest time left, so online and
    today come back. True if anything changed."""
    if state.newest is None or state.newest <= horizon:
        return False
    state.visitors = {v: t for v, t in state.visitors.items() if t <= horizon}
    last_day = vn_day(horizon)
    state.days = {d: n for d, n in state.days.items() if d <= last_day}
    for entry in state.files:
        entry["seen"] = min(entry["seen"], horizon)
    state.newest = max(state.visitors.values(), default=None)
    return True


def run(logs, feeds_dir=DEFAULT_FEEDS_DIR, state_path=DEFAULT_STATE, total_base: int | None = None,
        site=DEFAULT_SITE, clock: float | None = None) -> Summary:
    """Count the new lines of ``logs``, update the state, then the feeds.

    ``site`` is the published site: only its pages are counted (see
    PublishedSite). Without a built site there nothing is read: the new
    lines wait, uncounted, for a run that has one (a build swapping output/
    in, a first deployment). ``clock`` (default: this machine's) bounds the
    lines' dates, see MAX_CLOCK_SKEW.

    Crash safety: the state (counts, visitors, file offsets) is replaced
    atomically first; the feeds are a pure function of it, rewritten whenever
    they differ from it, on every run. A run killed before the state is
    replaced changed nothing; one killed after it has its feeds brought up to
    date by the next run, which finds nothing new to count.
    """
    feeds_dir, state_path = Path(feeds_dir), Path(state_path)
    clock = time.time() if clock is None else clock
    summary = Summary()
    published = PublishedSite(site)
    try:
        published.check()
    except SiteError as error:
        summary.messages.append(f"stats: {error}: nothing counted, the new lines wait for the next run "
                                f"(build the site first, or give its folder with --site)")
        summary.exit_code, summary.counted = 1, False
        return summary
    state_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = _lock(state_path)
    except Locked as locked:
        summary.messages.append(f"stats: another run holds {locked}; nothing done")
        summary.locked, summary.counted = True, False
        return summary
    try:
        try:
            state = State.load(state_path)
        except StateError as error:
            summary.messages.append(f"stats: {error}: nothing done (restore it from a backup, or delete it "
                                    "to count every log from its start again)")
            summary.exit_code, summary.counted = 2, False
            return summary
        for target in (state_path, feeds_dir / VISITORS_FEED, feeds_dir / VIEWS_FEED):
            remove_leftovers(target)
        horizon = int(clock) + MAX_CLOCK_SKEW
        changed = forget_the_future(state, horizon)
        if changed:
            summary.messages.append(f"stats: {state_path}: its latest time was after this machine's clock "
                                    f"({iso_time(int(clock))}): lines dated in the future no longer count")
        if total_base is not None and total_base != state.total_base:
            state.total_base, changed = total_base, True
        # Keys an earlier counter made of unnormalised addresses (x/../a.html)
        # can never be a published URL: drop them.
        views = {key: n for key, n in state.views.items() if page_path("/" + key) == key}
        if len(views) != len(state.views):
            state.views, changed = views, True

        files = LogFiles(state.files)
        scanner = Scanner(files, published, clock)
        seen_paths = set()
        for log in logs:
            real = os.path.realpath(log)
            if real in seen_paths:
                continue
            seen_paths.add(real)
            scanner.scan(str(log))
        changed = changed or scanner.changed

        if scanner.newest is not None and (state.newest is None or scanner.newest > state.newest):
            state.newest = scanner.newest
        # Sort all new page views by time (servers' logs interleave), then
        # sessionize them on top of the visits still open from earlier runs.
        events = scanner.events
        events.sort(key=itemgetter(0))
        visits = Visits(state.visitors, state.days)
        ids: dict[bytes, str] = {}
        views = state.views
        for moment, who, key in events:
            vid = ids.get(who)
            if vid is None:
                ip, _, agent = who.partition(b"\0")
                vid = ids[who] = visitor_id(ip, agent)
            visits.add(moment, vid)
            if key is not None:
                views[key] = views.get(key, 0) + 1
        state.visits += visits.new_visits
        state.page_views += len(events)
        for entry in scanner.used:
            if state.newest is not None and entry["seen"] != state.newest:
                entry["seen"], changed = state.newest, True
        if changed:
            state.prune()
            write_atomic(state_path, state.to_bytes())
        if state.newest is not None:  # no feed before the first well-formed line: no "updated" yet
            sync_feeds(state, feeds_dir, published.has_page)

        summary.files = scanner.files_given
        summary.unchanged, summary.failed = scanner.unchanged, scanner.failed
        summary.lines = scanner.lines
        summary.malformed, summary.too_long, summary.future = (
            scanner.rejected["malformed"], scanner.rejected["too_long"], scanner.rejected["future"])
        summary.page_views, summary.visits = len(events), visits.new_visits
        summary.online, summary.today, summary.total = state.online(), state.today(), state.total()
        summary.messages.extend(scanner.messages)
        # Exit 1 for what an operator must see to: a file not read, or lines
        # dated ahead of this machine (nginx writes the dates itself, so a
        # server's clock is wrong). Too long and malformed lines are what
        # anyone on the internet can send: counted in the summary, exit 0.
        if scanner.failed or summary.future:
            summary.exit_code = 1
        if scanner.files_read == 0:
            summary.messages.append("stats: no log file could be read: nothing counted")
            summary.exit_code = 1
        return summary
    finally:
        lock.close()


# --- Command line ---------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="counter.py",
        description="Count visitors and page views from access logs (combined format, "
                    "plain or gzip) into visitors.json and views.json.")
    parser.add_argument("logs", nargs="+", metavar="LOGFILE", help="access logs, e.g. /var/log/nginx/access.log*")
    parser.add_argument("--feeds-dir", default=DEFAULT_FEEDS_DIR,
                        help=f"where visitors.json and views.json go (default {DEFAULT_FEEDS_DIR})")
    parser.add_argument("--state", default=DEFAULT_STATE, help=f"state file (default {DEFAULT_STATE})")
    parser.add_argument("--site", default=DEFAULT_SITE,
                        help=f"the published site: only its pages are counted (default {DEFAULT_SITE})")
    parser.add_argument("--total-base", type=int, default=None,
                        help="added to the visits counted for 'total' (default: $STATS_TOTAL_BASE, "
                             "else the value saved in the state, else 0)")
    args = parser.parse_args(argv)
    base = args.total_base
    if base is None and os.environ.get("STATS_TOTAL_BASE", "").strip():
        try:
            base = int(os.environ["STATS_TOTAL_BASE"])
        except ValueError:
            parser.error(f"STATS_TOTAL_BASE is not a whole number: {os.environ['STATS_TOTAL_BASE']!r}")
    if base is not None and base < 0:
        parser.error(f"the total base must not be negative: {base}")
    try:
        summary = run(args.logs, args.feeds_dir, args.state, base, args.site)
    except OSError as error:  # cannot write the state or the feeds
        print(f"stats: cannot write {error.filename or ''}: {error.strerror or error}; "
              "the next run tries again (nothing is counted twice)", file=sys.stderr)
        return 2
    for message in summary.messages:
        print(message, file=sys.stderr)
    if summary.counted:
        print(summary.line(), file=sys.stderr)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
