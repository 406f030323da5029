"""What a build tells the staff while it runs, and its closing summary.

A build of thousands of articles runs for a while: on a terminal each
phase is printed as it starts, with counts, and every thousand pages a
line shows the build is alive (``PORTAL_PROGRESS=1`` prints them anywhere,
``0`` nowhere; captured output, such as tests and cron mail, stays as it
was). The summary names pages written, pages left as they
were, files removed and the time of each phase. Printed on stderr (not
logged): under ``make publish`` a logged warning would be fatal, and this
is no warning.
"""

import os
import sys
import time

_marks = []
_counts = {}
STEP = 1000


def start(stream=None):
    """Begin a build's record (every plugin's ``initialized`` may call it;
    only the first call of a run counts)."""
    if not _marks:
        _marks.append(("", time.perf_counter()))
        _counts.clear()


def reset():
    _marks.clear()
    _counts.clear()


def _shown(stream):
    wanted = os.environ.get("PORTAL_PROGRESS", "")
    return wanted == "1" or (wanted != "0" and stream.isatty())


def phase(name, detail="", stream=None):
    """A phase begins: ``name`` in Vietnamese (English in brackets)."""
    start()
    _marks.append((name, time.perf_counter()))
    stream = stream or sys.stderr
    if _shown(stream):
        print(f"… {name}" + (f": {detail}" if detail else ""), file=stream, flush=True)


def note(text, stream=None):
    """A line of progress within a phase."""
    stream = stream or sys.stderr
    if _shown(stream):
        print(f"  {text}", file=stream, flush=True)


def count(what, stream=None):
    """One more ``what`` (``"written"``, ``"kept"``, ...)."""
    _counts[what] = _counts.get(what, 0) + 1
    done = sum(_counts.get(k, 0) for k in ("written", "kept", "same"))
    stream = stream or sys.stderr
    if what in ("written", "kept", "same") and done % STEP == 0 and _shown(stream):
        print(f"… {done} trang (pages)", file=stream, flush=True)


def counts():
    return dict(_counts)


def phase_times(end=None):
    """``[(phase, seconds)]`` from the marks so far to ``end``."""
    end = end or time.perf_counter()
    marks = _marks[1:] + [("", end)]
    return [(name, later - at) for (name, at), (_, later) in zip(_marks[1:], marks[1:])]


def summary(removed):
    """The closing line: pages written and kept, files removed, phases."""
    c = counts()
    written, kept, same = c.get("written", 0), c.get("kept", 0), c.get("same", 0)
    total = time.perf_counter() - _marks[0][1] if _marks else 0.0
    times = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phase_times())
    return (f"Xong: {written} trang ghi mới, {kept + same} trang không đổi "
            f"({kept} không cần dựng lại), {removed} tệp bỏ đi, {total:.1f} s" + (f" ({times})" if times else "") + " "
            f"[pages written {written}, unchanged {kept + same} ({kept} not rendered), files removed {removed}]")
