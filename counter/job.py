"""One run of the counter: read what is new, count it, save the state, write the feeds."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from portal.atomic import remove_leftovers, write_atomic
from .feeds import VIEWS_FEED, VISITORS_FEED, VISITORS_FRAGMENT, sync_feeds
from .logfiles import LogFiles
from .logline import normalise_path
from .pages import Registry, RegistryError
from .scan import MAX_CLOCK_SKEW, Scanner
from .state import Locked, State, StateError, forget_the_future, lock
from .visits import Visits, iso_time, visitor_id

DEFAULT_FEEDS_DIR = "content/feeds"
DEFAULT_STATE = "cache/stats-state.json"
DEFAULT_PUBLISHED = "cache/outputs.json"


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
    # 0: all read; 1: something refused or unreadable (a log file, the
    # registry), or lines dated in the future: look at the messages; 2:
    # nothing done (damaged state, cannot write).
    exit_code: int = 0
    locked: bool = False  # another run was in progress: nothing done
    counted: bool = True  # False: refused before reading (no registry, damaged state): no summary line
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

    def refused(self, message: str, exit_code: int) -> "Summary":
        """Nothing was read: only ``message``, no summary line."""
        self.messages.append(message)
        self.exit_code, self.counted = exit_code, False
        return self


def run(logs, feeds_dir=DEFAULT_FEEDS_DIR, state_path=DEFAULT_STATE, total_base: int | None = None,
        published=DEFAULT_PUBLISHED, clock: float | None = None) -> Summary:
    """Count the new lines of ``logs``, update the state, then the feeds.

    ``published`` is the build's output registry: only its pages are page
    views (see pages). Without a usable registry nothing is read: the new
    lines wait, uncounted, for a run that has one (a first deployment, a
    build that failed before writing it). ``clock`` (default: this
    machine's) bounds the lines' dates, see MAX_CLOCK_SKEW.

    Crash safety: the state (counts, visitors, file offsets) is replaced
    atomically first; the feeds are a pure function of it, rewritten whenever
    they differ from it, on every run. A run killed before the state is
    replaced changed nothing; one killed after it has its feeds brought up to
    date by the next run, which finds nothing new to count.
    """
    feeds_dir, state_path = Path(feeds_dir), Path(state_path)
    clock = time.time() if clock is None else clock
    summary = Summary()
    try:
        registry = Registry.load(published)
    except RegistryError as error:
        return summary.refused(f"stats: {error}: nothing counted, the new lines wait for the next run "
                               "(run make html first: the build writes it; or give its path with --published)", 1)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        held = lock(state_path)
    except Locked as locked:
        summary.messages.append(f"stats: another run holds {locked}; nothing done")
        summary.locked, summary.counted = True, False
        return summary
    try:
        try:
            state = State.load(state_path)
        except StateError as error:
            return summary.refused(f"stats: {error}: nothing done (restore it from a backup, or delete it "
                                   "to count every log from its start again)", 2)
        # (shards and fragments: when they are next written, see feeds._put)
        for target in (state_path, feeds_dir / VISITORS_FEED, feeds_dir / VIEWS_FEED, feeds_dir / VISITORS_FRAGMENT):
            remove_leftovers(target)
        changed = _repair(state, state_path, total_base, clock, summary)
        scanner = Scanner(LogFiles(state.files), registry, clock)
        for log in _distinct(logs):
            scanner.scan(str(log))
        new_visits = _count(state, scanner)
        if changed or scanner.changed:
            state.prune()
            write_atomic(state_path, state.to_bytes())
        if state.newest is not None:  # no feed before the first well-formed line: no "updated" yet
            sync_feeds(state, feeds_dir, registry)
        _summarise(summary, state, scanner, new_visits)
        return summary
    finally:
        held.close()


def _distinct(logs):
    """The logs given, each file once (a glob and a symlink may name one twice)."""
    seen = set()
    for log in logs:
        real = os.path.realpath(log)
        if real not in seen:
            seen.add(real)
            yield log


def _repair(state: State, state_path: Path, total_base, clock: float, summary: Summary) -> bool:
    """Bring a state from disk in line with this run's settings; True if it changed."""
    changed = forget_the_future(state, int(clock) + MAX_CLOCK_SKEW)
    if changed:
        summary.messages.append(f"stats: {state_path}: its latest time was after this machine's clock "
                                f"({iso_time(int(clock))}): lines dated in the future no longer count")
    if total_base is not None and total_base != state.total_base:
        state.total_base, changed = total_base, True
    # Keys an earlier counter made of unnormalised addresses (x/../a.html)
    # can never be a published path: drop them.
    views = {key: n for key, n in state.views.items() if normalise_path("/" + key) == key}
    if len(views) != len(state.views):
        state.views, changed = views, True
    return changed


def _count(state: State, scanner: Scanner) -> int:
    """Add what the scanner found to the state; the number of new visits."""
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
    for key in scanner.clicks:
        state.clicks[key] = state.clicks.get(key, 0) + 1
    state.visits += visits.new_visits
    state.page_views += len(events)
    for entry in scanner.used:
        if state.newest is not None and entry["seen"] != state.newest:
            entry["seen"] = state.newest
            scanner.changed = True
    return visits.new_visits


def _summarise(summary: Summary, state: State, scanner: Scanner, new_visits: int) -> None:
    summary.files = scanner.files_given
    summary.unchanged, summary.failed = scanner.unchanged, scanner.failed
    summary.lines = scanner.lines
    summary.malformed, summary.too_long, summary.future = (
        scanner.rejected["malformed"], scanner.rejected["too_long"], scanner.rejected["future"])
    summary.page_views, summary.visits = len(scanner.events), new_visits
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
