"""Check the staff's content before Pelican reads it.

Pelican alone reads a header line with a missing colon as body text, skips
an article with a terse message, and publishes a ``javascript:`` link. Here
the whole tree is checked first (the same checks as ``make check``); each
problem is printed as ``path:line: message``. Errors (broken header,
unsafe link, duplicate address) fail every build; warnings (a missing photo,
a photo without caption) fail only ``make publish`` (``--fatal warnings``),
so a draft in progress still previews.
"""

import logging
import sys

from pelican import signals

from .site import check_site

logger = logging.getLogger(__name__)


def report(problems, stream=None):
    """Print every problem, then log one summary at the worst severity."""
    stream = stream or sys.stderr
    for problem in problems:
        print(problem, file=stream)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors:
        logger.error("Nội dung có %d lỗi và %d cảnh báo, xem các dòng trên "
                     "(%d errors, %d warnings in content)", errors, warnings, errors, warnings)
    elif warnings:
        logger.warning("Nội dung có %d cảnh báo, xem các dòng trên (%d content warnings)",
                       warnings, warnings)


def _check(generator):
    report(check_site(generator.settings))


def register():
    # article_generator_init is sent once per build, before anything is read
    # (article_generator_preread would be once per article).
    signals.article_generator_init.connect(_check)
