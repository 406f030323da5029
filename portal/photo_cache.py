"""The photo cache: what the pipeline (:mod:`portal.images`) already made.

A manifest (``cache/pelican/photos/manifest.json``) remembers, per source
photo or banner (keyed by the SHA-256 of its bytes, the pipeline version
and the widths), which files were made; each file is verified by size,
hash, inode and time before it is reused, so an unchanged site rebuilds
without touching a pixel and a damaged cache is rebuilt, never trusted.
Processed files are copied into output/ by :func:`publish_files`; the
build's one cache per folder is :func:`photo_cache`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .atomic import replace_atomic, write_atomic
from .content_paths import real_path_inside
from .images import (PIPELINE_VERSION, THUMB_SIZE, WIDTHS, PhotoError, ProcessedPhoto, _check_sizes, _one_line,
                     _positive, bare_name, photo_digest, process_banner, process_photo)
from .problems import logged_fatal

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# Cache


def _process_job(source, out_dir, widths, thumb_size, root):
    """Worker entry point: a ProcessedPhoto or a PhotoError, never a raise.

    Returning (rather than raising) keeps tracebacks of worker processes out
    of the build log and makes one bad photo unable to stop the others.
    """
    try:
        return process_photo(source, out_dir, widths, thumb_size, root)
    except PhotoError as exc:
        return exc
    except Exception as exc:  # pragma: no cover - process_photo wraps these
        return PhotoError("unreadable", _one_line(exc), _one_line(exc), source)


# The manifest on disk: pure parsing, so every way it can be damaged is one
# typed error (and one warning), never a traceback.

MANIFEST_VERSION = 2
_SECTIONS = ("photos", "banners", "stamps", "files")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class CacheError(Exception):
    """An unreadable manifest. ``vi``/``en`` say why; ``line`` when known."""

    def __init__(self, vi, en, line=None):
        self.vi, self.en, self.line = vi, en, line
        super().__init__(f"{vi} ({en})")


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _valid_photo(entry):
    ProcessedPhoto.from_json(entry)  # raises on any wrong field
    return True


def _valid_banner(entry):
    return (isinstance(entry, dict) and bare_name(entry.get("src")) and bare_name(entry.get("src2x"))
            and isinstance(entry.get("animated"), bool)
            and _positive(entry.get("width")) and _positive(entry.get("height")))


def _valid_stamp(entry):
    # [source size, source mtime_ns, source sha256]
    return (isinstance(entry, list) and len(entry) == 3 and _is_count(entry[0])
            and isinstance(entry[1], int) and isinstance(entry[2], str) and _HEX64.fullmatch(entry[2]))


def _valid_file(entry):
    # [size, sha256, inode, mtime_ns] of a processed file as this pipeline wrote it
    return (isinstance(entry, list) and len(entry) == 4 and _is_count(entry[0])
            and isinstance(entry[1], str) and _HEX64.fullmatch(entry[1])
            and _is_count(entry[2]) and isinstance(entry[3], int))


_VALIDATORS = {"photos": _valid_photo, "banners": _valid_banner, "stamps": _valid_stamp, "files": _valid_file}


def parse_manifest(raw):
    """``raw`` manifest bytes -> ``{section: {key: entry}}``; raises
    :class:`CacheError` unless every section and entry has its shape.

    Strict on purpose: a manifest with one odd entry was written by
    something else (or damaged), and trusting the rest of it costs more to
    reason about than reprocessing.
    """
    if not raw.strip():
        raise CacheError("tệp rỗng", "empty file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CacheError("không phải văn bản UTF-8", f"not UTF-8 at byte {exc.start}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CacheError("không phải JSON hợp lệ (có thể bị cắt dở)",
                         f"not valid JSON, perhaps truncated: {exc.msg}", exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # 5,000-digit numbers, 100,000-deep nesting
        raise CacheError("không phải JSON hợp lệ", f"not valid JSON: {_one_line(exc)}") from None
    if not isinstance(data, dict):
        raise CacheError("cấu trúc không đúng", "wrong shape: not a JSON object")
    if data.get("version") != MANIFEST_VERSION:
        raise CacheError("phiên bản khác", f"version {data.get('version')!r}, expected {MANIFEST_VERSION}")
    manifest = {}
    for section in _SECTIONS:
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise CacheError("cấu trúc không đúng", f"wrong shape: {section!r} is not an object")
        for key, entry in entries.items():
            try:
                ok = (section != "files" or bare_name(key)) and _VALIDATORS[section](entry)
            except (KeyError, TypeError, ValueError, AttributeError):
                ok = False
            if not ok:
                raise CacheError("cấu trúc không đúng", f"wrong shape: {section}[{key!r}]")
        manifest[section] = entries
    return manifest


def _empty_manifest():
    return {section: {} for section in _SECTIONS}


def _file_record(path):
    """``[size, sha256, inode, mtime_ns]`` of a processed file."""
    with open(path, "rb") as f:
        data = f.read()
        info = os.fstat(f.fileno())
    return [len(data), hashlib.sha256(data).hexdigest(), info.st_ino, info.st_mtime_ns]


class PhotoCache:
    """Processing cached by content hash, shared across builds.

    ``cache_dir/manifest.json`` maps ``digest + parameters`` to the
    :class:`ProcessedPhoto` JSON (and banner dicts); the processed files live
    in ``cache_dir/files/``. Keys include the widths, thumbnail size and
    :data:`PIPELINE_VERSION`, so changing any of them reprocesses instead of
    serving stale sizes. A second run with no changed photo processes none.

    Reuse is verified, because a truncated rendition would otherwise be
    republished as a broken image forever: the manifest records each
    processed file's size, SHA-256, inode and mtime. Every build checks the
    size (one ``stat``); the SHA-256 is checked whenever the inode or mtime
    differ from those recorded, i.e. whenever anything but this pipeline
    wrote the file. Hashing every rendition on every build would cost as
    much as reading the whole cache, for damage the stat already reveals
    (truncation, rewriting, replacement all change size or mtime). An entry
    with a missing or failing file is processed again.

    A manifest that cannot be read (empty, truncated, not JSON, not UTF-8,
    wrong shape, another version) is discarded with one ``warn(message)``
    naming the file, and rebuilt: it is only a cache.

    Sources must lie inside ``content_root`` once symlinks are resolved
    (``None`` only for tools and tests); others fail with reason 'outside'
    and are never opened.

    ``stats`` describes the last call: ``processed`` and ``reused`` count
    distinct contents (two articles using one photo process it once),
    ``failed`` counts sources.
    """

    MANIFEST_VERSION = MANIFEST_VERSION

    def __init__(self, cache_dir, content_root, widths=WIDTHS, thumb_size=THUMB_SIZE, warn=None):
        self.cache_dir = Path(cache_dir)
        self.content_root = None if content_root is None else os.fspath(content_root)
        self.widths, self.thumb_size = _check_sizes(widths, thumb_size)
        self._warn = warn or _default_warn
        self._make_dirs()
        self.stats = {"processed": 0, "reused": 0, "failed": 0}
        self._manifest = self._load_manifest(report=True)
        self._changed = set()  # (section, key) this process added or updated

    def _make_dirs(self):
        """Create the cache folders; a plain file (or a dangling symlink)
        standing where one belongs is ours to discard, with a warning. A
        symlink to a folder is kept: the cache may live on another disk."""
        for folder in (self.cache_dir, self.files_dir):
            if os.path.lexists(folder) and not folder.is_dir():
                self._warn(f"{folder}: không phải thư mục, đã bỏ và tạo lại bộ nhớ đệm ảnh "
                           "(not a folder: discarded, photo cache rebuilt)")
                _discard(folder)
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def files_dir(self):
        """Where processed files are kept (publish them with publish_files)."""
        return self.cache_dir / "files"

    @property
    def manifest_path(self):
        return self.cache_dir / "manifest.json"

    # -- manifest ---------------------------------------------------------

    def _load_manifest(self, report):
        """The manifest on disk, or an empty one if missing or unreadable
        (with a warning when ``report``)."""
        try:
            raw = self.manifest_path.read_bytes()
        except FileNotFoundError:
            return _empty_manifest()
        except OSError as exc:  # a folder in its place, no permission
            error = CacheError("không đọc được tệp", f"unreadable: {_one_line(exc)}")
        else:
            try:
                return parse_manifest(raw)
            except CacheError as exc:
                error = exc
        if report:
            where = f"{self.manifest_path}:{error.line}" if error.line else str(self.manifest_path)
            self._warn(f"{where}: bộ nhớ đệm ảnh không đọc được, đã bỏ và sẽ tạo lại: {error.vi} "
                       f"(photo cache unreadable, discarded and rebuilt: {error.en})")
        return _empty_manifest()

    def _set(self, section, key, entry):
        self._manifest[section][key] = entry
        self._changed.add((section, key))

    def _save_manifest(self):
        """Merge our new entries into the manifest on disk, atomically.

        Re-reading first keeps entries another concurrent build added since
        we loaded (an unreadable one was already reported at start-up). A
        unique temporary file, fsync and rename: a crash or power cut leaves
        the old manifest or the new one, never a half-written one.
        """
        if not self._changed:
            return
        on_disk = self._load_manifest(report=False)
        for section, key in self._changed:
            on_disk[section][key] = self._manifest[section][key]
        self._manifest, self._changed = on_disk, set()
        text = json.dumps({"version": MANIFEST_VERSION, **on_disk}, ensure_ascii=False,
                          sort_keys=True, indent=1)
        try:
            write_atomic(self.manifest_path, text.encode("utf-8"), durable=True)
        except OSError as exc:  # disk full, a folder in its place: the build goes on uncached
            self._warn(f"{self.manifest_path}: không ghi được bộ nhớ đệm ảnh, lần sau sẽ xử lý lại "
                       f"(photo cache not written, photos will be processed again: {_one_line(exc)})")

    def _photo_key(self, digest):
        widths = ",".join(str(w) for w in self.widths)
        return f"{digest}|w={widths}|t={self.thumb_size[0]}x{self.thumb_size[1]}|v{PIPELINE_VERSION}"

    def _record(self, names):
        """Remember size, digest and stat of files this pipeline just wrote."""
        for name in names:
            self._set("files", name, _file_record(self.files_dir / name))

    def _verified(self, names):
        """Whether every named file is intact (see the class docstring)."""
        return all(self._verified_one(name) for name in names)

    def _verified_one(self, name):
        record = self._manifest["files"].get(name)
        if not record or not bare_name(name):
            return False
        size, digest, inode, mtime = record
        try:
            info = os.lstat(self.files_dir / name)
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode):
            _discard(self.files_dir / name)  # so that processing again can write it
            return False
        if info.st_size != size:
            return False
        if (info.st_ino, info.st_mtime_ns) == (inode, mtime):
            return True
        try:
            fresh = _file_record(self.files_dir / name)
        except OSError:
            return False
        if fresh[:2] != [size, digest]:
            return False
        self._set("files", name, fresh)  # same bytes, new inode (restored from a backup...)
        return True

    def _cached_photo(self, digest):
        entry = self._manifest["photos"].get(self._photo_key(digest))
        if entry is None:
            return None
        photo = ProcessedPhoto.from_json(entry)  # shape checked when loaded
        return photo if self._verified(photo.files()) else None

    # -- photos -----------------------------------------------------------

    def process_many(self, sources, workers=2):
        """Process ``sources`` (paths); return ``{source: ProcessedPhoto | PhotoError}``.

        Every source is hashed (cheap next to decoding); only digests not in
        the manifest are processed, in parallel worker processes when
        ``workers > 1``. Errors are returned per source, never raised, and
        are never cached: a fixed photo is retried on the next build.
        """
        results = {}
        by_digest = {}
        failed = 0
        for source in sources:
            try:
                digest = self._digest(source)
            except PhotoError as exc:
                results[source] = exc
                failed += 1
                continue
            by_digest.setdefault(digest, []).append(source)

        todo, reused = [], 0
        for digest, group in by_digest.items():
            photo = self._cached_photo(digest)
            if photo is None:
                todo.append((digest, group))
            else:
                reused += 1
                for source in group:
                    results[source] = photo

        outcomes = self._run(todo, workers)
        processed = 0
        for (digest, group), outcome in zip(todo, outcomes):
            if isinstance(outcome, ProcessedPhoto):
                processed += 1
                self._record(outcome.files())
                # Keyed by what was actually decoded, in case the file
                # changed between hashing and processing.
                self._set("photos", self._photo_key(outcome.digest), outcome.to_json())
            else:
                failed += len(group)
            for source in group:
                results[source] = outcome
        self._save_manifest()
        self.stats = {"processed": processed, "reused": reused, "failed": failed}
        return {source: results[source] for source in sources if source in results}

    def _digest(self, source):
        """The source's SHA-256. A file whose size and modification time
        are those recorded is not read again: hashing every photo of a
        20,000-article portal on every build would read gigabytes to learn
        that nothing changed. Containment is checked first, always."""
        if self.content_root is not None and not real_path_inside(self.content_root, source):
            raise PhotoError("outside", path=source)
        try:
            info = os.stat(source)
        except (FileNotFoundError, NotADirectoryError):
            raise PhotoError("not-found", path=source) from None
        except OSError as exc:
            raise PhotoError("unreadable", _one_line(exc), _one_line(exc), source) from None
        stamp = [info.st_size, info.st_mtime_ns]
        known = self._manifest["stamps"].get(str(source))
        if known and known[:2] == stamp:
            return known[2]
        digest = photo_digest(source, self.content_root)
        self._set("stamps", str(source), stamp + [digest])
        return digest

    def _run(self, todo, workers):
        """Process ``todo`` jobs, in worker processes if worth it."""
        args = [(group[0], self.files_dir, self.widths, self.thumb_size, self.content_root)
                for _, group in todo]
        workers = max(1, int(workers or 1))
        if workers == 1 or len(args) <= 1:
            # No pool: saves process start-up for small batches and keeps
            # single-photo rebuilds (the common case in `make serve`) snappy.
            return [_process_job(*a) for a in args]
        outcomes = []
        with ProcessPoolExecutor(max_workers=min(workers, len(args))) as pool:
            futures = [pool.submit(_process_job, *a) for a in args]
            for (source, *_), future in zip(args, futures):
                try:
                    outcomes.append(future.result())
                except Exception as exc:  # a worker died (OOM killer, crash)
                    outcomes.append(PhotoError(
                        "unreadable", "tiến trình xử lý ảnh bị dừng đột ngột",
                        f"worker process failed: {_one_line(exc)}", source,
                    ))
        return outcomes

    # -- banners ----------------------------------------------------------

    def banner(self, source, width):
        """:func:`process_banner` through the cache (same keying and
        verification rules).

        Raises :class:`PhotoError`: a banner is one file, the caller decides.
        """
        try:
            digest = self._digest(source)
            key = f"{digest}|banner={int(width)}|v{PIPELINE_VERSION}"
            entry = self._manifest["banners"].get(key)
            if entry and self._verified({entry["src"], entry["src2x"]}):
                self.stats = {"processed": 0, "reused": 1, "failed": 0}
                return dict(entry)
            result = process_banner(source, self.files_dir, width, self.content_root)
        except PhotoError:
            self.stats = {"processed": 0, "reused": 0, "failed": 1}
            self._save_manifest()
            raise
        self._record({result["src"], result["src2x"]})
        self._set("banners", key, result)
        self._save_manifest()
        self.stats = {"processed": 1, "reused": 0, "failed": 0}
        return dict(result)


def _discard(path):
    """Remove whatever stands at ``path`` in our own cache folder (a
    symlink or folder where a processed file belongs)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _default_warn(message):
    logger.warning("%s", message)


# --------------------------------------------------------------------------
# Publishing


try:
    import fcntl
    _FICLONE = 0x40049409  # linux/fs.h: share blocks copy-on-write (btrfs, XFS)
except ImportError:  # pragma: no cover - not Linux
    fcntl = None


def _copy_into(source, f):
    """Copy ``source`` into the open file ``f``: a reflink where the
    filesystem has them (no data written, still a separate inode), a plain
    copy otherwise (ext4)."""
    with open(source, "rb") as src:
        if fcntl is not None:
            try:
                fcntl.ioctl(f.fileno(), _FICLONE, src.fileno())
                return
            except OSError:
                pass
        shutil.copyfileobj(src, f, 1 << 20)


def publish_files(names, files_dir, out_dir, reuse=None):
    """Copy the named processed files into ``out_dir`` (created if needed).

    Copies, not hard links: a published file must never share an inode
    with the cache, or anything that damages ``output/`` in place (a deploy
    tool, an image optimiser, a partial write) damages the cache too, and a
    hard link would also carry the cache file's mode into ``output/``. Each
    copy is a new file made under the build's umask (0644, or 0640 under
    umask 027) and appears atomically.

    The price, measured by tests/bench/bench_photos.py on ext4 (which has
    no reflinks) on a busy 2-core machine: 0.46 s for 40 photos (320 files,
    21 MiB) against 0.006 s for hard links, about 1.4 ms per file, or 2% of
    processing the same photos cold; on btrfs or XFS the reflink makes it
    nearly free. Isolation is worth it: a hard link checked by ``stat``
    would miss damage of the same size that keeps the mtime.

    A file the site already publishes, copied after the cache file was
    made, is hard-linked from the published tree instead when ``reuse``
    (portal.outputs.OutputRegistry.reuse) says so: that copy is ours too,
    and an incremental build must not copy every photo again.

    Names must be bare file names: they come from a manifest on disk, and
    must not be able to write outside ``out_dir``. Returns the published
    paths.
    """
    files_dir, out_dir = Path(files_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    published = []
    for name in dict.fromkeys(names):
        if not bare_name(name):
            raise ValueError(f"not a bare file name: {name!r}")
        source, target = files_dir / name, out_dir / name
        if reuse is None or not reuse(str(target), str(source)):
            replace_atomic(target, lambda f, source=source: _copy_into(source, f), durable=False)
        published.append(target)
    return published


_caches = {}


def _cache_warning(message):
    # A cache that could not be read is discarded and rebuilt, which heals
    # it: no fault in the content, so never fatal (`make publish`).
    logged_fatal(logger.warning, "%s", message)


def photo_cache(settings):
    """The build's one PhotoCache (articles, pages and banners share it, so
    its manifest is read once per build)."""
    path = os.path.join(settings["CACHE_PATH"], "photos")
    if path not in _caches:
        _caches[path] = PhotoCache(path, settings["PATH"], warn=_cache_warning)
    return _caches[path]


def forget_photo_caches(*_):
    """At the start of every run: another build (the devserver's previous
    run, a `make html` beside it) may have changed the manifest."""
    _caches.clear()
