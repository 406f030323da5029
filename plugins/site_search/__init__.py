"""Static full-text search: Pagefind indexes the finished site.

* At ``generator_init`` two Jinja filters are installed for the theme's
  ``partials/search_meta.html``: ``fold_d`` (``Đại hội`` → ``Dại hội``) and
  ``search_fold_entry`` (the đ-words, folded, each once, of everything
  indexed of an article or page). They put a đ→d copy of the title and of the đ-words into
  ``<head>`` as searchable Pagefind metadata: Pagefind folds tone marks
  itself (``hoi`` finds ``hội``) but ``đ``/``Đ`` have no Unicode
  decomposition, so without that copy ``dai`` would never reach ``đại``.
  The browser side (theme/static/js/search.js) folds the query the same way.
* At ``finalized`` (listed before ``atomic_output``, so on the complete
  staging folder) Pagefind, from the pinned ``pagefind[bin]`` wheel (no
  network), writes its index into ``<output>/pagefind/``. If it fails, the
  build fails and the last published site stays in place.

Only what ``data-pagefind-body`` marks is indexed (the article or page, not
the menu, sidebar, footer or related list), less ``data-pagefind-ignore``
and the ``SEARCH_EXCLUDE_SELECTORS`` (breadcrumb, date line, byline);
drafts and hidden (``Status: hidden``) articles and pages are written
without the marker, and if no page at all has it
nothing is indexed. ``SEARCH_INDEX = False`` skips indexing (benchmarks).
"""

import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from pelican import signals

# Visible text of an HTML fragment, parsed (not a regex): text after a ">"
# inside an attribute value is not taken for page text.
from portal import outputs
from portal.html_text import html_to_text
from portal.problems import fail_cleanly
from portal.settings import fill_pelican_defaults
from portal.vietnamese import nfc

logger = logging.getLogger(__name__)

# Inside data-pagefind-body, the parts that are not what readers search:
# the breadcrumb (menu text), the date line and the byline.
DEFAULT_EXCLUDE_SELECTORS = [".breadcrumb", ".article__date", ".article__byline"]
OUTPUT_SUBDIR = "pagefind"
LANGUAGE = "vi"

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


def pagefind_command(site, exclude_selectors=DEFAULT_EXCLUDE_SELECTORS, language=LANGUAGE):
    """The Pagefind command line that indexes ``site`` into ``site/pagefind``."""
    command = [
        sys.executable, "-m", "pagefind",
        "--site", str(site),
        "--output-subdir", OUTPUT_SUBDIR,
        "--force-language", language,
        "--quiet",
    ]
    for selector in exclude_selectors:
        command += ["--exclude-selectors", selector]
    return command


class SearchIndexError(RuntimeError):
    pass


def has_search_body(site):
    """Whether any page of ``site`` carries ``data-pagefind-body``. Without
    one, Pagefind would index every page whole (menus, sidebars, drafts),
    so the index is then not built at all."""
    for path in Path(site).rglob("*.html"):
        with open(path, encoding="utf-8", errors="replace") as handle:
            if "data-pagefind-body" in handle.read():
                return True
    return False


def index_site(site, exclude_selectors=DEFAULT_EXCLUDE_SELECTORS, language=LANGUAGE, timeout=1800):
    """Run Pagefind on ``site``; returns a dict of figures for the summary
    line. Raises SearchIndexError with Pagefind's own output on failure."""
    site = Path(site)
    start = time.perf_counter()
    try:
        result = subprocess.run(
            pagefind_command(site, exclude_selectors, language),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=timeout, env=dict(os.environ, NO_COLOR="1"),
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SearchIndexError(f"could not run Pagefind: {error}") from error
    seconds = time.perf_counter() - start
    bundle = site / OUTPUT_SUBDIR
    if result.returncode != 0 or not (bundle / "pagefind-entry.json").is_file():
        output = result.stdout.strip() or "(no output)"
        raise SearchIndexError(f"Pagefind failed (exit {result.returncode}):\n{output}")
    files = [p for p in bundle.rglob("*") if p.is_file()]
    pages = len(list((bundle / "fragment").glob("*.pf_fragment")))
    if pages == 0:
        raise SearchIndexError("Pagefind indexed no page: no page carries data-pagefind-body")
    return {
        "seconds": seconds,
        "pages": pages,
        "bytes": sum(p.stat().st_size for p in files),
        "files": len(files),
        "warnings": result.stdout.strip(),
    }


def _megabytes(size):
    return f"{size / 1_000_000:.1f} MB"


def _add_filters(generator):
    generator.env.filters["fold_d"] = fold_d
    generator.env.filters["search_fold_entry"] = entry_fold


def _index(pelican):
    settings = pelican.settings
    if not settings["SEARCH_INDEX"]:
        return
    exclude = settings["SEARCH_EXCLUDE_SELECTORS"]
    if not has_search_body(pelican.output_path):
        fail_cleanly(logger.warning, "Chưa có bài viết hay trang nào để lập chỉ mục tìm kiếm "
                     "(search index not built: no published article or page to index)")
        return
    try:
        figures = index_site(pelican.output_path, exclude)
    except SearchIndexError as error:
        # Raising stops the `finalized` handlers that follow, so
        # atomic_output never swaps a site without search into place.
        logger.error("Search index not built, the site is not published: %s", error)
        raise
    outputs.registry_for(pelican.output_path).record_folder(OUTPUT_SUBDIR, "search")
    logger.info(
        "Search index: %d pages, %s in %d files, %.1f s (Pagefind)",
        figures["pages"], _megabytes(figures["bytes"]), figures["files"], figures["seconds"],
    )


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.generator_init.connect(_add_filters)
    signals.finalized.connect(_index)
