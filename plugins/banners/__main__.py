"""``make banners``: every banner with its slot, order, status and clicks.

    python -m banners [--settings pelicanconf.py] [--views output/feeds/views.json]

Clicks are the requests of the banner's redirect page
(``chuyen-huong/<id>.html``) counted by ``make stats``.
"""

import argparse
import os
import sys
import unicodedata

from pelican.settings import read_settings

from portal.feeds import FeedError, parse_clicks, read_json
from portal.problems import report
from portal.safe_text import shown
from portal.settings import fill_defaults
from portal.vietnamese import nfc

from . import banners_path, build_now
from .model import load_banners, redirect_path, status_text


def load_clicks(paths):
    """Clicks per redirect page from the first valid ``views.json`` of ``paths``."""
    for path in paths:
        try:
            return parse_clicks(read_json(path))
        except FeedError:
            continue
    return {}


def _width(text):
    return sum(0 if unicodedata.combining(c) else 1 for c in nfc(text))


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
    settings = fill_defaults(read_settings(args.settings))
    banners, problems = load_banners(banners_path(settings), settings["PATH"], settings["BANNER_SLOTS"])
    status = report(problems, tool="make banners", ok=None, stream=out)
    now = build_now(settings)
    feeds = settings["LIVE_FEEDS_OUTPUT"]
    clicks_of = load_clicks(args.views or [
        os.path.join(settings["OUTPUT_PATH"], feeds, "views.json"),
        os.path.join(settings["PATH"], settings["LIVE_FEEDS_DIR"], "views.json"),
    ])
    slots = list(settings["BANNER_SLOTS"])
    rows = [("vị trí", "thứ tự", "id", "tiêu đề", "trạng thái", "lượt bấm")]
    for banner in sorted(banners, key=lambda b: (slots.index(b.slot), b.order, b.id)):
        clicks = clicks_of.get(redirect_path(banner)) if banner.external else None
        rows.append((banner.slot, banner.order, banner.id, banner.title, status_text(banner, now),
                     "—" if clicks is None else clicks))
    print(table(rows), file=out)
    return status


if __name__ == "__main__":
    sys.exit(main())
