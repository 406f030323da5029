"""Validate the staff's Markdown headers before Pelican reads them.

Pelican alone reads a header with a missing colon as body text, or skips an
article with a terse message. Here every article and page is checked first;
each problem is logged as ``path:line: message`` and, if there was any, one
error ends the report, which fails the build under ``--fatal errors`` (the
Makefile's builds) while ``make devserver`` goes on with what it can show.
"""

import logging
import os
import unicodedata

from pelican import signals

from .rules import check_header

logger = logging.getLogger(__name__)


def markdown_files(root, folders, ignore=()):
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(".md") and name not in ignore:
                    yield os.path.join(dirpath, name)


def check_tree(settings, kind):
    """Problems of every article (``kind="article"``) or page of the site."""
    folders = settings["ARTICLE_PATHS"] if kind == "article" else settings["PAGE_PATHS"]
    categories = [unicodedata.normalize("NFC", c) for c in settings.get("MENU_CATEGORIES", [])]
    problems = []
    for path in markdown_files(settings["PATH"], folders):
        with open(path, encoding="utf-8") as handle:
            text = unicodedata.normalize("NFC", handle.read())
        problems.extend(check_header(os.path.relpath(path), text, kind, categories))
    return problems


def report(problems):
    for problem in problems:
        logger.warning("%s", problem)
    if problems:
        logger.error(
            "Nội dung có %d lỗi, xem các dòng trên (%d content problems, see above)",
            len(problems), len(problems),
        )


def _check_articles(generator):
    report(check_tree(generator.settings, "article"))


def _check_pages(generator):
    report(check_tree(generator.settings, "page"))


def register():
    signals.article_generator_preread.connect(_check_articles)
    signals.page_generator_preread.connect(_check_pages)
