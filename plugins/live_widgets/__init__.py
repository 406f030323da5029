"""Live widgets: visitor statistics, per-article views, the COVID bulletin.

A page's HTML depends on content, templates, settings and banners only,
never on the counter: the visitor widget and the view-count line carry no
number, only where to find one. ``theme/static/js/live-widgets.js`` fills
them in from the published feeds (``output/feeds/``: ``visitors.json``,
and the article's own view shard ``luot-xem/<shard>.json``); readers
without JavaScript see small HTML fragments in an ``<iframe>`` inside
``<noscript>`` (``thong-ke.html``, ``luot-xem/<shard>/<address>``). The
counter's cron job rewrites feeds, shards and fragments in production;
this build publishes them too, from the feeds it has (``content/feeds/``,
or the counter's newer published copy), so a fresh site shows numbers.
The bulletin, whose text staff edit, is still rendered into the page.

A feed that is missing or wrong is reported as a warning naming the file
and the field; the last good values, kept in the build cache, are
published instead, or none if there never were any. ``make publish`` runs
with ``--fatal warnings`` and so fails on the same problems.
"""

import json
import logging
import os
import sys

from pelican import signals

from portal import outputs, view_shards
from portal.atomic import write_atomic
from portal.checks import content_check_requested
from portal.problems import Problem, report
from portal.settings import fill_pelican_defaults
from portal.feeds import FeedError, parse_covid, parse_time, parse_views, parse_visitors, read_json, region_sentence
from portal.safe_text import codepoints, shown

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


def load_feed(name, folder, root=None, notes=None):
    """``(raw, sources, value)`` of one feed file in ``folder``; every file
    read must resolve inside ``root`` (see ``feeds.read_json``)."""
    raw = read_json(os.path.join(folder, FEED_FILES[name]), root, notes)
    sources = {}

    def read(source):
        sources[source] = read_json(os.path.join(folder, source), root, notes)
        return sources[source]

    return raw, sources, parse_feed(name, raw, read)


def feed_problem(path, error, consequence=None):
    """The warning for one feed: ``path:line: message`` (or ``path:
    trường x: message``), then what the build does about it; anything the
    file brought made printable."""
    field = f"trường {error.field}: " if error.field else ""
    message = f"{field}{error.message}" + (f"; {consequence}" if consequence else "")
    return Problem(shown(os.path.relpath(path)), error.line or 0, shown(message), "warning")


def feed_problems(folder, root):
    """What the build would warn about the feeds of ``folder`` (content/feeds),
    as ``Problem`` s for `make check`: the same reading and the same words."""
    problems = []
    for name, filename in FEED_FILES.items():
        path = os.path.join(folder, filename)
        notes = []
        try:
            load_feed(name, folder, root, notes)
        except FeedError as error:
            problems.append(feed_problem(path, error))
        problems += [invisible_note(*note) for note in notes]
    return problems


def invisible_note(path, field, removed):
    return Problem(shown(os.path.relpath(path)), 0, shown(
        f"trường {field}: đã bỏ ký tự vô hình/điều khiển hướng chữ {codepoints(removed)} "
        "(chúng có thể làm chữ số hiện ngược, “1.234” thành “432.1”); hãy xóa chúng khỏi tệp "
        "(invisible or bidi control characters removed)"), "warning")


def _updated(raw):
    try:
        return parse_time(raw.get("updated"))
    except (FeedError, AttributeError):
        return None


def _newer(current, candidate):
    """The counter's copy ``candidate`` wins when valid and newer."""
    if candidate is None or current is None:
        return current or candidate
    newer, older = _updated(candidate[0]), _updated(current[0])
    return candidate if newer and older and newer > older else current


CACHE_PROBLEM = "bộ nhớ đệm hỏng, đã bỏ và sẽ tạo lại (unreadable cache discarded and rebuilt)"


def _cached_value(name, entry):
    """Re-validate one cache entry: rules may have changed since it was written."""
    if name not in FEED_FILES or not isinstance(entry, dict) or "raw" not in entry \
            or not isinstance(entry.get("sources", {}), dict):
        raise FeedError(name, "sai cấu trúc (wrong shape)")
    sources = entry.get("sources", {})

    def read(source):
        if source not in sources:
            raise FeedError(name, f"thiếu tệp nguồn {source} (source missing)")
        return sources[source]

    return parse_feed(name, entry["raw"], read)


def read_cache(cache_file):
    """The last good ``{name: {"raw", "sources"}}``. A cache that cannot be
    read or has the wrong shape (a killed build, a full disk) is discarded
    with one line naming it: it is ours, not the staff's, and rebuilt from
    this build's feeds, so the build goes on (strict builds too)."""
    if not os.path.lexists(cache_file):
        return {}
    try:
        data = read_json(cache_file)
        if not isinstance(data, dict):
            raise FeedError(None, "không phải đối tượng JSON (not an object)")
        for name, entry in data.items():
            _cached_value(name, entry)
    except FeedError as error:  # printed, never fatal: the cache mends itself
        print(feed_problem(cache_file, error, CACHE_PROBLEM), file=sys.stderr)
        return {}
    return data


# What readers miss while a feed never was valid.
LEFT_OUT = {
    "visitors": "chưa có số liệu để hiện (no figures shown yet)",
    "views": "chưa có lượt xem để hiện (no view counts shown yet)",
    "covid": "tạm ẩn mục này (widget left out)",
}


def _attempt(name, folder, root, notes, errors):
    """A feed from ``folder``, or None with the error kept in ``errors``."""
    try:
        return load_feed(name, folder, root, notes)
    except FeedError as error:
        errors.append((os.path.join(folder, FEED_FILES[name]), error))
        return None


def load_all(folder, cache_file, live_folder=None, root=None):
    """Every feed's value (or None) and the raw files to publish, falling
    back to the last good copy in ``cache_file`` for a feed with problems.

    In production ``make stats`` rewrites the *published* feeds every
    minute; ``live_folder`` (``output/feeds``) is read too and the newer
    valid copy wins, so a rebuild snapshots current figures, not the ones
    in ``content/feeds``. Files of ``folder`` must resolve inside ``root``
    (``content/``), those of ``live_folder`` inside it."""
    last_good = read_cache(cache_file)
    values, published, problems = {}, {}, []
    for name, filename in FEED_FILES.items():
        notes, errors, live_errors = [], [], []
        fresh = _attempt(name, folder, root or folder, notes, errors)
        live = None
        if live_folder and os.path.lexists(os.path.join(live_folder, filename)):
            live = _attempt(name, live_folder, live_folder, notes, live_errors)
        chosen = _newer(fresh, live)
        for path, error in errors:
            fallback = "dùng số liệu hợp lệ lần trước (keeping the last good values)" \
                if live or name in last_good else LEFT_OUT[name]
            problems.append(feed_problem(path, error, f"{fallback}. Hãy sửa tệp này (fix this file)."))
        for path, error in live_errors:
            problems.append(feed_problem(path, error, "bản do bộ đếm ghi bị bỏ qua đến lần chạy make stats sau "
                                         "(the counter's published copy is ignored until make stats rewrites it)."))
        problems += [invisible_note(*note) for note in notes]
        if chosen is None and name in last_good:
            entry = last_good[name]
            chosen = entry["raw"], entry.get("sources", {}), _cached_value(name, entry)
        if chosen is None:
            values[name] = None
            continue
        raw, sources, values[name] = chosen
        last_good[name] = {"raw": raw, "sources": sources}
        published[filename] = raw
        published.update(sources)
    # warnings: `make publish` (--fatal warnings) stops here, every one named
    report(problems, subject=("Dữ liệu trực tiếp", "live feeds"))
    try:
        os.makedirs(os.path.dirname(cache_file) or ".", exist_ok=True)
        write_atomic(cache_file, json.dumps(last_good, ensure_ascii=False).encode("utf-8"))
    except OSError as error:  # e.g. a folder where the cache should be: the pages are still right
        print(shown(f"{os.path.relpath(cache_file)}: cảnh báo: không ghi được bộ nhớ đệm: {error.strerror} "
                    "(cannot write the cache)"), file=sys.stderr)
    return values, published


def live_files(visitors, views, addresses):
    """``{path in the feeds folder: bytes}`` the build publishes besides
    the feeds: the visitor fragment, every view shard, and one fragment
    per article address (empty while it has no count). Addresses are the
    build's own, never a feed's keys, so a key cannot name a file."""
    files = {view_shards.VISITORS_FRAGMENT: view_shards.visitors_fragment(visitors)}
    files.update(view_shards.render_shards(views or {}))
    for address in addresses:
        fragment = view_shards.fragment_path(address)
        if fragment:
            files[fragment] = view_shards.views_fragment((views or {}).get(address))
    return files


def _articles(generators):
    return [article for gen in generators for article in getattr(gen, "articles", [])]


def _render(generators):
    generator = generators[0]
    settings = generator.settings
    folder = os.path.join(settings["PATH"], settings["LIVE_FEEDS_DIR"])
    cache_file = os.path.join(settings["CACHE_PATH"], "live-widgets.json")
    live_folder = os.path.join(settings["OUTPUT_PATH"], settings["LIVE_FEEDS_OUTPUT"])
    values, published = load_all(folder, cache_file, live_folder, root=settings["PATH"])

    covid = values["covid"]
    if covid:
        covid = dict(covid, regions=[dict(r, sentence=region_sentence(r)) for r in covid["regions"]])
    generator.context.update(covid_bulletin=covid, visitors_fragment=view_shards.VISITORS_FRAGMENT)
    articles = _articles(generators)
    for article in articles:  # where its number is, from its address alone
        article.views_shard = view_shards.shard_path(article.url)
        article.views_fragment = view_shards.fragment_url(article.url)

    registry = outputs.registry_for(generator.output_path)
    for filename, raw in published.items():
        registry.write(os.path.join(settings["LIVE_FEEDS_OUTPUT"], filename),
                       json.dumps(raw, ensure_ascii=False, separators=(",", ":")), "feed", os.path.join(folder, filename))
    source = os.path.join(folder, FEED_FILES["views"])
    for path, data in live_files(values["visitors"], values["views"], [a.url for a in articles]).items():
        registry.write(os.path.join(settings["LIVE_FEEDS_OUTPUT"], path), data, "feed",
                       os.path.join(folder, FEED_FILES["visitors"]) if path == view_shards.VISITORS_FRAGMENT
                       else source)


def _check(settings):
    """``make check``: the feeds, read as the build reads them."""
    return feed_problems(os.path.join(settings["PATH"], settings["LIVE_FEEDS_DIR"]), settings["PATH"])


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.all_generators_finalized.connect(_render)
    content_check_requested.connect(_check)
