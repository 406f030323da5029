"""The one way files are replaced: all at once, never half written.

A uniquely named temporary file beside the target (two builds, a build and
the counter's cron job, or two worker processes never share one), written,
optionally fsynced, then renamed over the target. Files are created 0666
less the umask, as ``open()`` makes them, because nginx reads the site as
another user (``mkstemp`` would make 0600).
"""

import contextlib
import os
import secrets
import time
from pathlib import Path


def temporary_name(path):
    """``.NAME.<pid>-<random>.tmp`` beside ``path``: what a killed write
    leaves behind, and what :func:`remove_leftovers` looks for."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")


def replace_atomic(path, fill, durable=True):
    """Create or replace ``path``: ``fill(handle)`` writes a new temporary
    file beside it, which then replaces ``path``. With ``durable`` the data
    and the rename are fsynced, so a power cut leaves the old file or the
    new one, never an empty one (wanted where a reader or cron depends on
    the file; content-addressed renditions that are verified before reuse
    skip it). A failed write leaves no temporary file."""
    path = Path(path)
    while True:
        temporary = temporary_name(path)
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if durable:
        fsync_folder(path.parent)


def write_atomic(path, data, durable=True):
    """:func:`replace_atomic` with ``data`` (bytes)."""
    replace_atomic(path, lambda handle: handle.write(data), durable)


def fsync_folder(folder):
    """Make a rename in ``folder`` durable (not every filesystem allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_leftovers(path, older_than=None, now=None):
    """Delete what writes to ``path`` killed before their rename left
    (``.NAME.*.tmp``); with ``older_than`` (seconds) only files older than
    that, so another process's write in progress is left alone."""
    path = Path(path)
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(f".{path.name}.") and entry.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                if older_than is None or now - entry.stat(follow_symlinks=False).st_mtime > older_than:
                    os.remove(entry.path)


def current_umask():
    """The process's umask (reading it means setting it; set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
