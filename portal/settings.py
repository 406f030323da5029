"""Every portal setting's default, in one place.

``pelicanconf.py`` sets what belongs to one board; anything it leaves out
takes the value below. Each plugin calls :func:`fill_defaults` once, when
Pelican sends ``initialized`` (``make check`` and ``make banners`` start
Pelican the same way), and from then on reads ``settings["NAME"]``: a
default is never repeated at the place it is read.

The site's URL layout (where photos, attachments and live feeds are
published) is part of these settings; which published file is what (a page,
a photo, a click page) is told by the output registry (portal.outputs), so
no other program needs to know the layout.
"""

import copy

DEFAULTS = {
    # --- the site's URL layout (folders of output/) ---
    "PHOTOS_URL": "anh",  # processed photos and banners: anh/<hash>-<width>.<ext>
    "ATTACHMENTS_URL": "tai-lieu",  # attachments: tai-lieu/<article's address>/<file>
    "LIVE_FEEDS_OUTPUT": "feeds",  # live feeds, rewritten by the counter's cron job
    # the list of every published file, for the counter and the next build
    "OUTPUT_REGISTRY": "cache/outputs.json",
    # every address ever published and what it leads to, in content/ (committed;
    # only a successful build writes it); "" turns old-address redirects off
    "ADDRESS_LEDGER": "data/so-dia-chi.json",
    # --- incremental builds (plugins/incremental_pages) ---
    # an article whose page changed is published at once, before the listings
    "ARTICLES_FIRST": True,
    # --- cold builds (plugins/parallel_reading): processes converting Markdown ---
    "READ_WORKERS": 2,
    "PARALLEL_READING_MIN": 40,  # fewer articles to convert: not worth a process
    # ... and rendering pages (plugins/incremental_pages)
    "RENDER_WORKERS": 2,
    "PARALLEL_RENDERING_MIN": 60,
    # --- content ---
    "MENU_CATEGORIES": [],
    "MENU_PAGES": [],
    "HOME_BLOCK_SIZE": 5,
    "HOME_LATEST_SIZE": 8,
    "RELATED_ARTICLES": 6,
    "PUBLIC_URL": "",
    # --- photos ---
    "PHOTO_WORKERS": 2,
    # --- live widgets ---
    "LIVE_FEEDS_DIR": "feeds",  # read from content/<LIVE_FEEDS_DIR>/
    "LIVE_REFRESH_SECONDS": 60,
    "STATS_TOTAL_BASE": "",
    # --- banners ---
    "BANNERS_FILE": "banners.yml",
    "BANNER_SLOTS": {},
    # the sidebar from top to bottom: theme widgets and sidebar banner slots
    "SIDEBAR_BLOCKS": ["search_box", "visitor_stats", "covid_bulletin"],
    "BANNERS_NOW": None,  # tests pin the schedule's clock; None: the build's own
    # --- search ---
    "SEARCH_INDEX": True,
    "SEARCH_EXCLUDE_SELECTORS": [".breadcrumb", ".article__date", ".article__byline"],
    # Pagefind needs ~0.37 MB per article while it indexes a shard: 1,000
    # pages keep it under 400 MB; a year with more is split by quarter.
    "SEARCH_SHARD_MAX_PAGES": 1000,
    "SEARCH_SHARDING": "year",  # or "single": one index (benchmarks)
    "SEARCH_WORKERS": 2,  # shards indexed at once (each Pagefind uses ~1.3 cores; 2: 19.7 -> 13.3 s cold at 5,000)
}


def fill_defaults(settings):
    """Give ``settings`` every default it lacks (a copy: a list default is
    never shared between builds). Idempotent; returns ``settings``."""
    for name, value in DEFAULTS.items():
        if name not in settings:
            settings[name] = copy.deepcopy(value)
    return settings


def fill_pelican_defaults(pelican):
    """``initialized`` receiver: every plugin connects it in ``register()``."""
    fill_defaults(pelican.settings)
