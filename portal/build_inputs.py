"""Whether a build would publish exactly the site readers are served.

An incremental build with nothing changed still has Pelican read every
article back from its cache and compute every page's key: ten seconds at
5,000 articles. But a build's output is a pure function of what it reads:
the files of ``content/`` and the theme, the settings, our code and the
pinned packages (the settings stamp) and, for banners with a schedule, the
clock, and the installed packages. When all of those are as they were at the last build that
published, and the published tree is still the one that build left, the
build has nothing to do.

Files are compared by what ``lstat`` tells (size, modification time,
inode, change time), as git compares its index: a write changes the change
time, which no tool can set back. A file changed within a second of the
moment it was looked at could be missed at the clock's resolution, so such
a build records no identity and the next one does the full work ("racy",
as git calls it).

The published tree is compared the same way, so a file removed or replaced
by hand, or a feed the counter rewrote, sends the build the long way, where
every such file is checked. A build that logged a warning records nothing
either: its warnings must be printed again, and some (a feed dated in the
future) depend on the clock.
"""

import datetime
import hashlib
import logging
import os
import sys
import time
from importlib.metadata import distributions

from .page_keys import Fingerprints, digest
from .render_stamp import render_stamp

# Settings that name where this run writes, not what it writes.
RUN_SETTINGS = frozenset({"OUTPUT_PATH", "WRITE_SELECTED"})

# How close to "now" a file's times may be before it is not trusted.
RACY_SECONDS = 1.0


def settings_stamp(settings, fingerprints=None):
    """The stamp of one build: our code and packages (render_stamp) and
    every setting but where the output goes."""
    shown = {k: v for k, v in settings.items() if k.isupper() and k not in RUN_SETTINGS}
    return digest(render_stamp(settings), (fingerprints or Fingerprints()).of(shown))


def _rows(folder, relative=False):
    """``{path: (row, latest time)}`` of every file below ``folder`` (the
    row: path, kind, size, times, inode; links not followed)."""
    rows = {}
    top = os.path.abspath(folder)
    cut = len(top) + 1 if relative else 0
    pending = [top]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            # files and links only: a folder's own times change when a file
            # in it is written, and a new or removed file has its own row
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
                continue
            try:
                found = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            rows[entry.path] = (f"{entry.path[cut:]}:{found.st_mode:o}:{found.st_size}:{found.st_mtime_ns}:"
                                f"{found.st_ino}:{found.st_ctime_ns}", max(found.st_mtime_ns, found.st_ctime_ns))
    return rows


def tree_state(folder):
    """A digest of every entry below ``folder``, ``""`` when there is none."""
    rows = _rows(folder, relative=True)
    return digest(*sorted(row for row, _ in rows.values())) if rows else ""


def content_digest(path):
    try:
        with open(path, "rb") as handle:
            return digest_bytes(handle.read())
    except OSError:
        return "missing"


def digest_bytes(data):
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def installed():
    """Python's version and every installed package's: Pagefind, Pillow and
    the rest shape the output too (the settings stamp names only those that
    render Markdown, whose change must also empty Pelican's cache)."""
    return digest(sys.version, *sorted(f"{d.metadata['Name']}=={d.version}" for d in distributions()))


class Sources:
    """Everything a run reads (content/, the theme, settings, code,
    packages), looked at before it reads any of it."""

    def __init__(self, settings):
        self.at = time.time_ns()
        self.rows = {**_rows(settings["PATH"]), **_rows(settings["THEME"])}
        self.stamp = digest(settings_stamp(settings), installed())

    def state(self, by_content=None):
        """The digest of these sources; files in ``by_content`` (``{path:
        digest of its bytes}``: a file this run itself writes into
        content/, such as the address ledger) count by their bytes, not by
        their times. None when another file changed too recently to be
        told apart from a change still to come (the racy rule)."""
        by_content = by_content or {}
        rows = []
        for path, (row, latest) in self.rows.items():
            if path in by_content:
                continue
            if latest >= self.at - RACY_SECONDS * 1e9:
                return None
            rows.append(row)
        return digest(self.stamp, *sorted(rows), *sorted(f"{p}={d}" for p, d in by_content.items()))


def identity(sources, published_tree, valid_until, by_content=None):
    """What the registry saves of a build (see :func:`unchanged`);
    ``sources`` is the digest :meth:`Sources.state` gave."""
    return {"sources": sources, "site": published_tree, "by_content": sorted(by_content or ()),
            "valid_until": valid_until.isoformat() if valid_until else None}


def unchanged(saved, settings, published, now=None):
    """Whether a build now would publish the tree at ``published`` as it
    is: ``saved`` (the :func:`identity` the last build recorded) matches."""
    if not isinstance(saved, dict) or not saved.get("sources") or not saved.get("site"):
        return False
    until = saved.get("valid_until")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        if until and now >= datetime.datetime.fromisoformat(until):
            return False
        by_content = {path: content_digest(path) for path in saved.get("by_content") or ()}
    except (TypeError, ValueError):
        return False
    return Sources(settings).state(by_content) == saved["sources"] and tree_state(published) == saved["site"]


class WarningCount(logging.Handler):
    """Counts the warnings and errors logged while it is attached."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        self.count += 1
        # Pelican's plain log handler is no handler at all: its messages
        # reach stderr through logging.lastResort, which logging uses only
        # when no handler is found, so this one must not take its place
        if not self._others(record.name) and logging.lastResort:
            logging.lastResort.handle(record)

    def _others(self, name):
        """Whether a record of logger ``name`` reaches another handler."""
        logger = logging.getLogger(name)
        while logger:
            if any(handler is not self for handler in logger.handlers):
                return True
            if not logger.propagate:
                return False
            logger = logger.parent
        return False

    def attach(self):
        self.count = 0
        if self not in logging.getLogger().handlers:
            logging.getLogger().addHandler(self)
        return self
