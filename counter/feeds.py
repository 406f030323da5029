"""The feeds, rendered from the state alone and written only when they differ.

Besides ``visitors.json`` and ``views.json`` (whose format is
``feeds.schema.json``, the contract with the site build) the counter keeps
what pages show without changing (``portal.view_shards``): the views in
256 shards ``luot-xem/<shard>.json``, so an article page fetches a few KB
however many articles are counted; one no-script fragment per counted page
``luot-xem/<shard>/<address>``; and ``thong-ke.html``, the visitor
statistics for readers without JavaScript.
"""

from __future__ import annotations

import json
from pathlib import Path

import portal.view_shards as view_shards
from portal.atomic import remove_leftovers, write_atomic
from .pages import Registry
from .state import State
from .visits import iso_time

VISITORS_FEED = "visitors.json"
VIEWS_FEED = "views.json"
VISITORS_FRAGMENT = view_shards.VISITORS_FRAGMENT


def render_feeds(state: State, registry: Registry | None = None) -> dict[str, bytes]:
    """``visitors.json``, ``views.json`` and ``thong-ke.html``: their exact
    contents, derived from the state and, for the views, what the last
    build published (``registry``): keys counted by an earlier counter for
    addresses that are no page, and pages taken down, stay out of the feed
    (their counts stay in the state, should a page come back). ``clicks``
    is written only once there are any, so views.json stays as it was for
    a site without redirect pages."""
    updated = iso_time(state.newest)
    visitors = {"updated": updated, "online": state.online(), "today": state.today(), "total": state.total()}
    views = {"updated": updated, "views": page_views(state, registry)}
    clicks = _ranked(state.clicks, None if registry is None else registry.is_click_key)
    if clicks:
        views["clicks"] = clicks
    files = {name: (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
             for name, data in ((VISITORS_FEED, visitors), (VIEWS_FEED, views))}
    files[VISITORS_FRAGMENT] = view_shards.visitors_fragment(visitors)
    return files


def page_views(state: State, registry: Registry | None = None) -> dict:
    """The views the feeds show: pages the registry lists, most first."""
    return _ranked(state.views, None if registry is None else registry.is_view_key)


def _ranked(counts: dict, shown=None) -> dict:
    """``counts`` most first, then by key (a stable order: equal states give
    equal bytes), keeping only the keys ``shown`` accepts."""
    items = counts.items() if shown is None else [(k, n) for k, n in counts.items() if shown(k)]
    return dict(sorted(items, key=lambda item: (-item[1], item[0])))


def _differs(target: Path, data: bytes) -> bool:
    try:
        return target.read_bytes() != data
    except OSError:
        return True


def _put(target: Path, data: bytes, durable: bool = True) -> bool:
    """Write ``data`` to ``target`` unless it already holds exactly that;
    True if written. The file on disk is the reference, never a memory of
    what was written: a site rebuild may have put an older copy there."""
    if not _differs(target, data):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    write_atomic(target, data, durable)
    return True


def sync_feeds(state: State, feeds_dir: Path, registry: Registry | None = None) -> list[str]:
    """Write the files that differ from what the state says; names written.

    Comparing first keeps the every-minute run with nothing new from
    touching the disk (and a browser's conditional request gets its 304),
    and brings back files a site rebuild deleted or replaced.
    """
    feeds_dir.mkdir(parents=True, exist_ok=True)
    written = [name for name, data in render_feeds(state, registry).items() if _put(feeds_dir / name, data)]
    return written + sync_shards(page_views(state, registry), feeds_dir)


def sync_shards(views: dict, feeds_dir: Path) -> list[str]:
    """Every shard, and the fragments of each shard that differs on disk.

    A shard's fragments are written before the shard itself, so a shard
    that is right on disk has right fragments (the build publishes both
    from one snapshot too): a run only reads the 256 shards, not a
    fragment per article. Both are derived files, compared on every run, so
    they are not fsynced one by one (20,000 fsyncs on the first run); a
    crash mid-way is repaired by the next run, which finds the shard out
    of date.
    """
    written = []
    groups = view_shards.group(views)
    for name, data in view_shards.render_shards(views).items():
        shard = feeds_dir / name
        if not _differs(shard, data):
            continue
        for address, count in groups.get(view_shards.shard_name(name), {}).items():
            fragment = view_shards.fragment_path(address)
            if fragment and _put(feeds_dir / fragment, view_shards.views_fragment(count), durable=False):
                written.append(fragment)
        _put(shard, data, durable=False)
        written.append(name)
    return written
