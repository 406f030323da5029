"""Sidebar banners from ``content/banners.yml``, without touching templates.

Slots and their display widths are declared in ``BANNER_SLOTS``. Each
banner's image is resized for its slot (1x and 2x, animated GIFs stay
animated) by the shared photo pipeline. Banners that already ended are left
out; upcoming ones are rendered hidden with their dates, and
``theme/static/js/banner-schedule.js`` shows or hides them on time, so the
page is right on the day a banner starts or ends even without a rebuild.

Outbound links go through ``/chuyen-huong/<id>.html``, a tiny redirect
page, so the access log (and ``make banners``) sees the clicks without any
tracking script.
"""

import datetime
import html
import logging
import os

from pelican import signals

from portal import outputs
from portal.checks import content_check_requested
from portal.images import PhotoError
from portal.photo_cache import forget_photo_caches, photo_cache, publish_files
from portal.problems import fail_cleanly, report
from portal.safe_text import shown
from portal.settings import fill_pelican_defaults
from portal.vietnamese import TIMEZONE, to_vn

from .model import layout_problems, load_banners, redirect_path, slot_banners, slot_places

logger = logging.getLogger(__name__)

REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="robots" content="noindex">
<meta name="referrer" content="origin">
<meta http-equiv="refresh" content="0; url={url}">
<title>Chuyển đến {title}</title></head>
<body><p>Đang chuyển đến <a href="{url}" rel="noopener">{title}</a>…</p></body></html>
"""


def build_now(settings):
    """The moment the build judges schedules by (``BANNERS_NOW`` pins it
    for tests; ISO 8601, Vietnam time if no offset)."""
    pinned = settings["BANNERS_NOW"]
    if pinned:
        moment = datetime.datetime.fromisoformat(pinned)
        return to_vn(moment)
    return datetime.datetime.now(TIMEZONE)


def banners_path(settings):
    return os.path.join(settings["PATH"], settings["BANNERS_FILE"])


def _millis(moment):
    return int(moment.timestamp() * 1000) if moment else None


def _render(generators):
    generator = generators[0]
    settings = generator.settings
    slots = settings["BANNER_SLOTS"]
    sidebar = settings["SIDEBAR_BLOCKS"]
    places = slot_places(slots)
    widgets = {name[len("widgets/"):-len(".html")] for name in generator.env.list_templates()
               if name.startswith("widgets/") and name.endswith(".html")} or None
    banners, problems = load_banners(banners_path(settings), settings["PATH"], slots)
    problems += layout_problems(slots, sidebar, widgets)
    # the build fails (--fatal errors); nothing is published from an invalid file
    if report(problems, subject=("Biểu ngữ", "banners")):
        return
    now = build_now(settings)
    cache = photo_cache(settings)
    published = {}  # processed file -> the banner image it was made from
    registry = outputs.registry_for(generator.output_path)
    # a banner that starts or ends later changes the pages then, whatever
    # else does (unless the clock is pinned: then it is a setting)
    for moment in (m for banner in banners for m in (banner.start, banner.end) if m and m > now):
        if not settings["BANNERS_NOW"]:
            registry.expires(moment)
    site = settings["SITEURL"]
    output = generator.output_path
    context_slots = {}
    for name, members in slot_banners(banners, slots, now).items():
        rendered = []
        for banner in members:
            try:
                image = cache.banner(os.path.join(settings["PATH"], banner.image), slots[name]["width"])
            except PhotoError as error:
                fail_cleanly(logger.error, "%s", shown(f"{os.path.relpath(banners_path(settings))}:{banner.line}: "
                                                     f"banner “{banner.id}”: {error}"))
                continue
            published.update(dict.fromkeys((image["src"], image["src2x"]), os.path.join(settings["PATH"], banner.image)))
            href = banner.link if not banner.external else f"{site}/{redirect_path(banner)}"
            if banner.external:
                registry.write(redirect_path(banner), REDIRECT_PAGE.format(
                    url=html.escape(banner.link), title=html.escape(banner.title)), "redirect", banners_path(settings))
            rendered.append({
                "id": banner.id, "title": banner.title, "href": href, "external": banner.external,
                "new_tab": banner.new_tab, "width": image["width"], "height": image["height"],
                "src": f"{site}/{settings['PHOTOS_URL']}/{image['src']}",
                "src2x": f"{site}/{settings['PHOTOS_URL']}/{image['src2x']}",
                "start": _millis(banner.start), "end": _millis(banner.end),
                "hidden": banner.status(now) != "active",
            })
        context_slots[name] = {
            "name": name,
            "place": places[name],
            "title": slots[name].get("title", ""),
            "banners": rendered,
            "hidden": not any(not b["hidden"] for b in rendered),
            "scheduled": any(b["start"] or b["end"] for b in rendered),
        }
    for path in publish_files(sorted(published), cache.files_dir, os.path.join(output, settings["PHOTOS_URL"]),
                              reuse=registry.reuse):
        registry.record(path, "photo", published[path.name])
    # in BANNER_SLOTS order; the header shows those whose place is "header"
    generator.context["banner_slots"] = context_slots
    unlisted = [name for name in slots if places[name] == "sidebar" and name not in sidebar]
    generator.context["sidebar_blocks"] = [{"slot": context_slots[name]} if name in slots else {"widget": name}
                                           for name in list(sidebar) + unlisted]
    # the schedule script is loaded only where a banner has dates
    generator.context["banner_schedule_needed"] = any(s["scheduled"] for s in context_slots.values())


def theme_widgets(settings):
    """The sidebar widgets the theme has (``templates/widgets/<name>.html``);
    None for a theme without that folder (Pelican's own: no sidebar to lay out)."""
    folder = os.path.join(settings["THEME"], "templates", "widgets")
    return {name[:-len(".html")] for name in os.listdir(folder) if name.endswith(".html")} \
        if os.path.isdir(folder) else None


def _check(settings):
    """``make check``: banners.yml and the sidebar settings, judged as the build judges them."""
    slots = settings["BANNER_SLOTS"]
    return (load_banners(banners_path(settings), settings["PATH"], slots)[1]
            + layout_problems(slots, settings["SIDEBAR_BLOCKS"], theme_widgets(settings)))


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.get_generators.connect(forget_photo_caches)
    content_check_requested.connect(_check)
    signals.all_generators_finalized.connect(_render)
