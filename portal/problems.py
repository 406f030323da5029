"""Problems found in the staff's files, and the one way they are reported.

A :class:`Problem` prints as ``path:line: message``: a Vietnamese sentence
for the staff, with the English key it concerns, so the person who wrote
the file can find and fix it without a developer. Every check (the build,
``make check``, banners, feeds, the output folders) hands its problems to
:func:`report`, which prints them sorted, then one summary line, and
decides whether that ends the run.
"""

import logging
import sys
from dataclasses import dataclass

_VISIBLE = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7f)}


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str
    # "error" fails every build; "warning" fails `make publish` and `make
    # check` but lets `make html` and the devserver show the rest.
    severity: str = "error"

    def __str__(self):
        label = "" if self.severity == "error" else "cảnh báo: "
        # one problem, one line, whatever a file name or a quoted value holds
        # (a newline in a folder name, an escape sequence for the terminal)
        where = f"{self.path}:{self.line}:" if self.line else f"{self.path}:"  # line 0: the whole file
        return f"{where} {label}{self.message}".translate(_VISIBLE)


logger = logging.getLogger("portal")


def logged_fatal(log, message, *args):
    """Log ``message``; return True when that was fatal: under ``--fatal``
    Pelican's logger raises RuntimeError after printing. The caller decides
    when to stop (after naming every problem, or never: a damaged cache
    that mends itself must not fail ``make publish``)."""
    try:
        log(message, *args)
    except RuntimeError:
        return True
    return False


def fail_cleanly(log, message, *args):
    """Log ``message``; when that is fatal, end the run with exit status 1
    instead of a traceback, which would bury the ``path:line: message``
    lines."""
    if logged_fatal(log, message, *args):
        raise SystemExit(1)


def tally(problems):
    """``(errors, warnings)``."""
    errors = sum(p.severity == "error" for p in problems)
    return errors, len(problems) - errors


def report(problems, subject=("Nội dung", "content"), tool=None, ok="nội dung hợp lệ (content OK)", stream=None):
    """Print ``problems`` sorted, then one summary line; return the exit status.

    In a build (``tool`` None) the summary is logged at the worst severity,
    so Pelican's ``--fatal`` decides: errors stop every build, warnings
    only ``make publish``; a fatal summary ends the build with status 1.
    A tool (``tool="make check"``) prints its summary and returns 1 when
    anything was found, else 0 (after printing ``ok``).
    """
    stream = stream or (sys.stdout if tool else sys.stderr)
    problems = sorted(problems)
    for problem in problems:
        print(problem, file=stream)
    errors, warnings = tally(problems)
    if tool:
        if problems:
            print(f"{tool}: {errors} lỗi, {warnings} cảnh báo ({errors} errors, {warnings} warnings)", file=stream)
            return 1
        if ok:
            print(f"{tool}: {ok}", file=stream)
        return 0
    name, name_en = subject
    if errors:
        fail_cleanly(logger.error, "%s có %d lỗi và %d cảnh báo, xem các dòng trên (%d errors, %d warnings in %s)",
                     name, errors, warnings, errors, warnings, name_en)
    elif warnings:
        fail_cleanly(logger.warning, "%s có %d cảnh báo, xem các dòng trên (%d warnings in %s)",
                     name, warnings, warnings, name_en)
    return 1 if problems else 0
