"""Links, photos and raw HTML in the staff's Markdown.

The whole file is scanned (the ``Summary`` header is Markdown too), not line
by line: a link's text may run onto the next line, a reference's address may
sit on the line after its label, and raw HTML may leave attributes
unquoted. Each match keeps its line number for the message. Whether a
link is safe is decided on the rendered HTML by the sanitiser
(:mod:`.sanitiser`), which also reports unsafe ``[x](javascript:...)``.
"""

import bisect
import re

INLINE = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]\n]|\n(?![ \t]*\n)|\[[^\]]*\])*)\]"
    r"\(\s*<?(?P<url>(?:[^\s()<>]|\([^\s()<>]*\))*(?:[ \t](?![\"'])(?:[^\s()<>]|\([^\s()<>]*\))*)*)>?"
    r"(?:\s+[\"'](?P<title>[^\"']*)[\"'])?\s*\)"
)
REFERENCE = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[ \t]*\n?[ \t]*<?(?P<url>[^\s>]+)>?", re.M)
# href and src of raw HTML: site links among them must lead somewhere too.
# (What is unsafe in raw HTML is the sanitiser's business: sanitiser.py.)
HTML_ATTRIBUTE = re.compile(
    r"\b(?:href|src)\s*=\s*(?:\"(?P<dq>[^\"<>]*)\"|'(?P<sq>[^'<>]*)'|(?P<bare>[^\s\"'<>]+))", re.I)
FENCE = re.compile(r"^[ ]{0,3}(```|~~~).*?^[ ]{0,3}\1", re.M | re.S)
SAFE_SCHEMES = {"http", "https", "mailto", "tel"}


def find_links(text, first_line=1):
    """``(line, kind, url, text, title)`` for every link and image in
    ``text`` (whose first line is ``first_line``).

    ``kind`` is ``"image"``, ``"link"``, ``"reference"`` or ``"html"`` (the
    ``href`` or ``src`` of raw HTML).
    Fenced code blocks are skipped: code shown to readers is not a link.
    """
    found = []
    if "](" not in text and "]:" not in text and "<" not in text:
        return found  # most articles: prose only
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    code = [m.span() for m in FENCE.finditer(text)] if "```" in text or "~~~" in text else []

    def line_of(offset):
        return first_line + bisect.bisect_right(starts, offset) - 1

    code_starts = [a for a, _ in code]

    def in_code(offset):
        index = bisect.bisect_right(code_starts, offset) - 1  # blocks never overlap
        return index >= 0 and offset < code[index][1]

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
    return sorted(found, key=lambda item: item[0])
