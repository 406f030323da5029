"""Plain text for places that take text, not HTML.

Titles (and category, tag and author names) are plain text as staff typed
them: ``Giá x<y và y>z`` is a title, not markup. They must be escaped where
written, never "stripped": Jinja's and Pelican's ``striptags`` would take
``<y và y>`` for a tag and drop it. Summaries are HTML (rendered Markdown);
where a plain-text copy is needed (meta description, lists, search
metadata) ``html_to_text`` keeps every text node, decoding entities, and
drops only real markup, parsed by the standard HTML parser rather than a
``<...>`` regex (which loses text after a ``>`` inside an attribute value).
"""

from html.parser import HTMLParser

# Elements whose content is not text shown to readers.
_HIDDEN = frozenset({"script", "style", "template", "noscript"})
# Elements that separate words: "<p>a</p><p>b</p>" reads "a b", not "ab".
_BREAKS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "ol", "p", "pre", "section", "table", "td", "th",
    "tr", "ul",
})


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag in _BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BREAKS:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    def close(self):
        # A tag cut off at the end ("<a href='x") is markup, not text: a
        # browser drops it too. HTMLParser would hand it over as data.
        cut = self.rawdata.rfind("<")
        if cut >= 0 and ">" not in self.rawdata[cut:]:
            self.rawdata = self.rawdata[:cut]
        super().close()


def html_to_text(html):
    """The visible text of an HTML fragment, entities decoded, runs of
    whitespace made one space (``None`` gives ``""``)."""
    collector = _TextCollector()
    collector.feed(str(html or ""))
    collector.close()
    return " ".join("".join(collector.parts).split())


def plain_title(value):
    """A title-like value (title, category, tag, author) as one line of
    text: its own characters, whitespace runs made one space. Never parsed
    as HTML; escaping is the writer's job (Jinja autoescape, XML)."""
    return " ".join(str(value or "").split())
