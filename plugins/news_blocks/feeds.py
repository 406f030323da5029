"""Atom feeds with titles as written.

Pelican's Writer passes every feed and item title through
``Markup(...).striptags()``, which drops ``<y và y>`` from ``Giá x<y và y>z``
and decodes ``&amp;``. Titles are plain text (see portal.html_text); the
feed library escapes them for XML itself. This writer keeps Pelican's own
feed code and only puts the plain title back.
"""

from pelican.writers import Writer

from portal.html_text import plain_title


class PlainTitleWriter(Writer):
    def _create_new_feed(self, feed_type, feed_title, context):
        feed = super()._create_new_feed(feed_type, feed_title, context)
        name = context["SITENAME"] + (" - " + feed_title if feed_title else "")
        feed.feed["title"] = plain_title(name)
        return feed

    def _add_item_to_the_feed(self, feed, item):
        super()._add_item_to_the_feed(feed, item)
        feed.items[-1]["title"] = plain_title(item.title)


def plain_title_writer(pelican):
    """``get_writer`` handler: Pelican uses the Writer class returned."""
    return PlainTitleWriter
