"""Cold builds read Markdown on every core.

Pelican converts articles one after another, and converting Markdown is
most of a cold build's reading (about 2 ms an article). Before Pelican's
loop starts (``article_generator_init``: its readers and their cache are
open, the file list is gated by source_gate), the articles its cache does
not hold are converted ahead: half in a forked worker process, half here at
the same time (``READ_WORKERS`` processes in all). The results go into
Pelican's own reader cache, exactly as its loop would put them there
(:meth:`Readers.read_file`: ``reader.read`` then
``_filter_discardable_metadata``), so the loop then finds every article
cached and the output is the same. A file that fails to convert is left to
Pelican's loop, which reports it as always.

Needs ``CACHE_CONTENT`` (the reader cache is where results go); without it,
or with fewer than ``PARALLEL_READING_MIN`` articles to convert, nothing is
done.
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from pelican import signals
from pelican.readers import _filter_discardable_metadata

from portal import progress
from portal.settings import fill_pelican_defaults

_readers = {}


def convert(readers, path):
    """``(content, metadata)`` of one file as Pelican's reader cache holds it, or None."""
    reader = readers.readers.get(os.path.splitext(path)[1][1:])
    if reader is None:
        return None
    try:
        content, metadata = reader.read(path)
    except Exception:  # noqa: BLE001 - Pelican's own loop reads it again and reports it
        return None
    return content, _filter_discardable_metadata(metadata)


def _convert_in_worker(paths):
    readers = _readers["current"]
    return [(path, convert(readers, path)) for path in paths]


def uncached(generator):
    """Absolute paths of the articles the reader cache cannot answer for."""
    readers = generator.readers
    settings = generator.settings
    paths = []
    for relative in generator.get_files(settings["ARTICLE_PATHS"], exclude=settings["ARTICLE_EXCLUDES"]):
        path = os.path.abspath(os.path.join(generator.path, relative))
        if readers.get_cached_data(path, None) is None:
            paths.append(path)
    return paths


def split(paths, parts):
    """``paths`` in ``parts`` interleaved shares (similar sizes, similar work)."""
    return [paths[start::parts] for start in range(parts)]


def _prefetch(generator):
    settings = generator.settings
    workers = settings["READ_WORKERS"]
    if not settings.get("CACHE_CONTENT") or workers < 2 or not hasattr(generator, "readers"):
        return
    todo = uncached(generator)
    if len(todo) < settings["PARALLEL_READING_MIN"]:
        return
    readers = generator.readers
    _readers["current"] = readers
    mine, *theirs = split(todo, workers)
    context = multiprocessing.get_context("fork")  # the workers inherit the readers as they are
    with ProcessPoolExecutor(workers - 1, mp_context=context) as pool:
        futures = [pool.submit(_convert_in_worker, share) for share in theirs]
        results = [(path, convert(readers, path)) for path in mine]
        for future in futures:
            results += future.result()
    _readers.clear()
    for path, data in results:
        if data is not None:
            readers.cache_data(path, data)
    progress.note(f"đã chuyển {len(todo)} bài Markdown trên {workers} tiến trình "
                  f"({len(todo)} articles converted in {workers} processes)")


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.article_generator_init.connect(_prefetch)
