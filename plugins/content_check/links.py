"""Links, photos and raw HTML in the staff's Markdown.

The whole file is scanned (the ``Summary`` header is Markdown too), not line
by line: a link's text may run onto the next line, a reference's address may
sit on the line after its label, and raw HTML may leave attributes
unquoted. Each match keeps its line number for the message. What a source
scan could still miss is caught on the rendered HTML by
:func:`rendered_problems`, which the build runs on every article.
"""

import bisect
import html
import re
from html.parser import HTMLParser

INLINE = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]\n]|\n(?![ \t]*\n)|\[[^\]]*\])*)\]"
    r"\(\s*<?(?P<url>(?:[^\s()<>]|\([^\s()<>]*\))*(?:[ \t](?![\"'])(?:[^\s()<>]|\([^\s()<>]*\))*)*)>?"
    r"(?:\s+[\"'](?P<title>[^\"']*)[\"'])?\s*\)"
)
REFERENCE = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[ \t]*\n?[ \t]*<?(?P<url>[^\s>]+)>?", re.M)
HTML_ATTRIBUTE = re.compile(
    r"\b(?:href|src|action|formaction|xlink:href|data|poster|background)\s*=\s*"
    r"(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s\"'>]+))", re.I)
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*?[\s\"'/](?P<name>on[a-zA-Z]+)\s*=", re.S)
ACTIVE_TAG = re.compile(r"<\s*(?P<name>script|iframe|object|embed|style|form|meta|base|link)\b", re.I)
FENCE = re.compile(r"^[ ]{0,3}(```|~~~).*?^[ ]{0,3}\1", re.M | re.S)
SAFE_SCHEMES = {"http", "https", "mailto", "tel"}
_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def url_scheme(url):
    """The scheme a browser would see: entities decoded, whitespace and
    control characters dropped, lower case (``JaVa&#x73;cript :`` → ``javascript``)."""
    cleaned = _INVISIBLE.sub("", html.unescape(html.unescape(url))).lower()
    match = _SCHEME.match(cleaned)
    return match.group(1) if match else None


def is_unsafe_url(url):
    scheme = url_scheme(url)
    return scheme is not None and scheme not in SAFE_SCHEMES


def find_links(text, first_line=1):
    """``(line, kind, url, text, title)`` for every link, image and risky
    piece of raw HTML in ``text`` (whose first line is ``first_line``).

    ``kind`` is ``"image"``, ``"link"``, ``"reference"``, ``"html"`` (an
    attribute holding a URL), ``"event"`` (an ``on...=`` handler; ``url`` is
    its name) or ``"tag"`` (``<script>``, ``<iframe>``...; ``url`` is the tag).
    Fenced code blocks are skipped: code shown to readers is not a link.
    """
    found = []
    if "](" not in text and "]:" not in text and "<" not in text:
        return found  # most articles: prose only
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    code = [m.span() for m in FENCE.finditer(text)] if "```" in text or "~~~" in text else []

    def line_of(offset):
        return first_line + bisect.bisect_right(starts, offset) - 1

    def in_code(offset):
        return any(a <= offset < b for a, b in code)

    for match in INLINE.finditer(text) if "](" in text else ():
        if not in_code(match.start()):
            kind = "image" if match.group("bang") else "link"
            found.append((line_of(match.start("url")), kind, match.group("url").strip(),
                          match.group("text"), match.group("title")))
    for match in REFERENCE.finditer(text) if "]:" in text else ():
        if not in_code(match.start()):
            found.append((line_of(match.start("url")), "reference", match.group("url"), "", None))
    if "<" in text:
        for match in HTML_ATTRIBUTE.finditer(text):
            if not in_code(match.start()):
                url = next(v for v in match.group("dq", "sq", "bare") if v is not None)
                found.append((line_of(match.start()), "html", url, "", None))
        for match in EVENT_HANDLER.finditer(text):
            if not in_code(match.start()):
                found.append((line_of(match.start("name")), "event", match.group("name"), "", None))
        for match in ACTIVE_TAG.finditer(text):
            if not in_code(match.start()):
                found.append((line_of(match.start()), "tag", match.group("name").lower(), "", None))
    return sorted(found, key=lambda item: item[0])


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"}
ACTIVE_TAGS = {"script", "iframe", "object", "embed", "style", "form", "meta", "base", "link"}


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag in ACTIVE_TAGS:
            self.problems.append(f"thẻ <{tag}> không được phép trong bài (tag <{tag}> not allowed)")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"thuộc tính sự kiện {name}= không được phép (event handler {name}=)")
            elif name in URL_ATTRIBUTES and value and is_unsafe_url(value.split(",")[0].split(" ")[0] if name == "srcset" else value):
                self.problems.append(f"liên kết không an toàn {value[:50]!r} (unsafe link scheme {url_scheme(value)}:)")

    handle_startendtag = handle_starttag


def rendered_problems(rendered_html):
    """Unsafe links, event handlers and active tags left in rendered HTML."""
    inspector = _Inspector()
    inspector.feed(rendered_html or "")
    inspector.close()
    return inspector.problems
