"""Bring the search index up to date with the built pages, and publish it.
No Pelican here: the glue in ``__init__`` hands over the pages to index,
the staging folder and the settings.

1. Every page to index is read once and what Pagefind indexes of it
   (``indexer.indexed_part``) hashed; the pages are split into shards
   (``shards.assign``).
2. A shard whose cached manifest records the same inputs is reused as it
   is; the others are rebuilt by Pagefind, one after another (or
   ``workers`` at a time): Pagefind's memory grows with the pages of one
   shard, never with the site.
3. Every shard's files are copied under ``pagefind/<shard>/`` through the
   output registry, with ``pagefind/shards.json`` listing the shards for
   the search page (theme/static/js/search.js), newest first: the first
   is the index the page loads, the others are merged into it with
   Pagefind's ``mergeIndex``.
"""

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .indexer import LANGUAGE, ShardCache, code_digest, indexed_part, page_hash, pagefind_version
from .shards import IndexedPage, assign, shard_inputs

OUTPUT_SUBDIR = "pagefind"
SHARD_LIST = "shards.json"
KIND = "search"


@dataclass
class Shard:
    name: str
    pages: list
    inputs: dict = field(default_factory=dict)
    rebuilt: bool = False
    seconds: float = 0.0


@dataclass
class Summary:
    shards: list
    seconds: float
    bytes: int = 0

    @property
    def pages(self):
        return sum(len(s.pages) for s in self.shards)

    @property
    def rebuilt(self):
        return [s for s in self.shards if s.rebuilt]


def readable_pages(site, pages):
    """``(pages carrying data-pagefind-body, {path: hash of what Pagefind
    indexes of it})``: Pagefind would index a page without the marker
    whole (menus, sidebar), so such a page (a draft preview, another
    theme's page) is left out."""
    site = Path(site)
    marked, hashes = [], {}
    for page in pages:
        part = indexed_part((site / page.path).read_bytes())
        if part is not None:
            marked.append(page)
            hashes[page.path] = page_hash(part)
    return marked, hashes


def common_inputs(exclude_selectors):
    return {"pagefind": pagefind_version(), "language": LANGUAGE,
            "exclude_selectors": list(exclude_selectors), "code": code_digest()}


def plan(pages, hashes, exclude_selectors, max_pages, sharding):
    """The shards of ``pages``, each with the inputs of its index."""
    common = common_inputs(exclude_selectors)
    shards = []
    for name, members in assign(pages, max_pages, sharding).items():
        inputs = shard_inputs({p.path: hashes[p.path] for p in members}, common)
        shards.append(Shard(name, members, inputs))
    return shards


def update(site, pages, cache_root, exclude_selectors, max_pages=1000, sharding="year", workers=1,
           on_shard=lambda shard: None):
    """Index ``pages`` (IndexedPage, relative to ``site``) into the shard
    cache at ``cache_root``, rebuilding only the shards whose inputs
    changed; ``on_shard(shard)`` is called as each is settled. Returns a
    Summary, or None when no page carries the marker. Raises
    SearchIndexError (indexer) if Pagefind fails."""
    start = time.perf_counter()
    marked, hashes = readable_pages(site, pages)
    if not marked:
        return None
    shards = plan(marked, hashes, exclude_selectors, max_pages, sharding)
    cache = ShardCache(cache_root)
    cache.tidy({s.name for s in shards})
    stale = []
    for shard in shards:
        if cache.is_current(shard.name, shard.inputs):
            on_shard(shard)
        else:
            stale.append(shard)

    def rebuild(shard):
        paths = [p.path for p in shard.pages]
        shard.seconds = cache.build(shard.name, site, paths, shard.inputs, exclude_selectors)
        shard.rebuilt = True
        on_shard(shard)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for future in [pool.submit(rebuild, s) for s in stale]:
            future.result()  # the first failure is raised (the rest are left to finish)
    return Summary(shards, time.perf_counter() - start)


def shard_list(shards):
    """The bytes of ``pagefind/shards.json``."""
    document = {"version": 1, "pagefind": pagefind_version(),
                "shards": [{"name": s.name, "pages": len(s.pages)} for s in shards]}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def publish(registry, cache_root, summary):
    """Copy every shard's files from the cache into the site being built
    (``registry.root``), recorded as ``search``. Whatever the folder held
    before (a tree that started as links to the published one) is
    unlinked first, never written into."""
    cache = ShardCache(cache_root)
    folder = os.path.join(registry.root, OUTPUT_SUBDIR)
    if os.path.lexists(folder):
        shutil.rmtree(folder) if os.path.isdir(folder) and not os.path.islink(folder) else os.unlink(folder)
    total = 0
    for shard in summary.shards:
        bundle = cache.bundle(shard.name)
        for relative in cache.files(shard.name):
            source = bundle / relative
            registry.copy(f"{OUTPUT_SUBDIR}/{shard.name}/{relative}", source, KIND)
            total += source.stat().st_size
    registry.write(f"{OUTPUT_SUBDIR}/{SHARD_LIST}", shard_list(summary.shards), KIND)
    summary.bytes = total
    return summary


__all__ = ["IndexedPage", "OUTPUT_SUBDIR", "SHARD_LIST", "publish", "update"]
