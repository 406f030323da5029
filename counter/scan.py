"""New lines of the log files -> page views and clicks (not yet sessionized)."""

from __future__ import annotations

import os
import zlib

from .logfiles import (CHUNK, FINGERPRINT_BYTES, MAX_LINE_BYTES, LineSplitter, LogFiles, NotALog, Refused,
                       check_allowance, gzip_allowance, open_log)
from .logline import FAST_RE, FULL_RE, is_bot, parse_timestamp, request_path
from .pages import CLICK, Registry
from .visits import iso_time

# A line dated more than this after the machine's clock is not counted: one
# such line would otherwise become "now" and empty online and today for good.
MAX_CLOCK_SKEW = 5 * 60
# Lookups are cached per distinct key; longer keys (long agents, junk
# requests) are recomputed, so the caches stay small whatever the log holds.
CACHE_KEY_MAX = 1024
CACHE_ENTRIES = 200_000

# Lines not counted, by kind: what the per-file message says about them.
REJECTIONS = {
    "malformed": 'not a line of the "combined" log format: skipped',
    "too_long": f"line longer than {MAX_LINE_BYTES} bytes: skipped",
    "future": "dated [{when}], more than {skew} minutes after this machine's clock ({clock}): not counted",
}
_MISSING = object()


def _remember(cache: dict, key: bytes, value) -> None:
    """Cache ``value`` under ``key`` unless the key is too long; a full cache starts again."""
    if len(key) <= CACHE_KEY_MAX:
        if len(cache) > CACHE_ENTRIES:
            cache.clear()
        cache[key] = value


class Scanner:
    """Read new lines from log files; collect page views and clicks.

    ``events``: page views as (time, ip\\0agent, views key or None), in the
    order read (the run sorts them); ``clicks``: the key of each click.
    """

    def __init__(self, files: LogFiles, registry: Registry, clock: float):
        self.files = files
        self.registry = registry
        self.clock = int(clock)
        self.horizon = int(clock) + MAX_CLOCK_SKEW  # later lines are not counted
        self.events: list[tuple[int, bytes, str | None]] = []
        self.clicks: list[str] = []
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
        self._request_cache: dict[bytes, tuple | None] = {}
        self._agent_cache: dict[bytes, bool] = {}
        self._visitor_keys: dict[bytes, bytes] = {}

    # --- Files ------------------------------------------------------------------

    def scan(self, path: str) -> None:
        """Count the new lines of one log file; problems become messages."""
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
        entry = self._entry(head, path)
        if compressed and entry.get("refused") == size:
            self._fail(f"stats: {path}: refused by an earlier run (see its message); "
                       "still not counted: remove or replace the file")
            return
        if (compressed and entry["gz_size"] == size) or (not compressed and size <= entry["offset"]):
            # nothing new; a gzip file read to its end earlier cannot have grown
            self.unchanged += 1
            return
        self._read_entry(path, handle, entry, size, compressed)

    def _entry(self, head: bytes, path: str) -> dict:
        """The state's entry for the file starting with ``head`` (new if unknown)."""
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
        return entry

    def _read_entry(self, path, handle, entry, size, compressed) -> None:
        """Read past the entry's offset; a refused file leaves no trace of this run."""
        saved = (len(self.events), len(self.clicks), self.lines, dict(self.rejected), self.newest,
                 entry["offset"], entry["lines"], entry.get("skip", False))
        try:
            self._read_new(handle, entry, gzip_allowance(size) if compressed else None)
        except Refused as refused:
            events, clicks, self.lines, self.rejected, self.newest, *kept = saved
            del self.events[events:]
            del self.clicks[clicks:]
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

    def _read_new(self, handle, entry, allowance) -> None:
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
            check_allowance(position, allowance)
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

    # --- Messages ------------------------------------------------------------------

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

    # --- Lines ----------------------------------------------------------------------

    def _scan_lines(self, lines: list, before: int) -> None:
        """The hot loop: one regex per line, caches for everything else.

        ``before``: lines of this file before these, for the line numbers of
        the messages. A None is a line over MAX_LINE_BYTES. Kept in one
        function: a call per line would cost a third of the run.
        """
        fast, full = FAST_RE.match, FULL_RE.match
        times, requests, agents = self._time_cache, self._request_cache, self._agent_cache
        visitors = self._visitor_keys
        append, click = self.events.append, self.clicks.append
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
            counted = requests.get(request, _MISSING)  # (VIEW or CLICK, key), None: not counted
            if counted is _MISSING:
                counted = self.registry.lookup(request_path(request.decode("utf-8", "replace")))
                _remember(requests, request, counted)
            if counted is None:
                continue
            bot = agents.get(agent)
            if bot is None:
                bot = is_bot(agent.decode("utf-8", "replace"))
                _remember(agents, agent, bot)
            if bot:
                continue
            what, key = counted
            if what is CLICK:
                click(key)
                continue
            who = ip + b"\0" + agent
            append((moment, visitors.setdefault(who, who), key))  # one bytes object per visitor
        self.lines += len(lines)
        if newest >= 0:
            self.newest = newest
        self._note_rejected(lines, before, (malformed, first_malformed), too_long, (future, first_future))

    def _note_rejected(self, lines, before, malformed, too_long, future) -> None:
        """Count the batch's rejected lines; note the first of each kind by its number.

        The first rejected line of each kind is found again by value: an
        equal line earlier in the batch would have been rejected the same way.
        """
        (malformed, first_malformed), (future, first_future) = malformed, future
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

