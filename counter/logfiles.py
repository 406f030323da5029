"""Which bytes of which log file are new, cut into lines, gzip kept in bounds.

A log file is known by its first bytes, not by its name, so rotation
(``access.log`` -> ``access.log.1`` -> ``access.log.2.gz``) never makes the
counter read a line twice; see LogFiles.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat

# A file is known by the sha256 of its first 4 KiB: a fixed number of bytes,
# wherever its first newline is (a file shorter than that by all its bytes,
# widened as it grows).
FINGERPRINT_BYTES = 4096
CHUNK = 1 << 20
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


def check_allowance(position: int, allowance: int | None) -> None:
    """Refuse a gzip file once it has given more than ``allowance`` bytes
    (None: a plain file, no allowance)."""
    if allowance is not None and position > allowance:
        raise Refused(f"decompresses to more than {allowance} bytes "
                      f"(limit: {MAX_GZIP_RATIO} times its size, at most {MAX_GZIP_BYTES})")


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
