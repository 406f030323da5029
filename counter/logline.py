"""One line of an access log: its fields, its time, its client, its path."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import unquote

# One "combined" line: IP ident user [time] "request" status bytes "referer" "agent"
# (anything after the user agent is ignored). FAST_RE is the same pattern for
# lines without a backslash, i.e. without escaped quotes; it is four times
# faster than the general one.
_TIME = rb"\[(\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\]"
_QUOTED = rb'"([^"\\]*(?:\\.[^"\\]*)*)"'
_QUOTED_SKIP = rb'"(?:[^"\\]*(?:\\.[^"\\]*)*)"'
FULL_RE = re.compile(
    rb"(\S+) \S+ \S+ " + _TIME + rb" " + _QUOTED + rb" (\d{3}) (?:\d+|-) " + _QUOTED_SKIP + rb" " + _QUOTED
)
FAST_RE = re.compile(rb'(\S+) \S+ \S+ ' + _TIME + rb' "([^"]*)" (\d{3}) (?:\d+|-) "[^"]*" "([^"]*)"')

# Clients that are not readers: a user agent containing any of these words
# (case-insensitive) is a bot. Substring tests, because one regex alternation
# of fifty words is slow in Python. Real Zalo in-app browsers ("... Zalo
# android/..."), Facebook's in-app browser (FBAN/FBAV) and Cốc Cốc are kept;
# their link previewers (ZaloPC-Bot, "Zalo ... preview", facebookexternalhit,
# coccocbot) are not. "bot" does not match the Cubot phone brand.
BOT_WORDS = (
    "bot", "crawl", "spider", "slurp", "archiver",
    "facebookexternalhit", "facebookcatalog", "meta-externalagent",
    "preview", "whatsapp", "telegram", "viber",  # link previewers (Zalo, Skype, Google Web Preview...)
    "mediapartners-google", "apis-google", "google-inspectiontool", "google-read-aloud",
    "google-site-verification",
    "curl", "wget", "python-requests", "python-urllib", "httpx", "aiohttp",
    "go-http-client", "java/", "okhttp", "libwww", "scrapy", "httpclient", "axios", "node-fetch", "undici",
    "headless", "phantomjs", "puppeteer", "playwright", "selenium", "lighthouse", "pagespeed", "gtmetrix",
    "uptime", "pingdom", "statuscake", "site24x7", "monitor", "check_http", "nagios", "zabbix",
)

_MONTHS = {m.encode(): i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_minute_cache: dict[bytes, int] = {}


def parse_timestamp(text: bytes | str) -> int:
    """``10/Oct/2020:13:55:36 +0700`` -> Unix seconds (ValueError if invalid).

    No strptime: the date/hour/minute part is converted once per minute and
    cached, seconds are added.
    """
    if isinstance(text, str):
        text = text.encode("ascii")
    if len(text) != 26 or text[20:21] != b" " or text[21:22] not in (b"+", b"-"):
        raise ValueError(f"bad timestamp {text!r}")
    minute = text[:17] + text[20:]
    base = _minute_cache.get(minute)
    if base is None:
        base = _minute_start(text)
        if len(_minute_cache) > 100_000:
            _minute_cache.clear()
        _minute_cache[minute] = base
    seconds = int(text[18:20])
    if seconds > 60:
        raise ValueError(f"bad seconds in {text!r}")
    return base + seconds


def _minute_start(text: bytes) -> int:
    """Unix time of the minute a 26-byte log timestamp falls in."""
    month = _MONTHS.get(text[3:6].capitalize())
    if month is None:
        raise ValueError(f"bad month in {text!r}")
    offset = int(text[22:24]) * 3600 + int(text[24:26]) * 60
    if text[21:22] == b"-":
        offset = -offset
    year = int(text[7:11])
    if year < 1970:  # no web server logs before the epoch; day arithmetic below year 1 would fail
        raise ValueError(f"bad year in {text!r}")
    moment = datetime(year, month, int(text[0:2]), int(text[12:14]), int(text[15:17]),
                      tzinfo=timezone.utc)  # raises ValueError on 31/Feb, 25:00...
    return int((moment - _EPOCH).total_seconds()) - offset


def is_bot(user_agent: str) -> bool:
    """True for clients that are not readers: empty/``-`` agent, or one of BOT_WORDS."""
    agent = user_agent.strip().lower()
    if agent in ("", "-"):
        return True
    if "cubot" in agent:
        agent = agent.replace("cubot", "")
    return any(word in agent for word in BOT_WORDS)


_NGINX_ESCAPE_RE = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")


def _unescape_nginx(text: str) -> str:
    """nginx logs non-ASCII request bytes as ``\\xHH``; turn them back into text."""
    return _NGINX_ESCAPE_RE.sub(
        lambda m: bytes.fromhex(m.group(0).replace("\\x", "")).decode("utf-8", "replace"), text)


def normalise_path(target: str) -> str | None:
    """The path a request target names once nginx has normalised it, or None.

    The result has no leading slash ("" for the site's root): the query and
    fragment are dropped, nginx's ``\\xHH`` log escapes undone, percent-escapes
    decoded once (``%252e`` stays the text ``%2e``), repeated slashes merged and
    dot segments removed (RFC 3986 5.2.4), as nginx does before serving:
    ``/x/../a.html``, ``//a.html``, ``/%2e/a.html?x=1`` all give ``a.html``.
    A folder keeps its trailing slash (``/a/.`` gives ``a/``). ``..`` above
    the root (nginx answers 400) and targets that are not paths (``*``,
    absolute-form proxy requests, junk) give None.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return None
    if "\\x" in path:
        path = _unescape_nginx(path)
    if "%" in path:
        path = unquote(path, errors="replace")
    parts = path.split("/")[1:]
    segments: list[str] = []
    for part in parts:
        if part == "..":
            if not segments:
                return None
            segments.pop()
        elif part and part != ".":
            segments.append(part)
    if not segments:
        return ""
    # "/a/", "/a/." and "/a/b/.." all name the folder a/, served as a/index.html
    folder = parts[-1] in ("", ".", "..")
    return "/".join(segments) + ("/" if folder else "")


def request_path(request: str) -> str | None:
    """``GET /path HTTP/1.1`` -> the normalised path, None if not a GET of a path."""
    parts = request.split(" ")
    if len(parts) not in (2, 3) or parts[0] != "GET":
        return None
    return normalise_path(parts[1])
