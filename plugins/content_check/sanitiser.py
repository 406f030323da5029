"""The allowlist sanitiser for every Markdown-rendered fragment (pure).

Raw HTML is allowed in Markdown, and a list of forbidden patterns always
misses one (SVG animations, MathML links, parser differentials). So the
rendered body and Summary go through Ammonia (``nh3``) with exactly the tags
and attributes the portal's articles need; anything else is removed.

Staff must learn what was removed and where, so :func:`removals` walks the
same HTML against the same policy (:data:`TAGS`, :func:`attribute_allowed`)
and names each removed tag, attribute or link, and :func:`markup_problems`
finds the source line of each by rendering growing prefixes of the file.
``make check`` and the build both call :func:`markup_problems` with the
same renderer, so they report the same lines.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3
from pygments.token import STANDARD_TYPES

from portal.content_paths import url_scheme

from .links import SAFE_SCHEMES
from portal.problems import Problem

TAGS = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "b", "i", "sub", "sup", "abbr",
    "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "hr", "br", "pre", "code", "span",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    "figure", "figcaption", "div", "a", "img",
    # text-level tags staff paste from Word and news sites; inert
    "u", "s", "del", "ins", "mark", "small", "q", "cite",
})
ATTRIBUTES = {
    "a": {"href", "title", "target"}, "p": {"align"},
    "img": {"src", "alt", "title", "width", "height", "loading", "decoding"},
    "th": {"colspan", "rowspan", "align"}, "td": {"colspan", "rowspan", "align"},
    "ol": {"start"}, "abbr": {"title"},
    "sup": {"id"}, "li": {"id"},  # footnotes: fnref:1 / fn:1
}
# Classes only the site's own CSS gives meaning to: figures and galleries
# (article_media), footnotes (Markdown extra), code highlighting (Pygments).
CLASSES = {
    "figure": {"figure"},
    "div": {"gallery", "highlight", "footnote"},
    "a": {"footnote-ref", "footnote-backref"},
    "span": {name for name in STANDARD_TYPES.values() if name},
}
_NUMBER = re.compile(r"^[0-9]{1,4}$")
_VALUES = {
    "align": re.compile(r"^(left|right|center|justify)$"),
    # browsers give target=_blank links noopener by default
    "target": re.compile(r"^_blank$"),
    "loading": re.compile(r"^lazy$"), "decoding": re.compile(r"^async$"),
    "id": re.compile(r"^fn(ref)?:[A-Za-z0-9_-]{1,40}$"),
    "colspan": _NUMBER, "rowspan": _NUMBER, "width": _NUMBER, "height": _NUMBER, "start": _NUMBER,
}
_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f]+")
# Pelican rewrites ``{filename}x``, ``{category}x``, ``|tag|x``... after
# this sanitiser ran, and keeps the scheme of ``x``: ``{category}javascript:
# a?alert(1):0`` became ``javascript:/a/?alert(1):0``, which runs. So what
# follows the indicator must have no scheme at all.
_INTRASITE = re.compile(r"^[{|][^{}|]*[}|]")


def _intrasite(url):
    """What follows Pelican's ``{...}``/``|...|`` indicator, or None."""
    match = _INTRASITE.match(url)
    return url[match.end():] if match else None


def link_allowed(url):
    """http, https, mailto, tel, or no scheme at all (relative, site path,
    anchor, Pelican's ``{filename}``), as a browser would read the scheme."""
    rest = _intrasite(url)
    if rest is not None:
        return url_scheme(rest) is None
    scheme = url_scheme(url)
    return scheme is None or scheme in SAFE_SCHEMES


def image_allowed(url):
    """Only the site's own images: a path with no scheme and no host
    (``//host``, and ``/\\host`` which browsers read the same way)."""
    rest = _intrasite(url)
    cleaned = _INVISIBLE.sub("", url if rest is None else rest)
    return url_scheme(cleaned) is None and not cleaned.startswith(("//", "/\\", "\\"))


def attribute_allowed(tag, name, value):
    if name not in ATTRIBUTES.get(tag, ()) and not (name == "class" and tag in CLASSES):
        return False
    if name == "class":
        return all(token in CLASSES[tag] for token in value.split())
    if name == "href":
        return link_allowed(value)
    if name == "src":
        return image_allowed(value)
    pattern = _VALUES.get(name)
    return pattern is None or bool(pattern.match(value))


def _filter(tag, name, value):
    return value if attribute_allowed(tag, name, value) else None


_CLEANER = nh3.Cleaner(
    tags=set(TAGS), attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    allowed_classes={tag: set(names) for tag, names in CLASSES.items()},
    attribute_filter=_filter, url_schemes=set(SAFE_SCHEMES), link_rel=None, strip_comments=True,
)


# Ammonia's output is canonical: every attribute double-quoted with `"`, `&`,
# `<` and `>` escaped inside it, so these find exactly the tags and their
# attributes.
_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
_ATTRIBUTE = re.compile(r'(\s[\w:-]+)="([^"]*)"')
_URL_ATTRIBUTES = frozenset({"href", "src"})


def _quote_apostrophes(tag):
    def attribute(match):
        name, value = match.groups()
        if name.strip() in _URL_ATTRIBUTES:
            return match.group(0)
        return f'{name}="{value.replace(chr(39), "&#39;")}"'
    return _ATTRIBUTE.sub(attribute, tag.group(0))


def clean(html):
    """``html`` with everything outside the policy removed.

    Pelican rewrites ``{filename}``/``{tag}``/``|...|`` links after this,
    with a regex that looks for ``href='{...}...'`` anywhere inside a tag:
    an attribute value such as ``title="x href='{index}"`` made it swallow
    the closing quote, and a later value was then read as attributes (an
    ``onfocus=`` that ran). So ``'`` inside any attribute but a URL is
    written ``&#39;``: the same character to a browser, no quote to that
    regex."""
    if not html:
        return html
    cleaned = _CLEANER.clean(html)
    return _TAG.sub(_quote_apostrophes, cleaned) if "'" in cleaned else cleaned


# What pasted Word or web HTML carries for looks only: removing it changes
# how a paragraph looks, never what it does, so it is a warning (it fails
# `make publish`, the preview stays a normal article). Everything else
# removed (scripts, SVG, event handlers, links, images, broken markup) is an
# error.
LOOKS_ONLY_TAGS = frozenset({
    "font", "center", "big", "strike", "tt", "section", "article", "header", "footer", "aside", "nav",
    "main", "o:p", "label", "address", "time", "bdi", "wbr", "kbd", "samp", "var", "dfn",
})
LOOKS_ONLY_ATTRIBUTES = frozenset({
    "style", "class", "align", "valign", "width", "height", "id", "lang", "dir", "title", "color", "face",
    "size", "border", "cellpadding", "cellspacing", "bgcolor", "target", "rel", "name", "data-mce-style",
})


@dataclass(frozen=True)
class Removal:
    kind: str        # "tag", "attribute", "link" (an href), "image" (a src) or "markup"
    tag: str
    name: str = ""   # the attribute
    value: str = ""  # the URL, for links and images
    risky: bool = False  # an attribute whose value tries something (url(, expression, javascript:)

    @property
    def severity(self):
        looks_only = (self.kind == "tag" and self.tag in LOOKS_ONLY_TAGS) or (
            self.kind == "attribute" and self.name in LOOKS_ONLY_ATTRIBUTES and not self.risky)
        return "warning" if looks_only else "error"

    @property
    def key(self):
        """Two removals with the same key get one message: every ``<svg>``,
        every ``onclick=`` on ``<a>``, every link to the same address."""
        return (self.kind, self.tag, self.name, self.value, self.risky)


# A value that only styles would not hold these; one that does is an attempt
# (CSS loading a URL or script), never "just looks", whatever the attribute.
_ACTIVE_VALUE = re.compile(r"url\(|expression|script:|@import|behavior|binding|\\", re.I)


def _tries_something(value):
    return bool(_ACTIVE_VALUE.search(re.sub(r"\s|/\*.*?\*/", "", value)))


class _Walker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.kept = []  # start tags and text that survive the policy

    def handle_data(self, data):
        if self.kept and self.kept[-1][0] == "text":
            self.kept[-1] = ("text", self.kept[-1][1] + data)
        else:
            self.kept.append(("text", data))

    def handle_starttag(self, tag, attrs):
        if tag not in TAGS:
            self.found.append(Removal("tag", tag))
            return
        if tag != "tbody":  # a browser adds it to a table written without it
            self.kept.append((tag, tuple(sorted(
                (n, v or "") for n, v in attrs if attribute_allowed(tag, n, v or "")))))
        for name, value in attrs:
            if attribute_allowed(tag, name, value or ""):
                continue
            if name == "href" and name in ATTRIBUTES.get(tag, ()):
                self.found.append(Removal("link", tag, name, value or ""))
            elif name == "src" and name in ATTRIBUTES.get(tag, ()):
                self.found.append(Removal("image", tag, name, value or ""))
            else:
                self.found.append(Removal("attribute", tag, name, risky=_tries_something(value or "")))

    handle_startendtag = handle_starttag


def _walk(html):
    walker = _Walker()
    walker.feed(html)
    walker.close()
    return walker


def sanitise(html):
    """``(clean(html), removals)``: the HTML to publish and what was taken
    out of it, in document order (comments are not counted: they never
    show).

    The walker reads HTML with Python's parser, Ammonia with a browser's
    (html5ever); where they differ (``<!-->`` ends a comment for a browser,
    not for Python) the walker's view would hide what Ammonia removes. So
    when the walker finds nothing, the cleaned HTML must say the same as
    the input; if not, that is one removal of kind ``markup``."""
    if not html:
        return html, []
    cleaned = clean(html)
    if "<" not in html:
        return cleaned, []
    walker = _walk(html)
    if not walker.found and _walk(cleaned).kept != walker.kept:
        return cleaned, [Removal("markup", "")]
    return cleaned, walker.found


def removals(html):
    """What :func:`clean` takes out of ``html`` (see :func:`sanitise`)."""
    return sanitise(html)[1]


def message(removal, count=1):
    """The staff's message for one kind of removal."""
    times = f" ({count} chỗ / {count} times)" if count > 1 else ""
    if removal.kind == "tag":
        return (f"thẻ <{removal.tag}> không được phép trong bài và đã bị loại bỏ khỏi trang{times}; "
                f"hãy xóa nó (tag <{removal.tag}> removed: not allowed in articles)")
    if removal.kind == "attribute":
        return (f"thuộc tính {removal.name}= của thẻ <{removal.tag}> không được phép và đã bị loại bỏ"
                f"{times}; hãy xóa nó (attribute {removal.name}= on <{removal.tag}> removed: not allowed)")
    if removal.kind == "markup":
        return ("đoạn HTML viết sai (thẻ hoặc chú thích <!-- --> không đóng đúng) đã bị trình lọc sửa hoặc "
                "loại bỏ; hãy viết lại đoạn đó bằng Markdown hoặc xóa nó (malformed HTML changed by the "
                "sanitiser)")
    if removal.kind == "image":
        return (f"ảnh {removal.value[:50]!r} không phải ảnh của trang và đã bị loại bỏ{times}: chỉ dùng "
                "ảnh đặt cạnh bài viết, ghi tên tệp như ![Mô tả](anh.jpg \"Chú thích\") "
                "(image removed: only the site's own images are allowed)")
    scheme = url_scheme(_intrasite(removal.value) or removal.value)
    return (f"liên kết không an toàn {removal.value[:50]!r} đã bị loại bỏ{times}: chỉ dùng http://, "
            f"https://, mailto:, tel: hoặc đường dẫn trong trang (unsafe link scheme {scheme}:)")


# At most this many kinds of removal are located per file (each costs a few
# renders); the rest are summed up in one more line. Staff fix and re-run.
MAX_LOCATED = 20


def _keys(rendered):
    """``{(fragment, key): (first removal, count)}`` of rendered fragments."""
    found = {}
    for fragment, html in enumerate(rendered):
        for removal in removals(html):
            slot = (fragment, removal.key)
            first, count = found.get(slot, (removal, 0))
            found[slot] = (first, count + 1)
    return found


def markup_problems(path, text, render, rendered=None):
    """One problem per kind of removal in ``text``'s rendered fragments,
    at the line where it was first written (a warning for what only
    changes looks, see :data:`LOOKS_ONLY_TAGS`, else an error).

    ``render(text)`` returns the fragments (body, Summary) as the build
    renders them; ``rendered`` is that for the whole file when the caller
    has it already (the build). The line of a removal is the shortest
    prefix of the file whose rendering already holds it: exact whatever
    Markdown did to the text (links by reference, attributes by
    ``{: ...}``, entities): a line naming the removal is tried first,
    else the prefixes are bisected.
    """
    found = _keys(render(text) if rendered is None else rendered)
    if not found:
        return []
    lines = text.splitlines(keepends=True)
    cache = {}

    def keys_at(count):
        if count not in cache:
            cache[count] = _keys(render("".join(lines[:count])))
        return cache[count]

    def first_line(slot, removal):
        # Most removals are written on a line holding their name or URL:
        # try those lines first (two renders each), then bisect.
        needle = (removal.value if removal.kind in ("link", "image") else
                  f"<{removal.tag}" if removal.kind == "tag" else removal.name).lower()
        guesses = [n for n, line in enumerate(lines, start=1) if needle and needle in line.lower()][:3]
        for guess in guesses:
            if slot in keys_at(guess) and (guess == 1 or slot not in keys_at(guess - 1)):
                return guess
        low, high = 1, len(lines)
        while low < high:
            middle = (low + high) // 2
            if slot in keys_at(middle):
                high = middle
            else:
                low = middle + 1
        return low

    located = list(found.items())[:MAX_LOCATED]  # document order, body first
    problems = [Problem(path, first_line(slot, removal), message(removal, count), removal.severity)
                for slot, (removal, count) in located]
    if len(found) > len(located):
        rest = len(found) - len(located)
        problems.append(Problem(path, max(p.line for p in problems), (
            f"còn {rest} loại thẻ, thuộc tính hoặc liên kết khác bị loại bỏ; sửa các lỗi trên rồi chạy "
            f"lại make check ({rest} more kinds of removed markup)")))
    return sorted(problems)
