"""The counter's one way of writing a file: all of it or nothing, whatever kills it."""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: temporary file, fsync, rename.

    The temporary file is new and uniquely named in the same folder
    (``.NAME.<pid>-<random>.tmp``), so two processes writing the same target
    never write into each other's file; it is created with mode 0666 minus
    the umask, like any file the build writes, because the feeds are served
    by nginx as another user. The file is fsynced before the rename and the
    folder after it, so a power cut leaves the old or the new version, never
    an empty file (cron runs every minute: a cut is a matter of time). A
    write that fails leaves no temporary file; one killed leaves it behind
    for remove_leftovers.
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
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_leftovers(path: Path) -> None:
    """Delete the temporary files of writes to ``path`` killed before their rename.

    Only the counter calls this, holding its lock: no other process writes
    its state or its feeds.
    """
    for leftover in Path(path).parent.glob(f".{glob.escape(Path(path).name)}.*tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()
