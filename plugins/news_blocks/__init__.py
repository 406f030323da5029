"""What the home page and the article footer show: the featured article,
category blocks in menu order, and "Các tin khác" (related articles).

Everything here is a pure function of the articles, so a page's output does
not change unless its inputs do.

Only published articles are ever listed. ``Status: hidden`` articles
(Pelican keeps them in ``hidden_articles``) are written at their address
and can be linked to, but no list, feed, sitemap or search index shows
them; their own page still offers "Các tin khác" of their category.

Also here: the ``plain_text`` filter (portal.html_text)
and the feed titles kept as written (news_blocks.feeds).
"""

from urllib.parse import quote

from pelican import signals

from portal.header import parse_bool
from portal.html_text import html_to_text
from portal.settings import fill_pelican_defaults

from .feeds import plain_feed_titles


def order_categories(categories, menu):
    """Categories in the menu's order, any others after them by name."""
    position = {name: i for i, name in enumerate(menu)}
    return sorted(categories, key=lambda c: (position.get(c.name, len(menu)), c.name))


def related_articles(same_category, article, count):
    """The ``count`` articles of the same category published just before
    ``article`` (newest first), topped up with the ones just after it.
    ``same_category`` is ordered newest first."""
    index = next(i for i, a in enumerate(same_category) if a is article)
    older = same_category[index + 1 : index + 1 + count]
    newer = same_category[max(0, index - (count - len(older))) : index]
    return older + newer[::-1] if len(older) < count else older


def featured_article(articles):
    """The newest article marked ``Featured: true``, else the newest one."""
    for article in articles:
        if parse_bool(getattr(article, "featured", False)):
            return article
    return articles[0] if articles else None


# Every list of written content a generator keeps (articles or pages).
_CONTENT_LISTS = ("articles", "translations", "hidden_articles", "hidden_translations",
                  "drafts", "drafts_translations", "pages", "hidden_pages", "draft_pages",
                  "draft_translations")


def encode_url(content):
    """Make ``content.url`` percent-encoded (``/`` kept) when it is not
    already plain: a ``Slug`` with ``#``, ``?``, ``%``, a space or a
    Vietnamese letter would otherwise cut or mangle every link to it. The
    file is still saved under the slug as written (``save_as``), which is
    what a server finds once it decodes the address. Done once statuses
    are final, so drafts keep their preview address.

    Both addresses are final from here on and are kept as Pelican's
    ``override_url``/``override_save_as``: Pelican would otherwise work each
    out again from the settings every time it is asked (tens of thousands
    of times on a large site, a second and more of every build)."""
    if getattr(content, "url_encoded", False):
        return  # twice would turn "%23" into "%2523"
    content.url_encoded = True
    content.override_url = quote(content.url, safe="/")
    content.override_save_as = content.save_as


def _encode_urls(generator):
    for name in _CONTENT_LISTS:
        for content in getattr(generator, name, []):
            encode_url(content)


class Members(list):
    """A category's or tag's articles, with membership by identity in
    constant time. Pelican lists each tag's and category's pages by asking,
    for every article of the site, whether it is in that list: 5,000
    articles times a list of thousands, for every tag (seconds of every
    build); its lists become these, in place."""

    def __init__(self, articles):
        super().__init__(articles)
        self._ids = {id(a) for a in articles}

    def __contains__(self, item):
        return id(item) in self._ids


def fast_membership(generator):
    for tag, members in list(getattr(generator, "tags", {}).items()):
        generator.tags[tag] = Members(members)
    categories = getattr(generator, "categories", None)
    if categories:
        categories[:] = [(category, Members(members)) for category, members in categories]


def _finalize(generator):
    _encode_urls(generator)
    fast_membership(generator)
    settings = generator.settings
    articles = generator.articles  # newest first
    by_category = {}
    for article in articles:
        by_category.setdefault(article.category, []).append(article)
    count = settings["RELATED_ARTICLES"]
    for category, members in by_category.items():
        for article in members:
            article.related = related_articles(members, article, count)
    for article in getattr(generator, "hidden_articles", []):
        # Not among its category's articles: the newest of them instead.
        article.related = by_category.get(article.category, [])[:count]
    categories = order_categories(by_category, settings["MENU_CATEGORIES"])
    featured = featured_article(articles)
    size = settings["HOME_BLOCK_SIZE"]
    generator.context.update(
        menu_categories=categories,
        featured_article=featured,
        latest_articles=[a for a in articles if a is not featured][
            : settings["HOME_LATEST_SIZE"]
        ],
        home_blocks=[(c, by_category[c][:size]) for c in categories],
        archive_years=sorted({a.date.year for a in articles}, reverse=True),  # search filter
        # Which category and tag pages exist (those with a published
        # article): a hidden article links only to these.
        listed_categories=set(by_category),
        listed_tags={tag for article in articles for tag in getattr(article, "tags", [])},
    )


def _menu_pages(generator):
    _encode_urls(generator)
    wanted = generator.settings["MENU_PAGES"]
    by_slug = {p.slug: p for p in generator.pages}
    generator.context["menu_pages"] = [by_slug[s] for s in wanted if s in by_slug]


def _add_filters(generator):
    generator.env.filters["plain_text"] = html_to_text


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.generator_init.connect(_add_filters)
    signals.feed_generated.connect(plain_feed_titles)
    signals.article_generator_finalized.connect(_finalize)
    signals.page_generator_finalized.connect(_menu_pages)
