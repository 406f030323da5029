"""``make banners``: every banner with its slot, order, status and clicks.

    python -m banners [--settings pelicanconf.py] [--views output/feeds/views.json]

Clicks are the page views of the banner's redirect page
(``chuyen-huong/<id>.html``) counted by ``make stats``.
"""

import argparse
import os
import sys
import unicodedata

from pelican.settings import read_settings

from live_widgets.feeds import FeedError, parse_views, read_json
from live_widgets.safe_text import shown

from . import banners_path, build_now
from .model import load_banners, redirect_path, status_text


def load_views(paths):
    """Page views from the first valid ``views.json`` of ``paths``."""
    for path in paths:
        try:
            return parse_views(read_json(path))
        except FeedError:
            continue
    return {}


def _width(text):
    return sum(0 if unicodedata.combining(c) else 1 for c in unicodedata.normalize("NFC", text))


def table(rows):
    """Aligned columns; every cell made printable first (a title holding
    ``ESC [2J`` must not clear the operator's terminal)."""
    rows = [[shown(cell) for cell in row] for row in rows]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None, out=sys.stdout):
    parser = argparse.ArgumentParser(prog="banners", description=__doc__.split("\n")[0])
    parser.add_argument("--settings", default="pelicanconf.py")
    parser.add_argument("--views", action="append", help="views.json to read clicks from")
    args = parser.parse_args(argv)
    settings = read_settings(args.settings)
    banners, problems = load_banners(banners_path(settings), settings["PATH"], settings.get("BANNER_SLOTS", {}))
    for problem in problems:
        print(problem, file=out)
    now = build_now(settings)
    feeds = settings.get("LIVE_FEEDS_OUTPUT", "feeds")
    views = load_views(args.views or [
        os.path.join(settings["OUTPUT_PATH"], feeds, "views.json"),
        os.path.join(settings["PATH"], settings.get("LIVE_FEEDS_DIR", "feeds"), "views.json"),
    ])
    slots = list(settings.get("BANNER_SLOTS", {}))
    rows = [("vị trí", "thứ tự", "id", "tiêu đề", "trạng thái", "lượt bấm")]
    for banner in sorted(banners, key=lambda b: (slots.index(b.slot), b.order, b.id)):
        clicks = views.get(redirect_path(banner)) if banner.external else None
        rows.append((banner.slot, banner.order, banner.id, banner.title, status_text(banner, now),
                     "—" if clicks is None else clicks))
    print(table(rows), file=out)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
