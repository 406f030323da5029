"""Check the staff's content before Pelican reads it.

Pelican alone reads a header line with a missing colon as body text, skips
an article with a terse message, and publishes a ``javascript:`` link. Here
the whole tree is checked first (the same checks as ``make check``); each
problem is printed as ``path:line: message``. Every rendered body and
Summary then goes through the allowlist sanitiser (:mod:`.sanitiser`).
Errors (broken header, removed HTML, duplicate address) fail every build; warnings (a missing photo,
a photo without caption) fail only ``make publish`` (``--fatal warnings``),
so a draft in progress still previews.
"""

import logging
import os

from pelican import signals
from pelican.contents import Article, Page
from pelican.utils import slugify

from portal.checks import content_check_requested
from portal.header import SLUG
from portal.markdown_source import SourceError, read_markdown
from portal.problems import Problem, report
from portal.settings import fill_pelican_defaults

from portal.render_stamp import render_stamp

from .markup_cache import MarkupCache
from .render import formatted_fields, fragments, renderer
from .sanitiser import markup_problems, message, sanitise
from .site import MAX_SLUG, check_site

logger = logging.getLogger(__name__)


# Files whose problems are errors: in `make devserver` (not fatal) such an
# article still previews, but only as a draft. A header broken before its
# `Status: draft` line must never make a draft look published.
_broken_sources = set()


# HTML fragments the sanitiser left exactly as they were, by hash, kept in
# the build cache: on a large site, sanitising every article again on every
# build would cost seconds for nothing. The stamp renews it when nh3, the
# sanitiser or any rendering code changes.
CLEAN_FILE = "sanitised-clean.json"
_clean = {}


def _check(generator):
    settings = generator.settings
    _clean["cache"] = MarkupCache(settings["CACHE_PATH"], render_stamp(settings), CLEAN_FILE)
    # The sanitiser's problems are reported per file by _sanitise, from the
    # HTML Pelican rendered: the Markdown is not rendered twice.
    problems = check_site(generator.settings, build=True)
    _broken_sources.clear()
    _broken_sources.update(os.path.abspath(p.path) for p in problems if p.severity == "error")
    report(problems)


def _content_ready(instance):
    """Each article or page as Pelican made it: errors preview as drafts,
    a bad Slug (reported by the header check) never writes, nor copies
    attachments, outside output/, and the HTML is sanitised."""
    if not isinstance(instance, (Article, Page)):
        return
    if os.path.abspath(instance.source_path) in _broken_sources:
        instance.status = "draft"
    if not SLUG.match(instance.slug or "") or len(instance.slug) > MAX_SLUG:
        instance.slug = slugify(instance.slug or "", regex_subs=instance.settings["SLUG_REGEX_SUBSTITUTIONS"]
                                )[:MAX_SLUG].rstrip("-") or "bai-viet"
    if isinstance(instance, Page) and instance.slug in ("index", "404"):
        instance.slug += "-trang"  # reported as a duplicate address; never over the site's own page
    _sanitise(instance)


def _sanitise(instance):
    """Every rendered fragment that is published (body, Summary and any
    other FORMATTED_FIELDS; captions are part of the body) goes through
    the allowlist sanitiser, in every build mode. What it removed is an
    error at the line where it was written, found by the same
    :func:`markup_problems` as ``make check``; the article then previews
    only as a draft (``make devserver``)."""
    rendered = fragments(instance.settings, instance._content, instance.metadata)
    results = [_sanitised(html) for html in rendered]
    if any(found for _, found in results):
        path = os.path.relpath(instance.source_path)
        try:
            text = read_markdown(instance.source_path, path)
            problems = markup_problems(path, text, renderer(instance.settings), rendered=rendered)
        except SourceError as error:  # changed on disk since Pelican read it
            problems = [error.problem]
        # never a silent removal, even if the file changed since Pelican read it
        problems = problems or [Problem(path, 1, message(found[0]), found[0].severity)
                                for _, found in results if found][:1]
        if any(p.severity == "error" for p in problems):
            instance.status = "draft"
        report(problems)
    if instance._content is not None:
        instance._content = results[0][0]
    for name, (cleaned, _) in zip(formatted_fields(instance.settings), results[1:]):
        if isinstance(instance.metadata.get(name), str):
            instance.metadata[name] = cleaned
    if isinstance(instance.metadata.get("summary"), str):
        instance._summary = instance.metadata["summary"]


def _sanitised(html):
    """``sanitise(html)``, skipped for a fragment already known clean."""
    cache = _clean.get("cache")
    if cache is not None and html and cache.known(html):
        cache.remember(html, [])
        return html, []
    cleaned, found = sanitise(html)
    if cache is not None and html and cleaned == html and not found:
        cache.remember(html, [])
    return cleaned, found


def _save_clean(*_):
    cache = _clean.pop("cache", None)
    if cache is not None:
        cache.save()


def _check_content(settings):
    """``make check``: the whole content tree, rendered as the build renders it."""
    return check_site(settings)


def register():
    signals.initialized.connect(fill_pelican_defaults)
    content_check_requested.connect(_check_content)
    # article_generator_init is sent once per build, before anything is read
    # (article_generator_preread would be once per article).
    signals.article_generator_init.connect(_check)
    signals.content_object_init.connect(_content_ready)
    signals.all_generators_finalized.connect(_save_clean)
