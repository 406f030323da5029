"""The two feeds, rendered from the state alone and written only when they differ.

Their format is ``feeds.schema.json`` (the contract with the site build).
"""

from __future__ import annotations

import json
from pathlib import Path

from portal.atomic import write_atomic
from .pages import Registry
from .state import State
from .visits import iso_time

VISITORS_FEED = "visitors.json"
VIEWS_FEED = "views.json"


def render_feeds(state: State, registry: Registry | None = None) -> dict[str, bytes]:
    """The feeds' exact contents, derived from the state and, for views.json,
    what the last build published (``registry``): keys counted by an earlier
    counter for addresses that are no page, and pages taken down, stay out of
    the feed (their counts stay in the state, should a page come back).
    ``clicks`` is written only once there are any, so views.json stays as it
    was for a site without redirect pages."""
    updated = iso_time(state.newest)
    visitors = {"updated": updated, "online": state.online(), "today": state.today(), "total": state.total()}
    pages, redirects = (None, None) if registry is None else (registry.is_view_key, registry.is_click_key)
    views = {"updated": updated, "views": _ranked(state.views, pages)}
    clicks = _ranked(state.clicks, redirects)
    if clicks:
        views["clicks"] = clicks
    return {name: (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
            for name, data in ((VISITORS_FEED, visitors), (VIEWS_FEED, views))}


def _ranked(counts: dict, shown=None) -> dict:
    """``counts`` most first, then by key (a stable order: equal states give
    equal bytes), keeping only the keys ``shown`` accepts."""
    items = counts.items() if shown is None else [(k, n) for k, n in counts.items() if shown(k)]
    return dict(sorted(items, key=lambda item: (-item[1], item[0])))


def sync_feeds(state: State, feeds_dir: Path, registry: Registry | None = None) -> list[str]:
    """Write the feeds that differ from what the state says; names written.

    Comparing first keeps the every-minute run with nothing new from
    touching the disk, and brings back feeds a site rebuild deleted.
    """
    feeds_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in render_feeds(state, registry).items():
        target = feeds_dir / name
        try:
            if target.read_bytes() == data:
                continue
        except OSError:
            pass
        write_atomic(target, data)
        written.append(name)
    return written
