"""Live widgets: visitor statistics, per-article views, the COVID bulletin.

At build time each widget is rendered from its JSON feed in
``content/feeds/`` so pages read right without JavaScript; the validated
feeds are published to ``output/feeds/`` where ``theme/static/js/
live-widgets.js`` (and, in production, the counter's cron job) keeps them
current without rebuilding any page.

A feed that is missing or wrong is reported as a warning naming the file
and the field; the widget then shows the last good values, kept in the
build cache, or is left out if there never were any. ``make publish`` runs
with ``--fatal warnings`` and so fails on the same problems.
"""

import json
import logging
import os
from pathlib import Path

from pelican import signals

from content_check import fail_cleanly

from .counter import write_atomic
from .feeds import FeedError, parse_covid, parse_time, parse_views, parse_visitors, read_json, region_sentence

logger = logging.getLogger(__name__)

FEED_FILES = {"visitors": "visitors.json", "views": "views.json", "covid": "covid.json"}


def parse_feed(name, raw, read):
    """The value of feed ``name`` from its decoded JSON; ``read(path)``
    supplies the disease.sh files a covid feed names. Raises FeedError."""
    if name == "visitors":
        return parse_visitors(raw)
    if name == "views":
        return parse_views(raw)
    return parse_covid(raw, "", read=read)


def load_feed(name, folder):
    """``(raw, sources, value)`` of one feed file in ``folder``."""
    raw = read_json(os.path.join(folder, FEED_FILES[name]))
    sources = {}

    def read(source):
        sources[source] = read_json(os.path.join(folder, source))
        return sources[source]

    return raw, sources, parse_feed(name, raw, read)


def _updated(raw):
    try:
        return parse_time(raw.get("updated"))
    except (FeedError, AttributeError):
        return None


def _newest_live(name, live_folder, current):
    """The copy the counter's cron job keeps current in the published site,
    if it is valid and newer than ``current`` (raw, sources, value)."""
    if not live_folder:
        return current
    try:
        candidate = load_feed(name, live_folder)
    except FeedError:
        return current  # the cron job's copy is repaired by its next run
    newer, older = _updated(candidate[0]), current and _updated(current[0])
    return candidate if current is None or (newer and older and newer > older) else current


def load_all(folder, cache_file, live_folder=None):
    """Every feed's value (or None) and the raw files to publish, falling
    back to the last good copy in ``cache_file`` for a feed with problems.

    In production ``make stats`` rewrites the *published* feeds every
    minute; ``live_folder`` (``output/feeds``) is read too and the newer
    valid copy wins, so a rebuild snapshots current figures, not the ones
    in ``content/feeds``."""
    try:
        with open(cache_file, encoding="utf-8") as handle:
            last_good = json.load(handle)
    except (OSError, ValueError):
        last_good = {}
    values, published = {}, {}
    for name, filename in FEED_FILES.items():
        path = os.path.join(folder, filename)
        try:
            raw, sources, value = _newest_live(name, live_folder, load_feed(name, folder))
        except FeedError as error:
            where = f" trường {error.field}:" if error.field else ""
            fallback = "dùng số liệu hợp lệ lần trước (keeping the last good values)" if name in last_good \
                else "tạm ẩn mục này (widget left out)"
            fail_cleanly(logger.warning, "%s:%s %s; %s. Hãy sửa tệp này (fix this file).",
                         os.path.relpath(path), where, error.message, fallback)
            live = _newest_live(name, live_folder, None)
            if live is not None:
                raw, sources, value = live
            elif name in last_good:
                raw, sources = last_good[name]["raw"], last_good[name].get("sources", {})
                value = parse_feed(name, raw, sources.__getitem__)
            else:
                values[name] = None
                continue
        last_good[name] = {"raw": raw, "sources": sources}
        values[name] = value
        published[filename] = raw
        published.update(sources)
    os.makedirs(os.path.dirname(cache_file) or ".", exist_ok=True)
    write_atomic(Path(cache_file), json.dumps(last_good, ensure_ascii=False).encode("utf-8"))
    return values, published


def _render(generators):
    generator = generators[0]
    settings = generator.settings
    folder = os.path.join(settings["PATH"], settings.get("LIVE_FEEDS_DIR", "feeds"))
    cache_file = os.path.join(settings["CACHE_PATH"], "live-widgets.json")
    live_folder = os.path.join(settings["OUTPUT_PATH"], settings.get("LIVE_FEEDS_OUTPUT", "feeds"))
    values, published = load_all(folder, cache_file, live_folder)

    covid = values["covid"]
    if covid:
        covid = dict(covid, regions=[dict(r, sentence=region_sentence(r)) for r in covid["regions"]])
    generator.context.update(visitor_stats=values["visitors"], covid_bulletin=covid)
    views = values["views"] or {}
    for gen in generators:
        for article in getattr(gen, "articles", []):
            if article.url in views:
                article.views = views[article.url]

    target = os.path.join(generator.output_path, settings.get("LIVE_FEEDS_OUTPUT", "feeds"))
    os.makedirs(target, exist_ok=True)
    for filename, raw in published.items():
        with open(os.path.join(target, filename), "w", encoding="utf-8") as handle:
            json.dump(raw, handle, ensure_ascii=False, separators=(",", ":"))


def register():
    signals.all_generators_finalized.connect(_render)
