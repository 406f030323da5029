"""Visitor and page-view counter: web-server access logs -> two JSON feeds.

The site is static, so its live numbers come from the web servers' access
logs ("combined" format, plain or gzip). Every run reads only what is new
since the previous run and writes:

* ``visitors.json``: ``{"updated": ISO time, "online": n, "today": n, "total": n}``
* ``views.json``: ``{"updated": ISO time, "views": {"<category>/<slug>.html": n}}``

Definitions (also in the README):

* page view: GET answered 200 or 304, for an HTML page of the site (path ends
  with ``.html`` or ``/`` once the query string is stripped; not under
  ``/feeds/``, ``/pagefind/``, ``/theme/``, ``/images/``, ``/anh/``, ``/tai-lieu/``, ``/banners/``,
  ``/articles/``; not an error page such as ``/404.html``), by a client that is
  not a bot (empty user agent, or one containing a word of ``BOT_WORDS``);
* visitor: (IP, user agent); visit: a visitor's page views with no gap over
  30 minutes (exactly 30 minutes continues the visit);
* "now": the newest timestamp among all well-formed lines ever read (any
  request), never the machine's clock;
* online: visitors with a page view in [now - 5 min, now];
* today: visits that began on now's calendar day in Vietnam (UTC+7);
* total: all visits ever counted + a base (``STATS_TOTAL_BASE``);
* views: page views per page (``.html`` paths only), cumulative.

Usage::

    python plugins/live_widgets/counter.py [--feeds-dir DIR] [--state FILE]
                                           [--total-base N] LOGFILE...

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import fcntl
import gzip
import hashlib
import json
import os
import re
import sys
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
FINGERPRINT_BYTES = 4096  # a file is known by the sha256 of its first 4 KiB
CHUNK = 1 << 20
STATE_VERSION = 1

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
        moment = datetime(int(text[7:11]), month, int(text[0:2]), int(text[12:14]), int(text[15:17]),
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


def page_path(target: str) -> str | None:
    """The page a request target names, or None if it is not an HTML page.

    Returns the percent-decoded path without its leading slash, the query
    string and fragment dropped and repeated slashes merged (as nginx does):
    ``/xay-dung-dang/bai.html?fbclid=1`` -> ``xay-dung-dang/bai.html``,
    ``/`` -> ``""``, ``/thoi-su/`` -> ``thoi-su/``.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return None  # "*", absolute-form proxy requests, junk
    if "\\x" in path:
        path = _unescape_nginx(path)
    path = unquote(path, errors="replace")
    if "//" in path:
        path = re.sub("/{2,}", "/", path)
    if not (path.endswith(".html") or path.endswith("/")):
        return None
    if path.startswith(EXCLUDED_PREFIXES) or ERROR_PAGE_RE.match(path):
        return None
    return path[1:]


def views_key(page: str) -> str | None:
    """The key a page is counted under in views.json: only ``.html`` pages."""
    return page if page.endswith(".html") else None


def request_page(request: str) -> str | None:
    """``GET /path HTTP/1.1`` -> page path (see page_path), None if not a GET of a page."""
    parts = request.split(" ")
    if len(parts) not in (2, 3) or parts[0] != "GET":
        return None
    return page_path(parts[1])


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
        except (OSError, ValueError) as error:
            raise StateError(f"cannot read state file {path}: {error}") from error
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise StateError(f"state file {path} has an unknown format")
        try:
            return cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except (KeyError, TypeError) as error:
            raise StateError(f"state file {path} is incomplete: {error}") from error

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


def render_feeds(state: State) -> dict[str, bytes]:
    """The feeds' exact contents, derived from the state alone."""
    updated = iso_time(state.newest)
    visitors = {"updated": updated, "online": state.online(), "today": state.today(), "total": state.total()}
    ranked = dict(sorted(state.views.items(), key=lambda item: (-item[1], item[0])))
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

    The temporary name is fixed (``.NAME.tmp``): runs hold a lock, so a
    leftover of a killed run is simply overwritten by the next one.
    """
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def sync_feeds(state: State, feeds_dir: Path) -> list[str]:
    """Write the feeds that differ from what the state says; names written."""
    feeds_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in render_feeds(state).items():
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

    Each entry: ``fp`` (sha256 hex of the first ``fp_len`` decompressed bytes,
    ``fp_len`` <= 4096), ``offset`` (decompressed bytes consumed: whole lines
    only), ``lines`` consumed, ``gz_size`` (compressed size once a gzip file was
    read to its end, else null), ``path`` (name when last seen) and ``seen``
    ("now" when last seen). Renaming or compressing a file keeps its first
    bytes, so ``access.log`` -> ``access.log.1`` -> ``access.log.2.gz`` stay one
    entry and only bytes after ``offset`` are ever read.
    """

    def __init__(self, entries: list):
        self.entries = entries
        self._index: dict[int, dict[str, dict]] = {}
        for entry in entries:
            self._index.setdefault(entry["fp_len"], {})[entry["fp"]] = entry

    def find(self, head: bytes) -> dict | None:
        """The known file whose fingerprint this head starts with (longest match)."""
        for length in sorted(self._index, reverse=True):
            if length <= len(head):
                entry = self._index[length].get(hashlib.sha256(head[:length]).hexdigest())
                if entry is not None:
                    return entry
        return None

    def add(self, head: bytes, path: str) -> dict:
        entry = {"fp": hashlib.sha256(head).hexdigest(), "fp_len": len(head), "offset": 0,
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


def open_log(path: str):
    """Open a log for binary reading, gunzipping it if it starts with gzip's magic."""
    raw = open(path, "rb")
    try:
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            return gzip.GzipFile(fileobj=raw, mode="rb"), raw, True
        raw.seek(0)
        return raw, raw, False
    except BaseException:
        raw.close()
        raise


class Scanner:
    """Read new lines from log files and collect page views (not yet sessionized)."""

    def __init__(self, files: LogFiles):
        self.files = files
        self.events: list[tuple[int, bytes, str | None]] = []  # (time, ip\0agent, views key)
        self.newest: int | None = None
        self.lines = 0
        self.malformed = 0
        self.files_read = 0  # files opened and checked (new data or not)
        self.unchanged = 0
        self.failed = 0
        self.changed = False  # anything to record in the state
        self.messages: list[str] = []
        self.used: list[dict] = []  # entries of the files given this run
        self._time_cache: dict[bytes, int] = {}
        self._request_cache: dict[bytes, str | None | bool] = {}
        self._agent_cache: dict[bytes, bool] = {}
        self._visitor_keys: dict[bytes, bytes] = {}

    def scan(self, path: str) -> None:
        try:
            handle, raw, compressed = open_log(path)
        except OSError as error:
            self.failed += 1
            self.messages.append(f"stats: cannot read {path}: {error.strerror or error}; skipped")
            return
        try:
            self._scan_open(path, handle, raw, compressed)
        finally:
            handle.close()
            raw.close()

    def _scan_open(self, path, handle, raw, compressed) -> None:
        try:
            head = handle.read(FINGERPRINT_BYTES)
        except (OSError, EOFError, zlib.error) as error:
            self.failed += 1
            self.messages.append(f"stats: cannot read {path}: {error}; skipped")
            return
        self.files_read += 1
        size = os.fstat(raw.fileno()).st_size
        entry = self.files.find(head)
        if entry is None:
            if b"\n" not in head:
                self.unchanged += 1  # empty, or a first line still being written
                return
            entry = self.files.add(head, path)
            self.changed = True
        elif len(head) > entry["fp_len"]:
            self.files.widen(entry, head)
            self.changed = True
        if entry["path"] != path:
            entry["path"] = path
            self.changed = True
        self.used.append(entry)
        if compressed and entry["gz_size"] == size:
            self.unchanged += 1  # a gzip file read to its end earlier: cannot have grown
            return
        if not compressed and size <= entry["offset"]:
            self.unchanged += 1
            return
        offset = entry["offset"]
        try:
            handle.seek(offset)
            buffer = b""
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                data = buffer + chunk if buffer else chunk
                lines = data.split(b"\n")
                buffer = lines.pop()
                if lines:
                    self._scan_lines(lines)
                    offset += len(data) - len(buffer)
                    entry["offset"], entry["lines"] = offset, entry["lines"] + len(lines)
                    self.changed = True
            if compressed:
                # A finished gzip file: its last line counts even without "\n".
                if buffer:
                    self._scan_lines([buffer])
                    entry["offset"], entry["lines"] = offset + len(buffer), entry["lines"] + 1
                entry["gz_size"] = size
                self.changed = True
        except (OSError, EOFError, zlib.error) as error:
            # e.g. a gzip file still being written by logrotate: keep the whole
            # lines read so far, the rest is read on the next run.
            self.messages.append(
                f"stats: {path}: {error}; read up to byte {entry['offset']}, the rest on the next run")

    def _scan_lines(self, lines: list[bytes]) -> None:
        """The hot loop: one regex per line, caches for everything else."""
        fast, full = FAST_RE.match, FULL_RE.match
        times, requests, agents = self._time_cache, self._request_cache, self._agent_cache
        visitors = self._visitor_keys
        append = self.events.append
        newest = -1 if self.newest is None else self.newest
        last_stamp, last_time = None, 0
        malformed = 0
        for line in lines:
            match = full(line) if b"\\" in line else fast(line)
            if match is None:
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
                        malformed += 1
                        continue
                    if len(times) > 200_000:
                        times.clear()
                    times[stamp] = moment
                last_stamp, last_time = stamp, moment
            if moment > newest:
                newest = moment
            if (status != b"200" and status != b"304") or not request.startswith(b"GET "):
                continue
            # The request's views key (str), None for a page not counted in
            # views.json, True for a request that is not a page view.
            key = requests.get(request, False)
            if key is False:
                page = request_page(request.decode("utf-8", "replace"))
                key = True if page is None else views_key(page)  # True: not a page
                if len(requests) > 200_000:
                    requests.clear()
                requests[request] = key
            if key is True:
                continue
            bot = agents.get(agent)
            if bot is None:
                bot = is_bot(agent.decode("utf-8", "replace"))
                if len(agents) > 200_000:
                    agents.clear()
                agents[agent] = bot
            if bot:
                continue
            who = ip + b"\0" + agent
            append((moment, visitors.setdefault(who, who), key))  # one bytes object per visitor
        self.lines += len(lines)
        self.malformed += malformed
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
    page_views: int = 0
    visits: int = 0
    online: int = 0
    today: int = 0
    total: int = 0
    exit_code: int = 0
    locked: bool = False  # another run was in progress: nothing done
    messages: list = field(default_factory=list)

    def line(self) -> str:
        files = f"{self.files} files"
        if self.unchanged:
            files += f" ({self.unchanged} unchanged)"
        if self.failed:
            files += f", {self.failed} unreadable"
        return (f"stats: {files}, {self.lines} lines read, {self.malformed} malformed skipped, "
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


def run(logs, feeds_dir=DEFAULT_FEEDS_DIR, state_path=DEFAULT_STATE, total_base: int | None = None) -> Summary:
    """Count the new lines of ``logs``, update the state, then the feeds.

    Crash safety: the state (counts, visitors, file offsets) is replaced
    atomically first; the feeds are a pure function of it, rewritten whenever
    they differ from it, on every run. A run killed before the state is
    replaced changed nothing; one killed after it has its feeds brought up to
    date by the next run, which finds nothing new to count.
    """
    feeds_dir, state_path = Path(feeds_dir), Path(state_path)
    summary = Summary()
    state_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = _lock(state_path)
    except Locked as locked:
        summary.messages.append(f"stats: another run holds {locked}; nothing done")
        summary.locked = True
        return summary
    try:
        try:
            state = State.load(state_path)
        except StateError as error:
            summary.messages.append(f"stats: {error}")
            summary.exit_code = 2
            return summary
        changed = False
        if total_base is not None and total_base != state.total_base:
            state.total_base, changed = total_base, True

        files = LogFiles(state.files)
        scanner = Scanner(files)
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
            sync_feeds(state, feeds_dir)

        summary.files = scanner.files_read + scanner.failed
        summary.unchanged, summary.failed = scanner.unchanged, scanner.failed
        summary.lines, summary.malformed = scanner.lines, scanner.malformed
        summary.page_views, summary.visits = len(events), visits.new_visits
        summary.online, summary.today, summary.total = state.online(), state.today(), state.total()
        summary.messages.extend(scanner.messages)
        if scanner.files_read == 0:
            summary.messages.append("stats: no log file could be read")
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
    try:
        summary = run(args.logs, args.feeds_dir, args.state, base)
    except OSError as error:  # cannot write the state or the feeds
        print(f"stats: {error}", file=sys.stderr)
        return 2
    for message in summary.messages:
        print(message, file=sys.stderr)
    if summary.exit_code != 2 and not summary.locked:
        print(summary.line(), file=sys.stderr)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
