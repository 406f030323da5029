"""Atom feeds with titles as written.

Pelican's Writer passes every feed and item title through
``Markup(...).striptags()``, which drops ``<y và y>`` from ``Giá x<y và y>z``
and decodes ``&amp;``. Titles are plain text (see portal.html_text); the
feed library escapes them for XML itself. At ``feed_generated`` (the feed
is complete, not yet written) the plain titles are put back: each item's
from the article its link leads to, the feed's own from the site name and
the category it lists. Done on the signal, not in a Writer of our own, so
the Writer stays free for incremental_pages.
"""

from urllib.parse import urlparse

from markupsafe import Markup

from portal.html_text import plain_title


def _stripped(text):
    return Markup(text).striptags()


def _article_by_link(link, by_url):
    """The article whose address ends ``link``'s path, or None."""
    parts = urlparse(link).path.strip("/").split("/")
    for start in range(len(parts)):
        found = by_url.get("/".join(parts[start:]))
        if found is not None:
            return found
    return None


def feed_title(context, stripped):
    """The plain title of a feed Pelican titled ``stripped``."""
    site = context["SITENAME"]
    if stripped == _stripped(site):
        return plain_title(site)
    for category, _ in context.get("categories") or ():
        name = f"{site} - {category}"
        if stripped == _stripped(name):
            return plain_title(name)
    return stripped


_by_url = {}


def _articles_by_url(articles):
    """``{address: article}``, made once per build (Pelican computes an
    article's address anew each time it is asked: 5,000 of them per feed
    would cost half a second)."""
    if _by_url.get("of") is not articles:
        _by_url.update(of=articles, map={a.url: a for a in articles})
    return _by_url["map"]


def plain_feed_titles(context, feed):
    """``feed_generated`` receiver."""
    feed.feed["title"] = feed_title(context, feed.feed["title"])
    by_url = _articles_by_url(context.get("articles") or [])
    for item in feed.items:
        article = _article_by_link(item.get("link", ""), by_url)
        if article is not None:
            item["title"] = plain_title(article.title)
