"""What the counter remembers between runs, and the lock that makes runs take turns.

The state is the truth: the feeds are a pure function of it (see feeds), so
replacing it atomically is what makes a killed run harmless.
"""

from __future__ import annotations

import fcntl
import json
from dataclasses import dataclass, field
from pathlib import Path

from .visits import VISIT_GAP, online_count, vn_day

STATE_VERSION = 1
# Visitors idle for longer than VISIT_GAP cannot continue a visit; we keep them
# a little longer so that a server whose log lags behind the others (buffered
# writes) still joins lines to the right visit.
VISITOR_KEEP = VISIT_GAP + 10 * 60
DAYS_KEPT = 400  # visits begun per day, kept as a small history
FILE_MEMORY = 31 * 86400  # forget a log file not seen for a month (log time)
# Fields a state written by an earlier counter may lack, with their value then.
ADDED_LATER = {"clicks": dict}


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
    files: list = field(default_factory=list)  # log files read (see logfiles.LogFiles)
    clicks: dict = field(default_factory=dict)  # redirect page -> clicks

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
        for name, empty in ADDED_LATER.items():
            data.setdefault(name, empty())
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
        if not (self.newest is None or _number(self.newest)):
            return "newest is not a time"
        for name in ("visits", "page_views", "total_base"):
            if not _whole(getattr(self, name)):
                return f"{name} is not a whole number"
        for name, valid in (("days", _whole), ("visitors", _number), ("views", _whole), ("clicks", _whole)):
            table = getattr(self, name)
            if not isinstance(table, dict) or not all(isinstance(k, str) and valid(v) for k, v in table.items()):
                return f"{name} is not a table of numbers"
        return _files_problem(self.files)

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


def _number(value) -> bool:
    """An integer (times are Unix seconds and may be anything); True is no number."""
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(value) -> bool:
    """A count: an integer >= 0."""
    return _number(value) and value >= 0


def _files_problem(files) -> str | None:
    fields = {"fp": str, "fp_len": int, "offset": int, "lines": int, "path": str, "seen": int}
    if not isinstance(files, list):
        return "files is not a list"
    for number, entry in enumerate(files, 1):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), kind) for k, kind in fields.items()):
            return f"files entry {number} is incomplete"
    return None


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


class Locked(Exception):
    """Another run holds the lock (its file is the message)."""


def lock(state_path: Path):
    """Take the lock beside the state without waiting; the handle holds it until closed.

    Cron starts a run every minute: a slow run (a big first log) must not be
    joined by a second one counting the same lines, and the second must not
    queue up either.
    """
    handle = open(state_path.with_name(state_path.name + ".lock"), "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise Locked(handle.name) from None
    return handle
