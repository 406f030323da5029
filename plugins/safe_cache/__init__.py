"""Pelican's content cache, made safe to interrupt.

``pelican.cache.FileDataCacher`` writes its gzip+pickle file in place, so a
build killed while writing leaves it truncated; loading it then raises
``EOFError`` (or a zlib error, or anything an unpickler can raise), which
Pelican does not catch: every later build fails with a traceback and no
file named. Two small patches, applied at ``initialized`` (before any
generator opens its cache), fix both halves:

* loading: any failure, or data of the wrong shape, discards that cache
  with a warning naming the file; the build proceeds with an empty cache
  and the next save replaces the file;
* saving: portal.atomic's one atomic write (a unique temporary file in the
  same folder, fsynced, renamed over the old one), so a cache file is always either the old or the new one;
  and only when something was cached this build: Pelican would rewrite the
  whole file every time (6 MB pickled at 5,000 articles, gzip-compressed by
  default: 1.7 s of a build where nothing changed; pelicanconf.py turns
  GZIP_CACHE off).

The patch keeps Pelican's attributes (``_cache_path``, ``_cache_open``,
``_cache``) and policies; only how the file is read and written changes.
"""

import gzip
import logging
import os
import pickle

from pelican import cache, readers, signals

from portal.atomic import remove_leftovers, write_atomic
from portal.problems import logged_fatal

logger = logging.getLogger(__name__)


class UnreadableCache(Exception):
    """The cache file exists but cannot be used; ``str()`` says why."""


def read_cache(path, opener, entry_ok=lambda value: True):
    """The cache dictionary stored at ``path``: ``{}`` when there is none,
    UnreadableCache when it is damaged or any value fails ``entry_ok``."""
    try:
        with opener(path, "rb") as handle:
            data = pickle.load(handle)
    except FileNotFoundError:
        return {}
    except Exception as err:  # noqa: BLE001 - an unpickler can raise anything
        raise UnreadableCache(f"{type(err).__name__}: {err}") from err
    if not isinstance(data, dict):
        raise UnreadableCache(f"holds a {type(data).__name__}, not a dict")
    if not all(entry_ok(value) for value in data.values()):
        raise UnreadableCache("holds entries of the wrong shape")
    return data


def _pair(value):
    return isinstance(value, tuple) and len(value) == 2


def _reader_entry(value):
    """Readers cache ``(stamp, (content, metadata))``, and unpack both."""
    return _pair(value) and _pair(value[1]) and isinstance(value[1][1], dict)


def entry_check(cacher):
    """How each value of ``cacher``'s cache must look for Pelican to use it."""
    if isinstance(cacher, readers.Readers):
        return _reader_entry
    if isinstance(cacher, cache.FileStampDataCacher):
        return _pair  # (stamp, data), unpacked by get_cached_data
    return lambda value: True


def write_cache(path, data):
    """Replace ``path`` by ``data`` (bytes) all at once (portal.atomic; two
    builds may share a cache folder), then remove what killed builds left
    beside it. A kill at any moment leaves the old file or the new one, and
    at worst a stray ``.*.tmp`` that nothing reads."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    write_atomic(path, data)
    remove_leftovers(path, older_than=STALE_SECONDS)


# A temporary file older than this is a killed build's leftover, not another
# build's write in progress (writing a cache takes seconds at most).
STALE_SECONDS = 600


def _warn(message, *args):
    """A damaged cache is not a content problem and mends itself: it is
    reported, but must not fail ``make publish`` (``--fatal warnings``),
    or the nightly publish after one killed build would fail too."""
    logged_fatal(logger.warning, message, *args)


def _load(self):
    """FileDataCacher's loading, made total."""
    try:
        return read_cache(self._cache_path, self._cache_open, entry_check(self))
    except UnreadableCache as err:
        _warn("%s: bộ nhớ đệm hỏng (có thể do lần dựng trước bị ngắt), đã bỏ và sẽ tạo lại "
              "(unreadable cache discarded and rebuilt: %s)", os.path.relpath(self._cache_path), err)
        return {}


def _init(self, settings, cache_name, caching_policy, load_policy):
    """FileDataCacher.__init__, with a loading that never fails."""
    self.settings = settings
    self._cache_path = os.path.join(settings["CACHE_PATH"], cache_name)
    self._cache_data_policy = caching_policy
    self._cache_open = gzip.open if settings["GZIP_CACHE"] else open
    self._cache = _load(self) if load_policy else {}
    # a cache that was not (fully) loaded must be written even if nothing new is cached
    self._changed = not (load_policy and os.path.exists(self._cache_path))


def _cache_data(self, filename, data):
    """FileDataCacher.cache_data, remembering that the file must be saved."""
    if self._cache_data_policy:
        self._cache[filename] = data
        self._changed = True


def _save(self):
    """FileDataCacher.save_cache, written atomically."""
    if not self._cache_data_policy or not getattr(self, "_changed", True):
        return
    try:
        data = pickle.dumps(self._cache)
        if self._cache_open is gzip.open:
            data = gzip.compress(data, mtime=0)
        write_cache(self._cache_path, data)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as err:
        _warn("%s: không ghi được bộ nhớ đệm (could not save the cache: %s)",
              os.path.relpath(self._cache_path), err)


def patch(pelican=None):
    """Applied at ``initialized``: plugins are loaded, no cache is open yet."""
    cache.FileDataCacher.__init__ = _init
    cache.FileDataCacher.save_cache = _save
    cache.FileDataCacher.cache_data = _cache_data


def register():
    signals.initialized.connect(patch)
