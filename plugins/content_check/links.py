"""Links and photos in the Markdown body, found line by line.

A regular expression per line is enough here: staff write plain inline
links and images; what matters is the line number in the message and that
no link slips through because of odd spacing or case (``JaVa script:``).
"""

import html
import re

INLINE = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]]|\[[^\]]*\])*)\]"
    r"\(\s*<?(?P<url>[^\s)>]*(?:\s(?![\"'])[^\s)>]*)*)>?(?:\s+[\"'](?P<title>[^\"']*)[\"'])?\s*\)"
)
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(?P<url>\S+?)>?(?:\s+[\"'(].*)?$")
HTML_ATTRIBUTE = re.compile(r"\b(?:href|src|action|formaction)\s*=\s*([\"'])(?P<url>.*?)\1", re.I)
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


def find_links(lines, first_line=1):
    """``(line, kind, url, text, title)`` for every link and image.

    ``kind`` is ``"image"``, ``"link"``, ``"reference"`` or ``"html"``.
    """
    found = []
    in_code = False
    for number, line in enumerate(lines, start=first_line):
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code:
            continue
        # Cheap membership tests first: most lines are prose with no link.
        if "](" in line:
            for match in INLINE.finditer(line):
                kind = "image" if match.group("bang") else "link"
                found.append((number, kind, match.group("url").strip(), match.group("text"), match.group("title")))
        if "]:" in line:
            match = REFERENCE.match(line)
            if match:
                found.append((number, "reference", match.group("url"), "", None))
        if "=" in line and "<" in line:
            for match in HTML_ATTRIBUTE.finditer(line):
                found.append((number, "html", match.group("url"), "", None))
    return found
