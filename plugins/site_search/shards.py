"""Which search shard each page belongs to, and whether a shard's cached
index still fits what it would be built from. Pure functions: no Pelican,
no Pagefind, no files.

The split: articles by the year of their date. An article's year almost
never changes, and the staff write in the present: an edit, a new article
or a deletion touches this year's shard, and the years before stay as they
were. The static pages (Giới thiệu, Liên hệ) join the newest shard (their
own, ``trang``, only on a site without articles): a shard of two pages
would answer nearly every query with junk, because Pagefind, when no word
of an index starts with a query word, falls back to the longest word of
that index the query word starts with ("dep" → "dề") — a typo rescue that
a shard with a small vocabulary takes far more often than the whole site.
The newest shard is rebuilt often anyway; the pages move once a year.
A year holding more than ``max_pages`` articles is split into quarters
(``2020-q1``), and a quarter still too big into months (``2020-03``), so
that no shard makes Pagefind hold more than ``max_pages`` pages in memory
(it needs about 0.37 MB per article of 800 words). The level is chosen per
year from that year's count alone, so a year that grows past the limit
re-forms its own shards once and touches no other year's.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

PAGES_SHARD = "trang"
# A shard's manifest changes shape with this: every cached shard is rebuilt.
FORMAT = 1


@dataclass(frozen=True)
class IndexedPage:
    """One page the search indexes: its file under output/ ('/'-separated)
    and, for an article, its date (None for a static page)."""

    path: str
    date: Optional[datetime] = None


def _year(page):
    return f"{page.date.year:04d}"


def _quarter(page):
    return f"{page.date.year:04d}-q{(page.date.month - 1) // 3 + 1}"


def _month(page):
    return f"{page.date.year:04d}-{page.date.month:02d}"


def _group(pages, name_of):
    groups = {}
    for page in pages:
        groups.setdefault(name_of(page), []).append(page)
    return groups


def _split(pages, levels, max_pages):
    """``pages`` grouped by the first of ``levels``; a group over
    ``max_pages`` is split again by the next level (the last level is
    kept whatever its size)."""
    name_of, finer = levels[0], levels[1:]
    shards = {}
    for name, group in _group(pages, name_of).items():
        if len(group) > max_pages and finer:
            shards.update(_split(group, finer, max_pages))
        else:
            shards[name] = group
    return shards


def assign(pages, max_pages, sharding="year"):
    """``{shard name: [IndexedPage, ...]}``, every page in exactly one
    shard, newest shard first; the static pages are in the newest.

    ``sharding`` is ``"year"`` (the portal's) or ``"single"``: one shard
    holding everything, for benchmarks comparing the two."""
    if max_pages < 1:
        raise ValueError("SEARCH_SHARD_MAX_PAGES must be at least 1")
    pages = sorted(pages, key=lambda p: p.path)  # the same order whatever Pelican's
    if sharding == "single":
        return {"tat-ca": pages} if pages else {}
    if sharding != "year":
        raise ValueError(f"unknown SEARCH_SHARDING {sharding!r} (year or single)")
    articles = [p for p in pages if p.date is not None]
    static = [p for p in pages if p.date is None]
    shards = _split(articles, [_year, _quarter, _month], max_pages)
    ordered = {name: shards[name] for name in sorted(shards, reverse=True)}
    if static:
        newest = next(iter(ordered), PAGES_SHARD)
        ordered[newest] = ordered.get(newest, []) + static
    return ordered


def shard_inputs(page_hashes, common):
    """What a shard's index is a function of: ``common`` (Pagefind's
    version, language, exclude selectors, our code's digest) and the hash
    of each indexed page's HTML, by path."""
    return {"format": FORMAT, **common, "pages": dict(sorted(page_hashes.items()))}


def manifest_bytes(inputs, files):
    """The manifest kept beside a shard's cached index: what it was built
    from, and the files of the index (relative, '/'-separated)."""
    document = {"inputs": inputs, "files": sorted(files)}
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def read_manifest(data):
    """``(inputs, files)`` from manifest bytes; ValueError if damaged."""
    try:
        document = json.loads(data)
        inputs, files = document["inputs"], document["files"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"damaged search manifest: {error}") from error
    if not isinstance(inputs, dict) or not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ValueError("damaged search manifest: wrong shape")
    return inputs, files


def is_current(manifest, inputs, present):
    """Whether a cached shard can be published as it is: its manifest
    (bytes, or None when there is none) records exactly ``inputs``, and
    every file it lists is there (``present(relative path)``)."""
    if manifest is None:
        return False
    try:
        cached_inputs, files = read_manifest(manifest)
    except ValueError:
        return False
    return cached_inputs == inputs and bool(files) and all(present(f) for f in files)
