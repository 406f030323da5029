"""Static full-text search: Pagefind indexes the finished site.

* At ``generator_init`` two Jinja filters are installed for the theme's
  ``partials/search_meta.html``: ``fold_d`` (``Đại hội`` → ``Dại hội``) and
  ``search_fold_entry`` (the đ-words, folded, each once, of everything
  indexed of an article or page). They put a đ→d copy of the title and of the đ-words into
  ``<head>`` as searchable Pagefind metadata: Pagefind folds tone marks
  itself (``hoi`` finds ``hội``) but ``đ``/``Đ`` have no Unicode
  decomposition, so without that copy ``dai`` would never reach ``đại``.
  The browser side (theme/static/js/search.js) folds the query the same way.
* When the generators are done, the published articles and pages (the
  ones the theme marks with ``data-pagefind-body``) are noted from
  Pelican's own lists, not found by scanning output/.
* At ``finalized`` (listed before ``atomic_output``, so on the complete
  staging folder) they are indexed in shards (``shards.py``: by year, the
  static pages apart), each a Pagefind index of its own built by the CLI
  of the pinned ``pagefind[bin]`` wheel (no network) and kept in
  ``CACHE_PATH/search/<shard>/`` with a manifest of what it was built
  from (``indexer.py``). Only shards whose pages, Pagefind version,
  exclusions or our code changed are rebuilt; every shard is published
  under ``pagefind/<shard>/`` with ``pagefind/shards.json`` (``build.py``),
  and the search page merges them in the browser. If Pagefind fails, the
  build fails and the last published site stays in place.

Only what ``data-pagefind-body`` marks is indexed (the article or page, not
the menu, sidebar, footer or related list), less ``data-pagefind-ignore``
and the ``SEARCH_EXCLUDE_SELECTORS`` (breadcrumb, date line, byline);
drafts and hidden (``Status: hidden``) articles and pages are written
without the marker, and if no page at all has it nothing is indexed.
``SEARCH_INDEX = False`` skips indexing (benchmarks). ``SEARCH_SHARD_MAX_PAGES``
bounds a shard (and Pagefind's memory), ``SEARCH_WORKERS`` how many shards
are indexed at once.
"""

import logging
import os
import re
import shutil

from pelican import signals
from pelican.generators import ArticlesGenerator, PagesGenerator

# Visible text of an HTML fragment, parsed (not a regex): text after a ">"
# inside an attribute value is not taken for page text.
from portal import outputs, progress
from portal.html_text import html_to_text
from portal.problems import fail_cleanly
from portal.settings import fill_pelican_defaults
from portal.vietnamese import nfc

from .build import OUTPUT_SUBDIR, SHARD_LIST, publish, update
from .indexer import LANGUAGE, SearchIndexError, pagefind_command, run_pagefind
from .shards import IndexedPage

logger = logging.getLogger(__name__)

# Inside data-pagefind-body, the parts that are not what readers search:
# the breadcrumb (menu text), the date line and the byline.
DEFAULT_EXCLUDE_SELECTORS = [".breadcrumb", ".article__date", ".article__byline"]

_D_FOLD = str.maketrans({"đ": "d", "Đ": "D"})
_WORD = re.compile(r"\w+")


def fold_d(text):
    """``text`` in NFC with ``đ``/``Đ`` turned into ``d``/``D``; every other
    letter, tone marks included, is left for Pagefind's own folding."""
    return nfc(text or "").translate(_D_FOLD)


def d_words(*texts):
    """The words of ``texts`` that contain ``đ``/``Đ``, folded to ``d``,
    lower-cased, each once, in order of first appearance.

    Only these need a folded copy: every other word is already reachable
    with or without accents through Pagefind's folding.
    """
    seen = {}
    for text in texts:
        for word in _WORD.findall(nfc(text or "")):
            lower = word.lower()
            if "đ" in lower:
                seen.setdefault(fold_d(lower), None)
    return list(seen)


def search_fold(*parts):
    """Jinja filter: the folded đ-words of one or more HTML/text values, as
    one space-separated string (empty if none), e.g.
    ``"Đại hội Đảng bộ"|search_fold`` → ``"dai dang"``."""
    return " ".join(d_words(*(html_to_text(p) for p in parts)))


def indexed_parts(entry):
    """The texts of an article or page that its page shows inside
    ``data-pagefind-body``: title aside, the lead, the body and every
    caption (lead photo, gallery). tests/test_search.py checks on the
    built index that nothing indexed is missing here."""
    parts = [getattr(entry, "summary", ""), getattr(entry, "content", "")]
    lead = getattr(entry, "lead_image", None)
    if lead is not None:
        parts.append(getattr(lead, "caption", "") or "")
    for photo in getattr(entry, "gallery", None) or []:
        parts.append(getattr(photo, "caption", "") or "")
    return parts


def entry_fold(entry):
    """Jinja filter: the folded đ-words of everything indexed of ``entry``
    but its title (see indexed_parts)."""
    return search_fold(*indexed_parts(entry))


def indexed_entry(entry, dated):
    """The IndexedPage of a Pelican article (``dated``) or page, or None
    when it is not indexed: only published ones (search_meta.html gives
    only them data-pagefind-body) that are written somewhere."""
    save_as = getattr(entry, "save_as", "") or ""
    if getattr(entry, "status", None) != "published" or not save_as:
        return None
    return IndexedPage(save_as.replace(os.sep, "/"), entry.date if dated else None)


def entries_to_index(generators):
    """The IndexedPages of the articles and pages (translations too) the
    generators hold; never read back from output/ by scanning files."""
    pages = []
    for generator in generators:
        if isinstance(generator, ArticlesGenerator):
            entries, dated = [*generator.articles, *generator.translations], True
        elif isinstance(generator, PagesGenerator):
            entries, dated = [*generator.pages, *generator.translations], False
        else:
            continue
        pages += [p for p in (indexed_entry(e, dated) for e in entries) if p is not None]
    return pages


def _add_filters(generator):
    generator.env.filters["fold_d"] = fold_d
    generator.env.filters["search_fold_entry"] = entry_fold


# The pages to index of each run, by output folder: collected when the
# generators are done, indexed at `finalized`.
_runs = {}


def _collect(generators):
    output = next((g.output_path for g in generators if getattr(g, "output_path", None)), None)
    if output is not None:
        _runs[os.path.abspath(output)] = entries_to_index(generators)


def cache_folder(settings):
    return os.path.join(settings["CACHE_PATH"], "search")


def _megabytes(size):
    return f"{size / 1_000_000:.1f} MB"


def _log_shard(shard):
    if shard.rebuilt:
        logger.info("Tìm kiếm: phần %s dựng lại, %d trang, %.1f s (search shard rebuilt)",
                    shard.name, len(shard.pages), shard.seconds)
    else:
        logger.info("Tìm kiếm: phần %s dùng lại, %d trang (search shard reused)", shard.name, len(shard.pages))


def _remove_index(site):
    folder = os.path.join(site, OUTPUT_SUBDIR)
    if os.path.isdir(folder) and not os.path.islink(folder):
        shutil.rmtree(folder)


def _index(pelican):
    settings = pelican.settings
    site = pelican.output_path
    pages = _runs.pop(os.path.abspath(site), [])
    if not settings["SEARCH_INDEX"]:
        _remove_index(site)  # a tree started from the published one holds no stale index
        return
    progress.phase("chỉ mục tìm kiếm (search index)", f"{len(pages)} trang")
    try:
        summary = update(site, pages, cache_folder(settings), settings["SEARCH_EXCLUDE_SELECTORS"],
                         settings["SEARCH_SHARD_MAX_PAGES"], settings["SEARCH_SHARDING"],
                         settings["SEARCH_WORKERS"], on_shard=_log_shard)
        if summary is None:
            _remove_index(site)
            fail_cleanly(logger.warning, "Chưa có bài viết hay trang nào để lập chỉ mục tìm kiếm "
                         "(search index not built: no published article or page to index)")
            return
        publish(outputs.registry_for(site), cache_folder(settings), summary)
    except (SearchIndexError, OSError, ValueError) as error:
        # Raising stops the `finalized` handlers that follow, so
        # atomic_output never swaps a site without search into place.
        logger.error("Search index not built, the site is not published: %s", error)
        raise
    logger.info(
        "Chỉ mục tìm kiếm: %d phần (%d dựng lại, %d dùng lại), %d trang, %s, %.1f s "
        "(search index: shards rebuilt %d, reused %d, pages %d)",
        len(summary.shards), len(summary.rebuilt), len(summary.shards) - len(summary.rebuilt), summary.pages,
        _megabytes(summary.bytes), summary.seconds,
        len(summary.rebuilt), len(summary.shards) - len(summary.rebuilt), summary.pages,
    )


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.generator_init.connect(_add_filters)
    signals.all_generators_finalized.connect(_collect)
    signals.finalized.connect(_index)
