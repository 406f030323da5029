"""A banner's link, judged as the reader's browser will parse it.

A check that looks at the text as written loses to the browser's own
clean-up: the WHATWG URL parser drops ASCII tab and newline anywhere,
leading and trailing C0 controls and spaces, and reads ``\\`` as ``/`` in
http(s) URLs and in paths resolved against an http(s) page, so
``"/\\t/evil.example/"`` is ``//evil.example/``: another site. So the link
is first put through those same steps, and the *result* must be an
``http(s)://host/...`` URL or a path of this site (``/...``, not ``//``).
The result is what gets published, so what was judged is what is served.
"""

import re

from portal.safe_text import CONTROL, INVISIBLE, codepoints

# WHATWG URL Standard, "basic URL parser", first steps
C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
TAB_OR_NEWLINE = re.compile("[\t\n\r]")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# a host without the code points the standard forbids (and without "%",
# which it would decode first), or an IPv6 literal; an optional port
HOST = re.compile(r"^(?:[^\x00-\x20#%/:<>?@\[\\\]^|\x7f]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
WEB_SCHEMES = ("http", "https")


class LinkError(ValueError):
    """A link that is not an http(s) URL or a path of this site; ``reason``
    says why, in Vietnamese then English."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _browser_view(link):
    """``link`` after the clean-up every browser does before parsing."""
    return TAB_OR_NEWLINE.sub("", link.strip(C0_OR_SPACE))


def _split_suffix(text):
    """``(before, from the first "?" or "#" on)``: backslashes count as
    slashes only before the query."""
    cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=len(text))
    return text[:cut], text[cut:]


def _absolute(scheme, rest, suffix):
    if scheme not in WEB_SCHEMES:
        raise LinkError(f"giao thức “{scheme}:” không được dùng (scheme {scheme}: is not allowed)")
    # "http:x" and "http:/x" mean a path of the current page or another
    # host depending on the page's own scheme: only the plain form is clear
    if not rest.startswith("//") or rest.startswith("///"):
        raise LinkError(f"sau “{scheme}:” phải là “//” rồi tên miền (expected {scheme}://host)")
    authority = rest[2:].split("/", 1)[0]
    if "@" in authority:
        raise LinkError("không được có “tên@” trước tên miền (no user name before the host)")
    if not HOST.match(authority):
        raise LinkError("tên miền không hợp lệ (invalid host)")
    port = authority.rsplit(":", 1)[1] if ":" in authority and not authority.endswith("]") else ""
    if port and int(port) > 65535:  # the browser refuses the whole URL
        raise LinkError(f"cổng {port} không hợp lệ, phải từ 0 đến 65535 (invalid port)")
    return f"{scheme}://{rest[2:]}{suffix}"


def parse_link(link):
    """The link as the browser will follow it, when it is an http(s) URL or
    a path of this site; raises LinkError otherwise."""
    if not isinstance(link, str):
        raise LinkError("phải là chuỗi chữ (must be text)")
    text = _browser_view(link)
    hidden = CONTROL.findall(text) + INVISIBLE.findall(text)
    if hidden:  # browsers would percent-encode these; never meant, possibly deceptive
        raise LinkError(f"có ký tự điều khiển hoặc vô hình {codepoints(hidden)} (control or invisible character)")
    head, suffix = _split_suffix(text)
    head = head.replace("\\", "/")
    scheme = SCHEME.match(head)
    if scheme:
        return _absolute(scheme.group(1).lower(), head[scheme.end():], suffix)
    if not head.startswith("/") or head.startswith("//"):
        raise LinkError("đường dẫn trong trang phải bắt đầu bằng đúng một dấu “/” (a site path starts with one /)")
    return head + suffix

