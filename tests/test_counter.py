"""The access-log counter (counter/): hand-made access logs with known answers.

The package is imported from the project's root (pytest runs there), and
run as cron runs it: ``python3 -m counter`` from the project's folder.
"""

import ast
import fcntl
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from counter import job, logfiles, logline, pages, scan, visits
from portal import atomic, view_shards

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "counter"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/84.0.4147.135 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 13_6 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/13.1.2 Mobile/15E148 Safari/604.1")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:79.0) Gecko/20100101 Firefox/79.0"
ZALO_APP = ("Mozilla/5.0 (Linux; Android 9; Redmi Note 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/84.0.4147.111 Mobile Safari/537.36 Zalo android/12060130 ZaloTheme/light ZaloLanguage/vn")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def stamp(when, offset="+0700"):
    """'2020-08-14 10:00:00' -> '14/Aug/2020:10:00:00 +0700' (clock time in that offset)."""
    day, clock = when.split()
    year, month, dom = day.split("-")
    return f"{dom}/{MONTHS[int(month) - 1]}/{year}:{clock} {offset}"


def hit(ip, when, target, status=200, agent=CHROME, method="GET", offset="+0700"):
    return (f'{ip} - - [{stamp(when, offset)}] "{method} {target} HTTP/1.1" {status} 1234 '
            f'"https://www.google.com/" "{agent}"\n')


def write(path, lines):
    path.write_text("".join(lines), encoding="utf-8")
    return path


def feeds(folder):
    return (json.loads((folder / "visitors.json").read_text(encoding="utf-8")),
            json.loads((folder / "views.json").read_text(encoding="utf-8")))


def shard_views(folder):
    """Every view of the shards in ``folder``, each checked to be in its own shard."""
    found = {}
    for path in sorted((folder / "luot-xem").glob("*.json")):
        views = json.loads(path.read_text(encoding="utf-8"))["views"]
        assert all(view_shards.shard_path(key) == f"luot-xem/{path.name}" for key in views)
        found.update(views)
    assert len(list((folder / "luot-xem").glob("*.json"))) == 256
    return found


def fragment_text(folder, address):
    """What a reader without JavaScript sees of ``address``'s view count."""
    text = (folder / view_shards.fragment_path(address)).read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", "", text.split("<body>", 1)[1]).strip()


# The pages of the small published site the hand-made logs are counted against
# (folders stand for their index.html), and some of its other files.
SITE_PAGES = ("", "a.html", "b.html", "c.html", "x.html", "a/b.html", "lien-he.html", "gioi-thieu.html",
              "xay-dung-dang/", "xay-dung-dang/bai-mot.html", "xay-dung-dang/bai-hai.html",
              "tin-tuc-su-kien/", "tin-tuc-su-kien/dai-hoi-đảng.html", "van-hoa-xa-hoi/bai-ba.html",
              "chu-de/dai-hoi/")
SITE_OTHERS = {"404.html": "error", "50x.html": "error", "theme/css/main.css": "theme",
               "feeds/visitors.json": "feed", "feeds/views.json": "feed", "images/logo.png": "static",
               "anh/abc-800.jpg": "photo", "pagefind/pagefind.js": "search",
               "tai-lieu/bai-mot/ke-hoach.pdf": "attachment", "chuyen-huong/so-tay.html": "redirect"}


def registry_files(pages=SITE_PAGES, others=SITE_OTHERS):
    """The ``files`` table of an output registry: ``pages`` of kind page
    (a folder is its index.html), ``others`` with their kinds."""
    files = {(page + "index.html" if page == "" or page.endswith("/") else page):
             {"kind": "page", "source": f"content/{page}index.md"} for page in pages}
    files.update({name: {"kind": kind, "source": "theme/"} for name, kind in others.items()})
    return files


def make_registry(path, pages=SITE_PAGES, others=SITE_OTHERS):
    """An output registry as the build writes it (``cache/outputs.json``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "files": registry_files(pages, others)}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def count(work, *logs, base=None, published=None, clock=None):
    """Run the counter through its API with feeds, state and registry in ``work``."""
    if published is None:
        published = work / "outputs.json"
        if not published.exists():
            make_registry(published)
    summary = job.run([str(log) for log in logs], work / "feeds", work / "state.json", base, published, clock)
    visitors, views = feeds(work / "feeds")
    return summary, visitors, views


def snapshot(work):
    """The bytes of everything a run leaves behind that matters: the state
    and every file of the feeds folder (shards and fragments too)."""
    files = {name: (work / name).read_bytes() for name in ("state.json", "feeds/visitors.json", "feeds/views.json")}
    files.update({str(path.relative_to(work)): path.read_bytes() for path in (work / "feeds").rglob("*")
                  if path.is_file()})
    return files


# --- Pure functions ----------------------------------------------------------------


def test_timestamps_with_any_offset_become_the_same_instant():
    vn = logline.parse_timestamp("14/Aug/2020:10:00:00 +0700")
    assert vn == 1597374000
    assert logline.parse_timestamp("14/Aug/2020:03:00:00 +0000") == vn
    assert logline.parse_timestamp("13/Aug/2020:23:00:00 -0400") == vn
    assert visits.iso_time(vn) == "2020-08-14T10:00:00+07:00"
    assert visits.vn_day(logline.parse_timestamp("13/Aug/2020:17:00:00 +0000")) == "2020-08-14"
    assert visits.vn_day(logline.parse_timestamp("13/Aug/2020:16:59:59 +0000")) == "2020-08-13"
    for bad in ("14/Foo/2020:10:00:00 +0700", "31/Feb/2020:10:00:00 +0700", "14/Aug/2020:25:00:00 +0700",
                "14/Aug/2020:10:00:00", "01/Jan/0001:00:00:00 +0700", "31/Dec/1969:23:59:59 +0000"):
        with pytest.raises(ValueError):
            logline.parse_timestamp(bad)


def test_odd_and_malformed_lines_through_a_run(tmp_path):
    lines = [
        hit("113.161.72.14", "2020-08-14 10:00:00", "/a/b.html?x=1", 304),
        # Apache escapes quotes inside fields; the agent is still read whole.
        '1.2.3.4 - - [14/Aug/2020:10:00:01 +0700] "GET /x.html HTTP/1.1" 200 5 "-" '
        '"Mozilla/5.0 \\"quoted\\" agent" "extra field"\n',
        '2001:ee0:4f0a::1 - - [14/Aug/2020:10:00:02 +0700] "GET /x.html HTTP/2.0" 200 5 "-" "UA"\n',
        "garbage\n",
        hit("1.2.3.4", "2020-08-14 10:00:03", "/")[:70] + "\n",
        '1.2.3.4 - - [14/Aug/2020:10:00:04 +0700] "GET / HTTP/1.1" 200 5\n',  # common, not combined
        hit("1.2.3.4", "2020-08-14 10:00:05", "/").replace("Aug", "Foo"),
    ]
    summary, visitors, views = count(tmp_path, write(tmp_path / "access.log", lines))
    assert (summary.lines, summary.malformed, summary.page_views, summary.visits) == (7, 4, 3, 3)
    assert views["views"] == {"x.html": 2, "a/b.html": 1}


@pytest.mark.parametrize("agent", [
    GOOGLEBOT, "", "-", "curl/7.68.0", "Wget/1.20.3 (linux-gnu)", "python-requests/2.24.0",
    "Go-http-client/1.1", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; coccocbot-web/1.0; +http://help.coccoc.com/searchengine)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "ZaloPC-Bot/1.0", "Mozilla/5.0 Zalo link preview", "Mozilla/5.0 (compatible; YandexBot/3.0)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/84.0.4147.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 7.0; Moto G (4)) AppleWebKit/537.36 Chrome-Lighthouse",
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "Baiduspider", "Yahoo! Slurp",
])
def test_bots_are_recognised(agent):
    assert logline.is_bot(agent)


@pytest.mark.parametrize("agent", [
    CHROME, IPHONE, FIREFOX, ZALO_APP,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/84.0.4147.105 Safari/537.36 coc_coc_browser/89.0.180",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 [FBAN/FBIOS;FBAV/283.0.0.44.117;FBLC/vi_VN]",
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 Chrome/84.0 Mobile Safari/537.36",
])
def test_readers_are_not_bots(agent):
    assert not logline.is_bot(agent)


# A registry holding each kind of file the build publishes.
LOOKUP_PAGES = ("", "xay-dung-dang/", "chu-de/dai-hoi/", "xay-dung-dang/ket-qua.html", "tin-tuc/đại-hội.html",
                "tin-tuc/đai.html", "a.html")
LOOKUP_OTHERS = {"theme/css/main.css": "theme", "theme/partial.html": "theme", "feeds/visitors.json": "feed",
                 "pagefind/pagefind.js": "search", "pagefind/fragment/x.html": "search",
                 "images/logo.png": "static", "favicon.ico": "static", "sitemap.xml": "static",
                 "anh/ab12-800.webp": "photo", "tai-lieu/ket-qua/bao-cao.pdf": "attachment",
                 "404.html": "error", "50x.html": "error", "chuyen-huong/so-tay.html": "redirect"}


def test_page_paths_and_views_keys(tmp_path):
    registry = pages.Registry.load(make_registry(tmp_path / "outputs.json", LOOKUP_PAGES, LOOKUP_OTHERS))

    def page(target):  # the views key of a page view (None for a folder's page), False if none
        found = registry.lookup(logline.normalise_path(target))
        if found is None:
            return False
        assert found[0] == pages.VIEW, target
        return found[1]
    assert page("/xay-dung-dang/ket-qua.html") == "xay-dung-dang/ket-qua.html"
    assert page("/xay-dung-dang/ket-qua.html?fbclid=IwAR1&x=2") == "xay-dung-dang/ket-qua.html"
    assert page("/xay-dung-dang/ket-qua.html#binh-luan") == "xay-dung-dang/ket-qua.html"
    assert page("/tin-tuc/%C4%91%E1%BA%A1i-h%E1%BB%99i.html") == "tin-tuc/đại-hội.html"
    assert page("/tin-tuc/\\xC4\\x91ai.html") == "tin-tuc/đai.html"  # nginx's escape of raw bytes
    assert page("//xay-dung-dang//ket-qua.html") == "xay-dung-dang/ket-qua.html"
    # Home and category pages are page views, never keys of views.json.
    assert page("/") is None and page("/index.html") is None
    assert page("/xay-dung-dang/") is None and page("/xay-dung-dang/index.html") is None
    assert page("/xay-dung-dang") is None  # a folder named without its slash
    assert page("/chu-de/dai-hoi/?page=2") is None
    for not_a_page in ("/theme/css/main.css", "/feeds/visitors.json", "/feeds/index.html",
                       "/pagefind/pagefind.js", "/pagefind/fragment/x.html", "/theme/partial.html",
                       "/images/", "/banners/a.html", "/articles/xay-dung-dang/bai/anh.jpg",
                       "/articles/xay-dung-dang/bai/", "/404.html", "/50x.html", "/favicon.ico",
                       "/sitemap.xml", "/wp-login.php", "*", "http://evil.example/x.html", "/a.html.bak",
                       "/anh/ab12-800.webp", "/tai-lieu/ket-qua/bao-cao.pdf", "/tai-lieu/ket-qua/",
                       "/chuyen-huong/", "/a.html/", "/A.html"):
        assert page(not_a_page) is False, not_a_page
    # A redirect page is a click, under its own path.
    assert registry.lookup(logline.normalise_path("/chuyen-huong/so-tay.html?x=1")) == (
        pages.CLICK, "chuyen-huong/so-tay.html")
    assert pages.views_key("xay-dung-dang/ket-qua.html") == "xay-dung-dang/ket-qua.html"
    assert pages.views_key("index.html") is None
    assert pages.views_key("xay-dung-dang/index.html") is None
    assert logline.request_path("GET /a.html HTTP/1.1") == "a.html"
    assert logline.request_path("POST /a.html HTTP/1.1") is None
    assert logline.request_path("HEAD /a.html HTTP/1.1") is None
    assert logline.request_path("\\x16\\x03\\x01") is None


def test_page_view_rule_through_a_run(tmp_path):
    def counted(target, status=200, agent=CHROME, method="GET"):
        work = tmp_path / f"w{len(list(tmp_path.iterdir()))}"
        work.mkdir()
        log = write(work / "access.log", [hit("1.2.3.4", "2020-08-14 10:00:00", target, status, agent, method)])
        return count(work, log)[0].page_views == 1
    assert counted("/a/b.html") and counted("/a/b.html", 304) and counted("/")
    assert not counted("/a/b.html", 404) and not counted("/a/b.html", 301) and not counted("/a/b.html", 206)
    assert not counted("/a/b.html", method="POST") and not counted("/a/b.html", agent=GOOGLEBOT)
    assert not counted("/theme/css/main.css") and not counted("/anh/abc-800.jpg")


def test_visit_gaps(tmp_path):
    def visits_of(*times):
        work = tmp_path / f"w{len(list(tmp_path.iterdir()))}"
        work.mkdir()
        lines = [hit(ip, f"2020-08-14 {t}", "/a.html") for ip, t in times]
        return count(work, write(work / "access.log", lines))[0].visits
    assert visits_of(("1.1.1.1", "10:00:00"), ("1.1.1.1", "10:30:00")) == 1  # exactly 30 min: same visit
    assert visits_of(("1.1.1.1", "10:00:00"), ("1.1.1.1", "10:30:01")) == 2  # a second more: a new one
    # A chain of short gaps is one visit, however long; lines out of order too.
    assert visits_of(("1.1.1.1", "10:50:00"), ("1.1.1.1", "10:00:00"), ("1.1.1.1", "10:25:00")) == 1
    assert visits_of(("1.1.1.1", "10:00:00"), ("2.2.2.2", "10:00:00"), ("1.1.1.1", "10:01:00")) == 2
    t0 = 1597374000
    session = visits.Visits()
    assert session.add(t0, "a") and not session.add(t0 + 60, "a") and session.add(t0 + 60, "b")
    assert session.days == {"2020-08-14": 2} and session.visitors == {"a": t0 + 60, "b": t0 + 60}
    assert visits.online_count({"a": t0 - 300, "b": t0 - 301, "c": t0}, t0) == 2


# --- Whole runs with known answers --------------------------------------------------------

KNOWN_LOG = [
    # A: three page views in one visit (a 304 counts), with assets that do not.
    hit("1.1.1.1", "2020-08-14 10:00:00", "/xay-dung-dang/bai-mot.html"),
    hit("1.1.1.1", "2020-08-14 10:00:01", "/theme/css/main.css"),
    hit("1.1.1.1", "2020-08-14 10:00:01", "/articles/xay-dung-dang/bai-mot/anh.jpg"),
    hit("1.1.1.1", "2020-08-14 10:00:02", "/feeds/visitors.json"),
    hit("1.1.1.1", "2020-08-14 10:00:02", "/pagefind/pagefind.js"),
    hit("1.1.1.1", "2020-08-14 10:10:00", "/xay-dung-dang/bai-hai.html?fbclid=IwAR0abc"),
    hit("1.1.1.1", "2020-08-14 10:20:00", "/xay-dung-dang/bai-mot.html", 304),
    # B: home page and a category list count as page views, not in views.json; then
    # a gap of 30 min 1 s starts a second visit.
    hit("2.2.2.2", "2020-08-14 10:20:00", "/", agent=IPHONE),
    hit("2.2.2.2", "2020-08-14 10:21:00", "/tin-tuc-su-kien/", agent=IPHONE),
    hit("2.2.2.2", "2020-08-14 10:23:00", "/tin-tuc-su-kien/dai-hoi-%C4%91%E1%BA%A3ng.html", agent=IPHONE),
    hit("2.2.2.2", "2020-08-14 10:53:01", "/xay-dung-dang/bai-mot.html", agent=IPHONE),
    # C: a gap of exactly 30 minutes continues the visit, 31 minutes does not.
    hit("3.3.3.3", "2020-08-14 09:00:00", "/lien-he.html"),
    hit("3.3.3.3", "2020-08-14 09:30:00", "/gioi-thieu.html"),
    hit("3.3.3.3", "2020-08-14 10:01:00", "/gioi-thieu.html"),
    # D: same IP as A, another browser: another visitor. Online.
    hit("1.1.1.1", "2020-08-14 10:58:00", "/xay-dung-dang/bai-hai.html", agent=FIREFOX),
    # G exactly 5 minutes before the newest line: online; H one second earlier: not.
    hit("7.7.7.7", "2020-08-14 10:55:00", "/van-hoa-xa-hoi/bai-ba.html", agent=ZALO_APP),
    hit("8.8.8.8", "2020-08-14 10:54:59", "/van-hoa-xa-hoi/bai-ba.html"),
    # Not page views: bots, errors, other methods, excluded pages.
    hit("66.249.66.1", "2020-08-14 10:30:00", "/xay-dung-dang/bai-mot.html", agent=GOOGLEBOT),
    hit("9.9.9.1", "2020-08-14 10:31:00", "/xay-dung-dang/bai-mot.html", agent=""),
    hit("9.9.9.2", "2020-08-14 10:32:00", "/xay-dung-dang/bai-mot.html", agent="-"),
    hit("9.9.9.3", "2020-08-14 10:33:00", "/xay-dung-dang/bai-mot.html", agent="curl/7.68.0"),
    hit("9.9.9.4", "2020-08-14 10:34:00", "/xay-dung-dang/bai-mot.html",
        agent="facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"),
    hit("9.9.9.5", "2020-08-14 10:35:00", "/xay-dung-dang/bai-mot.html", agent="ZaloPC-Bot/1.0"),
    hit("5.5.5.5", "2020-08-14 10:36:00", "/xay-dung-dang/khong-co.html", 404),
    hit("5.5.5.5", "2020-08-14 10:37:00", "/lien-he.html", method="POST"),
    hit("5.5.5.5", "2020-08-14 10:38:00", "/", method="HEAD"),
    hit("5.5.5.5", "2020-08-14 10:39:00", "/xay-dung-dang/bai-mot.html", 301),
    hit("6.6.6.6", "2020-08-14 10:40:00", "/404.html"),
    hit("6.6.6.6", "2020-08-14 10:41:00", "/feeds/views.json"),
    hit("6.6.6.6", "2020-08-14 10:42:00", "/images/logo.png"),
    hit("6.6.6.6", "2020-08-14 10:43:00", "/banners/so-tay.jpg"),
    # Malformed: skipped and counted.
    "this is not a log line\n",
    hit("6.6.6.6", "2020-08-14 10:44:00", "/")[:60] + "\n",
    hit("6.6.6.6", "2020-08-14 10:45:00", "/").replace("Aug", "Foo"),
    # The newest line, from a monitor: "now" for online and today.
    hit("10.0.0.1", "2020-08-14 11:00:00", "/", agent="Mozilla/5.0+(compatible; UptimeRobot/2.0)"),
]
KNOWN_VIEWS = {
    "xay-dung-dang/bai-mot.html": 3,
    "gioi-thieu.html": 2,
    "van-hoa-xa-hoi/bai-ba.html": 2,
    "xay-dung-dang/bai-hai.html": 2,
    "lien-he.html": 1,
    "tin-tuc-su-kien/dai-hoi-đảng.html": 1,
}


def test_known_log(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    summary, visitors, views = count(tmp_path, log, base=1000)
    assert visitors == {"updated": "2020-08-14T11:00:00+07:00", "online": 2, "today": 8, "total": 1008}
    assert views == {"updated": "2020-08-14T11:00:00+07:00", "views": KNOWN_VIEWS}
    assert list(views["views"]) == list(KNOWN_VIEWS)  # most viewed first, then by path
    assert (summary.files, summary.lines, summary.malformed) == (1, len(KNOWN_LOG), 3)
    assert (summary.page_views, summary.visits) == (13, 8)
    assert summary.exit_code == 0
    assert summary.line() == ("stats: 1 files, 35 lines read, 3 malformed skipped, 13 page views, 8 visits; "
                              "online 2, today 8, total 1008")
    state = json.loads((tmp_path / "state.json").read_text())
    assert "1.1.1.1" not in (tmp_path / "state.json").read_text()  # visitors are pseudonymous
    assert state["visits"] == 8 and state["page_views"] == 13 and state["total_base"] == 1000


def test_repeated_run_adds_nothing(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    count(tmp_path, log, base=1000)
    before = snapshot(tmp_path)
    summary, visitors, _ = count(tmp_path, log)  # the base is remembered
    assert snapshot(tmp_path) == before
    assert (summary.lines, summary.page_views, summary.visits, summary.unchanged) == (0, 0, 0, 1)
    assert visitors["total"] == 1008


def test_visits_are_counted_on_the_vietnamese_day_they_began(tmp_path):
    log = write(tmp_path / "access.log", [
        hit("1.0.0.1", "2020-08-13 16:50:00", "/a.html", offset="+0000"),  # 23:50 on the 13th in Vietnam
        hit("1.0.0.2", "2020-08-13 23:50:00", "/a.html"),  # begins on the 13th...
        hit("1.0.0.2", "2020-08-14 00:10:00", "/b.html"),  # ...and goes on past midnight
        hit("1.0.0.3", "2020-08-14 00:05:00", "/a.html"),
        hit("1.0.0.4", "2020-08-13 17:10:00", "/a.html", offset="+0000"),  # 00:10 on the 14th in Vietnam
        hit("1.0.0.5", "2020-08-14 00:20:00", "/a.html"),
        hit("1.0.0.5", "2020-08-13 17:40:00", "/b.html", offset="+0000"),  # 20 min later: same visit
        hit("10.0.0.1", "2020-08-14 01:00:00", "/", agent="curl/7.68.0", offset="+0000"),  # 08:00 in Vietnam
    ])
    summary, visitors, views = count(tmp_path, log)
    assert visitors == {"updated": "2020-08-14T08:00:00+07:00", "online": 0, "today": 3, "total": 5}
    assert views["views"] == {"a.html": 5, "b.html": 2}
    assert json.loads((tmp_path / "state.json").read_text())["days"] == {"2020-08-13": 2, "2020-08-14": 3}


def test_two_servers_interleaved(tmp_path):
    server_a = write(tmp_path / "a.log", [
        hit("1.1.1.1", "2020-08-14 10:00:00", "/a.html"),
        hit("2.2.2.2", "2020-08-14 10:05:00", "/a.html"),
        hit("1.1.1.1", "2020-08-14 10:45:00", "/c.html"),
    ])
    server_b = write(tmp_path / "b.log", [
        hit("2.2.2.2", "2020-08-14 09:50:00", "/b.html"),
        hit("1.1.1.1", "2020-08-14 10:20:00", "/b.html"),
        hit("2.2.2.2", "2020-08-14 10:40:00", "/b.html"),
    ])
    # 1.1.1.1: 10:00 (a), 10:20 (b), 10:45 (a): one visit, though each file alone shows a 45-min gap.
    # 2.2.2.2: 09:50 (b), 10:05 (a), 10:40 (b): two visits.
    results = []
    for order, logs in enumerate(([server_a, server_b], [server_b, server_a])):
        work = tmp_path / f"run{order}"
        work.mkdir()
        summary, visitors, views = count(work, *logs)
        assert summary.visits == 3 and summary.page_views == 6
        results.append((visitors, views))
    assert results[0] == results[1]
    assert results[0][0] == {"updated": "2020-08-14T10:45:00+07:00", "online": 2, "today": 3, "total": 3}


def make_traffic(seed, start="2020-08-14 06:00:00", lines=400, visitors=8, step=(0, 700)):
    """Deterministic random traffic: readers (with assets), bots, errors, in time order."""
    rng = random.Random(seed)
    people = [(f"10.0.{n}.{n + 1}", rng.choice((CHROME, IPHONE, FIREFOX, ZALO_APP))) for n in range(visitors)]
    pages = ["/", "/xay-dung-dang/", "/xay-dung-dang/bai-mot.html", "/xay-dung-dang/bai-hai.html?fbclid=1",
             "/van-hoa-xa-hoi/bai-ba.html", "/gioi-thieu.html"]
    moment = logline.parse_timestamp(stamp(start))
    out = []
    while len(out) < lines:
        moment += rng.randint(*step)
        when = visits.iso_time(moment)[:19].replace("T", " ")
        roll = rng.random()
        ip, agent = rng.choice(people)
        if roll < 0.6:
            out.append(hit(ip, when, rng.choice(pages), rng.choice((200, 200, 200, 304)), agent))
        elif roll < 0.8:
            out.append(hit(ip, when, rng.choice(("/theme/css/main.css", "/feeds/visitors.json")), 200, agent))
        elif roll < 0.9:
            out.append(hit("66.249.66.1", when, rng.choice(pages), 200, GOOGLEBOT))
        elif roll < 0.97:
            out.append(hit(ip, when, "/khong-co.html", 404, agent))
        else:
            out.append("garbage\n")
    return out


def test_rotation_equals_one_run_over_everything(tmp_path):
    lines = make_traffic(1, lines=1200)
    seg1, seg2, seg3, seg4 = lines[:300], lines[300:650], lines[650:900], lines[900:]
    logs = tmp_path / "logs"
    logs.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    write(logs / "access.log.1", seg1)
    write(logs / "access.log", seg2)
    first, _, _ = count(work, *sorted(logs.iterdir()))
    assert first.lines == 650
    # The live log grows, then logrotate: .1 is compressed into .2.gz, the live
    # log becomes .1, and a fresh access.log starts.
    with open(logs / "access.log", "a", encoding="utf-8") as handle:
        handle.writelines(seg3)
    with open(logs / "access.log.1", "rb") as source, gzip.open(logs / "access.log.2.gz", "wb") as target:
        shutil.copyfileobj(source, target)
    os.remove(logs / "access.log.1")
    os.rename(logs / "access.log", logs / "access.log.1")
    write(logs / "access.log", seg4)
    second, visitors, views = count(work, *sorted(logs.iterdir()))
    assert second.lines == len(seg3) + len(seg4)
    assert second.files == 3
    # The same as one run over all the lines at once.
    single = tmp_path / "single"
    single.mkdir()
    _, one_visitors, one_views = count(single, write(tmp_path / "all.log", lines))
    assert (visitors, views) == (one_visitors, one_views)
    state, one_state = (json.loads((w / "state.json").read_text()) for w in (work, single))
    for key in ("visits", "page_views", "days", "views", "visitors", "newest"):
        assert state[key] == one_state[key], key
    assert first.visits + second.visits == visitors["total"] > 0
    # Nothing is counted twice on the next run, and a gzip file already read is
    # not even decompressed again.
    third, again, _ = count(work, *sorted(logs.iterdir()))
    assert (third.lines, third.unchanged, again) == (0, 3, visitors)
    # Rotation without delaycompress: the live log, partly read, grows and is
    # compressed at once; only its unread end is counted.
    newest = json.loads((work / "state.json").read_text())["newest"]
    assert newest < logline.parse_timestamp("25/Aug/2020:06:00:00 +0700")  # in time order
    seg5 = make_traffic(11, start="2020-08-25 06:00:00", lines=200)
    seg6 = make_traffic(12, start="2020-08-27 06:00:00", lines=200)
    with open(logs / "access.log", "a", encoding="utf-8") as handle:
        handle.writelines(seg5)
    os.rename(logs / "access.log.2.gz", logs / "access.log.3.gz")
    (logs / "access.log.2.gz").write_bytes(gzip.compress((logs / "access.log.1").read_bytes()))
    os.remove(logs / "access.log.1")
    (logs / "access.log.1.gz").write_bytes(gzip.compress((logs / "access.log").read_bytes()))
    write(logs / "access.log", seg6)
    fourth, visitors, views = count(work, *sorted(logs.iterdir()))
    assert (fourth.lines, fourth.unchanged, fourth.files) == (400, 1, 4)
    single = tmp_path / "single2"
    single.mkdir()
    _, one_visitors, one_views = count(single, write(tmp_path / "all2.log", lines + seg5 + seg6))
    assert (visitors, views) == (one_visitors, one_views)


def test_delaycompress_copy_and_gzip_without_gz_name(tmp_path):
    lines = make_traffic(2, lines=300)
    logs = tmp_path / "logs"
    logs.mkdir()
    write(logs / "access.log.2", lines)
    # While logrotate compresses, both the plain file and its gzip copy exist;
    # the gzip copy has no .gz name: detected by its magic bytes.
    (logs / "access.log.2-old").write_bytes(gzip.compress("".join(lines).encode()))
    work = tmp_path / "work"
    work.mkdir()
    summary, visitors, views = count(work, logs / "access.log.2-old", logs / "access.log.2")
    assert summary.lines == 300 and summary.unchanged == 1
    single = tmp_path / "single"
    single.mkdir()
    assert count(single, logs / "access.log.2")[1:] == (visitors, views)


def test_partial_last_line_waits_for_the_next_run(tmp_path):
    lines = make_traffic(3, lines=200)
    log = tmp_path / "access.log"
    text = "".join(lines)
    cut = text.index("\n", len(text) // 2) + 30  # in the middle of a line
    log.write_text(text[:cut])
    work = tmp_path / "work"
    work.mkdir()
    first, _, _ = count(work, log)
    assert first.lines == text[:cut].count("\n")
    log.write_text(text)  # nginx finishes the line and goes on
    second, visitors, views = count(work, log)
    assert first.lines + second.lines == 200
    single = tmp_path / "single"
    single.mkdir()
    assert count(single, log)[1:] == (visitors, views)


def test_small_file_that_grows_past_the_fingerprint_length(tmp_path):
    lines = make_traffic(4, lines=100)
    log = tmp_path / "access.log"
    work = tmp_path / "work"
    work.mkdir()
    total_lines = 0
    for end in (3, 10, 40, 100):  # 3 lines < 4 KiB, 100 lines > 4 KiB
        log.write_text("".join(lines[:end]))
        total_lines += count(work, log)[0].lines
    assert total_lines == 100
    assert len(json.loads((work / "state.json").read_text())["files"]) == 1
    single = tmp_path / "single"
    single.mkdir()
    assert count(single, log)[1:] == count(work, log)[1:]


def test_visits_carry_over_between_runs(tmp_path):
    log = tmp_path / "access.log"
    work = tmp_path / "work"
    work.mkdir()
    write(log, [hit("1.1.1.1", "2020-08-14 10:00:00", "/a.html")])
    assert count(work, log)[1]["total"] == 1
    with open(log, "a") as handle:
        handle.write(hit("1.1.1.1", "2020-08-14 10:29:00", "/b.html"))  # same visit, next run
        handle.write(hit("2.2.2.2", "2020-08-14 10:29:30", "/b.html"))
    summary, visitors, _ = count(work, log)
    assert summary.visits == 1 and visitors == {
        "updated": "2020-08-14T10:29:30+07:00", "online": 2, "today": 2, "total": 2}
    with open(log, "a") as handle:
        handle.write(hit("1.1.1.1", "2020-08-14 11:00:00", "/c.html"))  # 31 min later: new visit
        handle.write(hit("9.9.9.9", "2020-08-14 12:00:00", "/", agent=GOOGLEBOT))
    summary, visitors, _ = count(work, log)
    assert summary.visits == 1 and visitors["total"] == 3 and visitors["online"] == 0
    state = json.loads((work / "state.json").read_text())
    assert state["visitors"] == {}  # idle visitors are pruned...
    assert state["days"] == {"2020-08-14": 3}  # ...today's count stays


def test_late_lines_from_a_lagging_server(tmp_path):
    """Documented limitation: a line read in a later run but older than the
    previous run's newest line is still counted, joined to its visitor's visit
    if within 30 minutes of their latest page view."""
    work = tmp_path / "work"
    work.mkdir()
    server_a = write(tmp_path / "a.log", [hit("1.1.1.1", "2020-08-14 10:00:00", "/a.html"),
                                          hit("1.1.1.1", "2020-08-14 10:20:00", "/a.html")])
    count(work, server_a)
    server_b = write(tmp_path / "b.log", [hit("2.2.2.2", "2020-08-13 23:00:00", "/b.html"),
                                          hit("1.1.1.1", "2020-08-14 10:10:00", "/b.html")])
    summary, visitors, views = count(work, server_a, server_b)
    assert (summary.lines, summary.visits) == (2, 1)  # 2.2.2.2's visit, on the 13th
    assert visitors == {"updated": "2020-08-14T10:20:00+07:00", "online": 1, "today": 1, "total": 2}
    assert views["views"] == {"a.html": 2, "b.html": 2}


# --- Crash safety -------------------------------------------------------------------


@pytest.fixture
def interrupted_setup(tmp_path):
    """A state after a first run, logs that have grown since, and the reference
    result of an uninterrupted second run. Paths stay the same for every try,
    so results compare byte for byte."""
    lines = make_traffic(5, lines=3000, visitors=40, step=(0, 60))
    logs = tmp_path / "logs"
    logs.mkdir()
    work = tmp_path / "work"
    write(logs / "access.log", lines[:1800])
    work.mkdir()
    count(work, logs / "access.log")
    first = {path: path.read_bytes() for path in work.rglob("*") if path.is_file()}
    write(logs / "access.log", lines)
    (logs / "b.log.gz").write_bytes(gzip.compress("".join(make_traffic(6, lines=500)).encode()))

    def restore():
        shutil.rmtree(work)
        for path, data in first.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    count(work, logs / "access.log", logs / "b.log.gz")
    reference = snapshot(work)
    restore()
    return work, [logs / "access.log", logs / "b.log.gz"], reference, restore


@pytest.mark.parametrize("victim", ["replace", "fsync"])
def test_a_crash_at_any_write_is_repaired_by_the_next_run(interrupted_setup, monkeypatch, victim):
    work, logs, reference, restore = interrupted_setup
    real = getattr(os, victim)
    crashes = 0
    for allowed in range(20):
        calls = []

        def failing(*args, real=real, calls=calls, allowed=allowed):
            if len(calls) >= allowed:
                raise OSError("simulated crash")
            calls.append(args)
            return real(*args)

        monkeypatch.setattr(os, victim, failing)
        try:
            job.run([str(p) for p in logs], work / "feeds", work / "state.json", published=work / "outputs.json")
        except OSError:
            crashes += 1
        else:
            monkeypatch.setattr(os, victim, real)
            break
        monkeypatch.setattr(os, victim, real)
        count(work, *logs)
        assert snapshot(work) == reference, f"after a crash at {victim} call {allowed}"
        restore()
    assert crashes >= 3  # state and both feeds were each interrupted


# Runs the counter's command line (python3 -m counter, from the project's
# folder), SIGKILLing itself at the N-th call of os.replace or os.fsync: a
# real kill (no exception handler, no finally).
KILLER = """
import os, runpy, signal, sys
victim, allowed = sys.argv[1], int(sys.argv[2])
real, calls = getattr(os, victim), []
def deadly(*args):
    if len(calls) >= allowed:
        os.kill(os.getpid(), signal.SIGKILL)
    calls.append(args)
    return real(*args)
setattr(os, victim, deadly)
sys.argv = sys.argv[2:]
runpy.run_module("counter", run_name="__main__", alter_sys=True)
"""


def counter_arguments(work, logs):
    return ["--feeds-dir", str(work / "feeds"), "--state", str(work / "state.json"),
            "--published", str(work / "outputs.json"), *map(str, logs)]


def test_runs_killed_at_each_write(interrupted_setup):
    work, logs, reference, restore = interrupted_setup
    arguments = counter_arguments(work, logs)
    killed = 0
    for victim in ("replace", "fsync"):
        for allowed in range(12):
            restore()
            result = subprocess.run([sys.executable, "-c", KILLER, victim, str(allowed), *arguments],
                                    cwd=ROOT, capture_output=True)
            if result.returncode == 0:
                break  # ran to the end: every write point has been tried
            assert result.returncode == -9, result.stderr
            killed += 1
            subprocess.run([sys.executable, "-m", "counter", *arguments], cwd=ROOT, check=True, capture_output=True)
            assert snapshot(work) == reference, f"after a kill at {victim} call {allowed}"
    assert killed >= 3 + 6  # 3 replaces, 6 fsyncs (file and folder for each of 3 files)


def test_runs_killed_at_random_moments(interrupted_setup):
    work, logs, reference, restore = interrupted_setup
    command = [sys.executable, "-m", "counter", *counter_arguments(work, logs)]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    duration = time.perf_counter() - started
    assert snapshot(work) == reference
    rng = random.Random(7)
    for attempt in range(12):
        restore()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.2))
        process.kill()
        process.wait()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        assert snapshot(work) == reference, f"attempt {attempt}"


def test_a_second_run_waits_for_no_one(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    with open(tmp_path / "state.json.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        summary = job.run([str(log)], tmp_path / "feeds", tmp_path / "state.json",
                          published=make_registry(tmp_path / "outputs.json"))
    assert summary.locked and summary.exit_code == 0
    assert not (tmp_path / "state.json").exists() and not (tmp_path / "feeds").exists()


# --- Command line ----------------------------------------------------------------------


def cli(*args, cwd=ROOT, env=None, python=sys.executable):
    """``python3 -m counter ARGS`` run in ``cwd`` (a folder holding counter/)."""
    environment = dict(os.environ)
    environment.pop("STATS_TOTAL_BASE", None)
    environment.update(env or {})
    return subprocess.run([python, "-m", "counter", *map(str, args)], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=60)


def project_with_the_counter(folder):
    """A folder holding only a copy of counter/ and the library modules it
    uses (standard library only): a project root of its own."""
    shutil.copytree(PACKAGE, Path(folder) / "counter", ignore=shutil.ignore_patterns("__pycache__"))
    (Path(folder) / "portal").mkdir()
    for name in ("__init__.py",) + COUNTER_LIBRARY:
        shutil.copy(ROOT / "portal" / name, Path(folder) / "portal" / name)
    return Path(folder)


def test_cli_as_cron_runs_it(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    registry = make_registry(tmp_path / "outputs.json")
    result = cli("--feeds-dir", tmp_path / "feeds", "--state", tmp_path / "state.json", "--published", registry, log,
                 env={"STATS_TOTAL_BASE": "2686455"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == (f"stats: {log}:32: not a line of the \"combined\" log format: skipped "
                             "(and 2 more in this file)\n"
                             "stats: 1 files, 35 lines read, 3 malformed skipped, 13 page views, 8 visits; "
                             "online 2, today 8, total 2686463\n")
    visitors, views = feeds(tmp_path / "feeds")
    assert visitors["total"] == 2686463 and views["views"] == KNOWN_VIEWS
    # With the base given on the command line.
    other = tmp_path / "other"
    result = cli("--feeds-dir", other / "feeds", "--state", other / "state.json", "--total-base", "5",
                 "--published", registry, log)
    assert result.returncode == 0, result.stderr
    assert feeds(other / "feeds")[0]["total"] == 13


def test_cli_defaults_and_unreadable_files(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    project_with_the_counter(tmp_path)  # run from a project's folder, as cron does
    make_registry(tmp_path / "cache" / "outputs.json")  # the default --published, as `make html` writes it
    result = cli(log, tmp_path / "missing.log", tmp_path, cwd=tmp_path)
    # Counted what could be read; exit 1 tells cron that something was not.
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"stats: {log}:32: not a line of the \"combined\" log format: skipped (and 2 more in this file)",
        f"stats: {tmp_path / 'missing.log'}: cannot read (No such file or directory): skipped, "
        "nothing counted from it",
        f"stats: {tmp_path}: not a log file (a folder, a device or a pipe): skipped",
        "stats: 3 files, 2 unreadable or refused, 35 lines read, 3 malformed skipped, 13 page views, "
        "8 visits; online 2, today 8, total 8",
    ]
    assert (tmp_path / "content" / "feeds" / "visitors.json").exists()
    assert (tmp_path / "cache" / "stats-state.json").exists()
    # Nothing readable at all (e.g. the shell's glob matched nothing): exit 1.
    result = cli("/var/log/nothing-here/access.log*", cwd=tmp_path)
    assert result.returncode == 1
    assert ("stats: /var/log/nothing-here/access.log*: cannot read (No such file or directory): skipped, "
            "nothing counted from it\n") in result.stderr
    assert "stats: no log file could be read: nothing counted\n" in result.stderr
    # Only malformed lines, no state yet: no feed without an "updated" time.
    empty = tmp_path / "empty"
    write(tmp_path / "junk.log", ["garbage\n"])
    result = cli("--feeds-dir", empty / "feeds", "--state", empty / "state.json",
                 "--published", tmp_path / "cache" / "outputs.json", tmp_path / "junk.log")
    assert result.returncode == 0 and "1 malformed skipped" in result.stderr
    assert not (empty / "feeds").exists()


def test_cli_refuses_a_damaged_state(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    (tmp_path / "state.json").write_text("{not json")
    result = cli("--state", tmp_path / "state.json", "--feeds-dir", tmp_path / "feeds",
                 "--published", make_registry(tmp_path / "outputs.json"), log)
    assert result.returncode == 2
    assert result.stderr.startswith(f"stats: cannot read state file {tmp_path / 'state.json'}: ")
    assert result.stderr.endswith(": nothing done (restore it from a backup, or delete it "
                                  "to count every log from its start again)\n")
    assert (tmp_path / "state.json").read_text() == "{not json"
    assert not (tmp_path / "feeds").exists()
    assert cli("--total-base", "x", log).returncode == 2


def test_the_counter_runs_on_the_bare_system_python(tmp_path):
    """Cron's case: the system's python3, no virtual environment, nothing
    of the project but counter/, portal/atomic.py and portal/view_shards.py (no plugins/, no rest of
    portal/, no Pelican to import).
    ``-I`` would also drop the current folder from the import path, so the
    isolation is spelled out: -E (no PYTHON* variables), -s (no user site),
    -S (no site-packages at all), and an environment of PATH alone."""
    project = project_with_the_counter(tmp_path / "project")
    write(project / "access.log", KNOWN_LOG)
    make_registry(project / "cache" / "outputs.json")
    result = subprocess.run(["/usr/bin/python3", "-E", "-s", "-S", "-m", "counter", "--feeds-dir", "content/feeds",
                             "--state", "cache/stats-state.json", "--published", "cache/outputs.json",
                             "--total-base", "1000", "access.log"],
                            cwd=project, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("stats: 1 files, 35 lines read, 3 malformed skipped, 13 page views, 8 visits; "
                                  "online 2, today 8, total 1008\n")
    visitors, views = feeds(project / "content" / "feeds")
    assert visitors == {"updated": "2020-08-14T11:00:00+07:00", "online": 2, "today": 8, "total": 1008}
    assert views == {"updated": "2020-08-14T11:00:00+07:00", "views": KNOWN_VIEWS}
    # the shards and the no-script fragments, as the build publishes them
    published = project / "content" / "feeds"
    assert shard_views(published) == KNOWN_VIEWS
    assert fragment_text(published, "xay-dung-dang/bai-mot.html") == "Lượt xem: 3"
    assert "Lượt truy cập: <strong>1.008</strong>" in (published / "thong-ke.html").read_text(encoding="utf-8")


def imports_of(path):
    """Every module ``path`` imports: (name, level) pairs (level > 0: relative)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


# The modules of portal/ the counter imports: standard library only, like it.
COUNTER_LIBRARY = ("atomic.py", "view_shards.py")


def test_the_counter_imports_only_the_standard_library_itself_and_the_atomic_write():
    modules = sorted(PACKAGE.glob("*.py")) + [ROOT / "portal" / name for name in COUNTER_LIBRARY]
    assert len(modules) > 5
    for module in modules:
        for name, level in imports_of(module):
            top = name.split(".")[0]
            assert level > 0 or top in sys.stdlib_module_names or top == "__future__" or name in (
                "portal.atomic", "portal.view_shards"), (
                module.name, name)


def test_one_atomic_write_in_the_counter():
    """Only the project's one atomic write (portal.atomic.replace_atomic)
    renames a file into place: every file the counter writes goes through it."""
    renaming = [(module.name, node.name) for module in sorted(PACKAGE.glob("*.py"))
                + [ROOT / "portal" / name for name in COUNTER_LIBRARY]
                for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
                if isinstance(node, ast.FunctionDef)
                and any(isinstance(call, ast.Attribute) and call.attr in ("replace", "rename")
                        and isinstance(call.value, ast.Name) and call.value.id == "os"
                        for call in ast.walk(node))]
    assert renaming == [("atomic.py", "replace_atomic")]


def test_make_stats_needs_no_virtual_environment(tmp_path):
    """`make stats` runs from cron every minute: it must not reinstall
    packages (a LAN server may be offline) even when requirements.txt is new."""
    # as cron runs it: not under another make (`make test` exports MAKELEVEL)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(["make", "--no-print-directory", "-n", "-W", "requirements.txt", "-W",
                             "requirements-test.txt", "stats", "LOGS=/var/log/nginx/access.log", "PYTHON=python3"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "python3 -m counter --feeds-dir content/feeds --state cache/stats-state.json "
        "--published cache/outputs.json /var/log/nginx/access.log"]


BURST_PAGES = ("", "xay-dung-dang/", "xay-dung-dang/bai-mot.html")
BURST_OTHERS = {"chuyen-huong/so-tay.html": "redirect", "anh/ab12-800.webp": "photo", "404.html": "error",
                "tai-lieu/bai-mot/ke-hoach.pdf": "attachment", "feeds/views.json": "feed",
                "theme/css/main.css": "theme", "pagefind/pagefind.js": "search", "robots.txt": "static"}


def test_a_burst_of_requests_outside_the_registry_counts_nothing(tmp_path):
    """Issue 10: only what the build published as a page is a page view, so
    made-up addresses (which a try_files fallback answers 200) and files of
    other kinds inflate no figure and add no key; a redirect page (a banner's
    outbound link) is a click, not a page view."""
    published = make_registry(tmp_path / "cache" / "outputs.json", BURST_PAGES, BURST_OTHERS)
    junk = [f"/xay-dung-dang/bai-{n}.html" for n in range(300)] + [f"/{n}/" for n in range(100)]
    junk += ["/" + name for name in BURST_OTHERS if name != "chuyen-huong/so-tay.html"] * 20
    junk += ["/xay-dung-dang/bai-mot.html/", "/xay-dung-dang/bai-mot", "/anh/", "/chuyen-huong/"]
    lines = [hit(f"10.{n // 250}.{n % 250}.1", "2020-08-14 10:00:00", target) for n, target in enumerate(junk)]
    lines += [hit(f"10.9.{n}.1", "2020-08-14 10:01:00", "/chuyen-huong/so-tay.html?utm=zalo") for n in range(40)]
    lines += [hit("10.8.0.1", "2020-08-14 10:02:00", "/chuyen-huong/so-tay.html", agent=GOOGLEBOT),
              hit("10.8.0.2", "2020-08-14 10:02:00", "/chuyen-huong/so-tay.html", 404)]
    lines += [hit("1.1.1.1", "2020-08-14 10:03:00", "/xay-dung-dang/bai-mot.html"),
              hit("1.1.1.1", "2020-08-14 10:04:00", "/xay-dung-dang/")]
    summary, visitors, views = count(tmp_path, write(tmp_path / "access.log", lines), published=published)
    assert (summary.lines, summary.page_views, summary.visits, summary.exit_code) == (len(lines), 2, 1, 0)
    assert visitors == {"updated": "2020-08-14T10:04:00+07:00", "online": 1, "today": 1, "total": 1}
    assert views == {"updated": "2020-08-14T10:04:00+07:00", "views": {"xay-dung-dang/bai-mot.html": 1},
                     "clicks": {"chuyen-huong/so-tay.html": 40}}
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["views"] == {"xay-dung-dang/bai-mot.html": 1} and state["page_views"] == 2
    # The next build takes the banner down: its clicks leave the feed, stay in the state.
    make_registry(published, BURST_PAGES, {})
    with open(tmp_path / "access.log", "a", encoding="utf-8") as handle:
        handle.write(hit("1.1.1.2", "2020-08-14 10:05:00", "/chuyen-huong/so-tay.html"))
    _, _, views = count(tmp_path, tmp_path / "access.log", published=published)
    assert views == {"updated": "2020-08-14T10:05:00+07:00", "views": {"xay-dung-dang/bai-mot.html": 1}}
    assert json.loads((tmp_path / "state.json").read_text())["clicks"] == {"chuyen-huong/so-tay.html": 40}


def test_a_state_written_before_clicks_were_counted_is_read(tmp_path):
    """The state of the counter that lived in plugins/ (no "clicks"): read as
    it is, its redirect pages' old counts kept in views but out of the feed."""
    log = write(tmp_path / "access.log", KNOWN_LOG)
    count(tmp_path, log)
    state = json.loads((tmp_path / "state.json").read_text())
    del state["clicks"]
    state["views"]["chuyen-huong/so-tay.html"] = 7  # counted as a page view by that counter
    (tmp_path / "state.json").write_text(json.dumps(state))
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(hit("1.1.1.9", "2020-08-14 11:00:30", "/chuyen-huong/so-tay.html"))
    summary, _, views = count(tmp_path, log)
    assert summary.exit_code == 0 and (summary.lines, summary.page_views) == (1, 0)
    assert views["views"] == KNOWN_VIEWS and views["clicks"] == {"chuyen-huong/so-tay.html": 1}
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["clicks"] == {"chuyen-huong/so-tay.html": 1} and saved["views"]["chuyen-huong/so-tay.html"] == 7


def files_written(folder, before):
    """Files of ``folder`` created or replaced since ``before`` (path -> inode):
    every write is a rename, so a rewritten file has a new inode."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*")
                  if path.is_file() and before.get(path) != path.stat().st_ino)


def inodes(folder):
    return {path: path.stat().st_ino for path in folder.rglob("*") if path.is_file()}


def test_shards_and_fragments_are_rewritten_only_when_they_change(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    count(tmp_path, log)
    published = tmp_path / "feeds"
    assert shard_views(published) == KNOWN_VIEWS
    assert {address: fragment_text(published, address) for address in KNOWN_VIEWS} == {
        address: f"Lượt xem: {n}" for address, n in KNOWN_VIEWS.items()}
    # nothing new: nothing written
    before = inodes(published)
    count(tmp_path, log)
    assert files_written(published, before) == []
    # one more view of one article, by a visitor already online: its shard
    # and its fragment, and views.json; the other 255 shards are left alone
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(hit("1.1.1.1", "2020-08-14 11:00:00", "/xay-dung-dang/bai-mot.html"))
    count(tmp_path, log)
    address = "xay-dung-dang/bai-mot.html"
    assert files_written(published, before) == sorted([
        "thong-ke.html", "views.json", "visitors.json", view_shards.shard_path(address),
        view_shards.fragment_path(address)])
    assert fragment_text(published, address) == "Lượt xem: 4"
    # a site switch put an older shard there and lost a fragment: the disk
    # is the reference, so the next run (nothing new to count) mends both
    shard = published / view_shards.shard_path(address)
    good = shard.read_bytes()
    shard.write_bytes(view_shards.render_shard({address: 3}))
    (published / view_shards.fragment_path(address)).unlink()
    before = inodes(published)
    summary, _, _ = count(tmp_path, log)
    assert summary.lines == 0 and shard.read_bytes() == good and fragment_text(published, address) == "Lượt xem: 4"
    assert files_written(published, before) == sorted([view_shards.shard_path(address),
                                                       view_shards.fragment_path(address)])


def test_feeds_deleted_by_a_site_rebuild_come_back(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    count(tmp_path, log)
    before = snapshot(tmp_path)
    shutil.rmtree(tmp_path / "feeds")  # `make html` swaps output/ in, without the feeds
    summary, _, _ = count(tmp_path, log)
    assert summary.lines == 0 and snapshot(tmp_path) == before


# --- Issue 9: hostile and unlucky logs, through `make stats` ----------------------------

from conftest import build, new_content, write_article  # noqa: E402

ARTICLES = {  # folder name (the address) -> header
    "hoi-nghi-quan-triet-nghi-quyet": {"Title": "Hội nghị quán triệt nghị quyết", "Date": "2020-03-23 08:15",
                 "Category": "Xây dựng Đảng", "Author": "H. Sơn"},
    "dai-hoi-dang-bo-xa-dong-tien": {"Title": "Đại hội Đảng bộ xã Đồng Tiến", "Date": "2020-03-24 08:15",
                "Category": "Xây dựng Đảng", "Author": "H. Sơn"},
}
ARTICLE_URL = "xay-dung-dang/hoi-nghi-quan-triet-nghi-quyet.html"
OTHER_URL = "xay-dung-dang/dai-hoi-dang-bo-xa-dong-tien.html"


# The pages of the real site below; the build lists every other file it
# wrote under another kind.
REAL_PAGES = (ARTICLE_URL, OTHER_URL, "gioi-thieu.html", "index.html", "xay-dung-dang/index.html")


@pytest.fixture(scope="module")
def real_site(tmp_path_factory):
    """The output registry of a site built by Pelican from real Markdown: two
    articles and a page. The build's own (cache/outputs.json beside output/),
    its pages checked to be REAL_PAGES' kind. Each article shows the key it is
    counted under."""
    work = tmp_path_factory.mktemp("real-site")
    content = new_content(work / "content")
    for slug, header in ARTICLES.items():
        write_article(content / "articles" / "xay-dung-dang", slug, header, "## Nội dung\n\nBài viết.\n")
    (content / "pages" / "gioi-thieu.md").write_text("Title: Giới thiệu\n\nBan Tuyên giáo.\n", encoding="utf-8")
    site = build(content, work)
    for url in (ARTICLE_URL, OTHER_URL):
        assert site.soup(url).find(attrs={"data-views-url": url}) is not None  # the key the page shows
    registry = work / "cache" / "outputs.json"
    files = json.loads(registry.read_text(encoding="utf-8"))["files"]
    assert {name: files[name]["kind"] for name in REAL_PAGES + ("404.html",)} == {
        **dict.fromkeys(REAL_PAGES, "page"), "404.html": "error"}
    return registry


def make_stats(work, *logs, published, clock_env=None):
    """`make stats` as cron runs it, with every path in ``work`` (nothing in the project)."""
    command = ["make", "-s", "stats",
               "LOGS=" + " ".join(str(log) for log in logs), f"FEEDS_DIR={work / 'feeds'}",
               f"STATE={work / 'state.json'}", f"PUBLISHED={published}"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("STATS_TOTAL_BASE", None)
    result = subprocess.run(command, cwd=ROOT, env=env, text=True, capture_output=True, timeout=300)
    # make reports the counter's own exit status as "Error N" (and exits 2):
    # give back the counter's status and messages.
    failed = re.search(r"make(?:\[\d+\])?: \*\*\* \[Makefile:\d+: stats\] Error (\d+)\n\Z", result.stderr)
    if failed:
        result.returncode = int(failed.group(1))
        result.stderr = result.stderr[:failed.start()]
    else:
        assert result.returncode == 0, result.stderr
    return result


def now_stamp(seconds_from_now=0):
    """A log timestamp relative to this machine's clock, in UTC+7."""
    return visits.iso_time(int(time.time()) + seconds_from_now)[:19].replace("T", " ")


def long_agent(size=8000):
    """A reader's browser with an 8 KB User-Agent (nginx accepts 8 KB headers)."""
    return CHROME + " " + "x" * (size - len(CHROME) - 1)


def everything_at_once(tmp_path, lines, published, name="all"):
    """Feeds of one run over all ``lines`` in one file: the reference."""
    work = tmp_path / name
    work.mkdir()
    log = write(tmp_path / f"{name}.log", lines)
    assert make_stats(work, log, published=published).returncode == 0
    return feeds(work / "feeds")


def test_a_log_starting_with_a_long_line_is_counted_through_rotation(tmp_path, real_site):
    """Issue 9 Severe 5: the first 4 KiB without a newline made a log "unchanged" forever."""
    logs, work = tmp_path / "logs", tmp_path / "work"
    logs.mkdir()
    work.mkdir()
    first = [hit("1.1.1.1", "2020-08-14 10:00:00", "/" + ARTICLE_URL, agent=long_agent())]
    more = [hit(f"2.2.2.{n}", f"2020-08-14 10:0{n}:00", "/" + OTHER_URL) for n in range(1, 6)]
    write(logs / "access.log", first)
    result = make_stats(work, logs / "access.log", published=real_site)
    assert result.returncode == 0, result.stderr
    assert feeds(work / "feeds")[1]["views"] == {ARTICLE_URL: 1}
    with open(logs / "access.log", "a", encoding="utf-8") as handle:
        handle.writelines(more)
    assert make_stats(work, logs / "access.log", published=real_site).returncode == 0
    assert feeds(work / "feeds")[1]["views"] == {OTHER_URL: 5, ARTICLE_URL: 1}
    # Rotation; the fresh log starts with a long line again, then the old one is compressed.
    os.rename(logs / "access.log", logs / "access.log.1")
    after = [hit("3.3.3.3", "2020-08-14 11:00:00", "/" + OTHER_URL, agent=long_agent(8190)),
             hit("3.3.3.4", "2020-08-14 11:01:00", "/" + ARTICLE_URL)]
    write(logs / "access.log", after)
    assert make_stats(work, *sorted(logs.iterdir()), published=real_site).returncode == 0
    (logs / "access.log.2.gz").write_bytes(gzip.compress((logs / "access.log.1").read_bytes()))
    os.remove(logs / "access.log.1")
    with open(logs / "access.log", "a", encoding="utf-8") as handle:
        handle.write(hit("3.3.3.5", "2020-08-14 11:02:00", "/" + ARTICLE_URL))
    result = make_stats(work, *sorted(logs.iterdir()), published=real_site)
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("stats: 2 files, 1 lines read, 0 malformed skipped, 1 page views, "
                                  "1 visits; online 3, today 9, total 9\n")
    assert feeds(work / "feeds") == everything_at_once(
        tmp_path, first + more + after + [hit("3.3.3.5", "2020-08-14 11:02:00", "/" + ARTICLE_URL)], real_site)


def test_a_first_line_still_being_written_is_counted_once_complete(tmp_path):
    log, work = tmp_path / "access.log", tmp_path / "work"
    work.mkdir()
    line = hit("1.1.1.1", "2020-08-14 10:00:00", "/a.html", agent=long_agent())
    for end in (5, 4096, 6000):  # no newline yet: shorter than, equal to and longer than 4 KiB
        log.write_bytes(line.encode()[:end])
        summary = job.run([str(log)], work / "feeds", work / "state.json",
                          published=make_registry(work / "outputs.json"))
        assert (summary.lines, summary.exit_code) == (0, 0)
    log.write_text(line + hit("1.1.1.2", "2020-08-14 10:00:01", "/b.html"))
    summary, _, views = count(work, log)
    assert summary.lines == 2 and views["views"] == {"a.html": 1, "b.html": 1}
    assert len(json.loads((work / "state.json").read_text())["files"]) == 1


def test_copytruncate_and_truncation_in_place(tmp_path):
    lines = make_traffic(21, lines=900)
    logs, work = tmp_path / "logs", tmp_path / "work"
    logs.mkdir()
    work.mkdir()
    write(logs / "access.log", lines[:300])
    assert count(work, logs / "access.log")[0].lines == 300
    # logrotate copytruncate: copy (the copy has lines nobody read yet), then truncate in place.
    with open(logs / "access.log", "a", encoding="utf-8") as handle:
        handle.writelines(lines[300:400])
    shutil.copy(logs / "access.log", logs / "access.log.1")
    with open(logs / "access.log", "r+b") as handle:
        handle.truncate(0)
    assert count(work, logs / "access.log", logs / "access.log.1")[0].lines == 100
    with open(logs / "access.log", "a", encoding="utf-8") as handle:
        handle.writelines(lines[400:700])  # the same inode, new bytes
    assert count(work, logs / "access.log", logs / "access.log.1")[0].lines == 300
    # Truncated in place with no copy at all (someone emptied it): the new lines still count.
    with open(logs / "access.log", "r+b") as handle:
        handle.truncate(0)
    write(logs / "access.log", lines[700:])
    summary, visitors, views = count(work, logs / "access.log")
    assert summary.lines == 200
    single = tmp_path / "single"
    single.mkdir()
    assert count(single, write(tmp_path / "all.log", lines))[1:] == (visitors, views)


def test_overlong_lines_are_skipped_in_linear_time_and_named(tmp_path, real_site):
    logs, work = tmp_path / "logs", tmp_path / "work"
    logs.mkdir()
    work.mkdir()
    good = hit("1.1.1.1", "2020-08-14 10:00:00", "/" + ARTICLE_URL)
    limit = logfiles.MAX_LINE_BYTES
    at_limit = hit("1.1.1.2", "2020-08-14 10:00:01", "/" + ARTICLE_URL, agent="A")
    at_limit = at_limit.replace('"A"', '"' + CHROME + " " * (limit + 2 - len(at_limit) - len(CHROME)) + '"')
    assert len(at_limit) == limit + 1  # the newline is not part of the line
    over = hit("1.1.1.3", "2020-08-14 10:00:02", "/" + ARTICLE_URL, agent=long_agent(limit))
    log = write(logs / "access.log", [good, at_limit, over, good.replace("1.1.1.1", "1.1.1.4")])
    # An endless run of bytes at the end of the live log: skipped too, and
    # counted once, although the next runs go on reading it.
    with open(log, "ab") as handle:
        handle.write(b"A" * (5 * (1 << 20) + 17))
    result = make_stats(work, log, published=real_site)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"stats: {log}:3: line longer than {limit} bytes: skipped (and 1 more in this file)",
        "stats: 1 files, 5 lines read, 0 malformed skipped, 2 too long skipped, 3 page views, 3 visits; "
        "online 3, today 3, total 3",
    ]
    with open(log, "ab") as handle:
        handle.write(b"B" * 100_000 + b"\n" + hit("1.1.1.5", "2020-08-14 10:00:03", "/" + OTHER_URL).encode())
    result = make_stats(work, log, published=real_site)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ("stats: 1 files, 1 lines read, 0 malformed skipped, 1 page views, 1 visits; "
                             "online 4, today 4, total 4\n")
    assert feeds(work / "feeds")[1]["views"] == {ARTICLE_URL: 3, OTHER_URL: 1}


@pytest.mark.parametrize("seed", range(6))
def test_line_splitter_equals_split_whatever_the_chunks(seed):
    rng = random.Random(seed)
    limit = 50
    pieces = [b"x" * rng.choice((0, 1, 10, 49, 50, 51, 120, 400)) for _ in range(200)]
    data = b"\n".join(pieces) + (b"" if seed % 2 else b"\n") + b"tail" * rng.randint(0, 20)
    splitter = logfiles.LineSplitter(limit=limit)
    got, position = [], 0
    while position < len(data):
        size = rng.choice((1, 2, 7, 49, 50, 51, 300))
        got += splitter.feed(data[position:position + size])
        position += size
    got += splitter.finish() if not splitter.skipping else []
    *whole, last = data.split(b"\n")
    expected = [line if len(line) <= limit else None for line in whole]
    if last:
        expected.append(last if len(last) <= limit else None)
    assert got == expected
    assert splitter.consumed == len(data)


@pytest.mark.parametrize("bomb_kind", ["one line repeated", "zeros"])
def test_a_gzip_bomb_is_refused_whole_and_named(tmp_path, real_site, bomb_kind):
    logs, work = tmp_path / "logs", tmp_path / "work"
    logs.mkdir()
    work.mkdir()
    good = write(logs / "access.log", [hit("1.1.1.1", "2020-08-14 10:00:00", "/" + ARTICLE_URL)])
    assert make_stats(work, good, published=real_site).returncode == 0
    before = snapshot(work)
    # 64 MiB of one real page view repeated (0.4% of that compressed), or of zeros (0.1%).
    line = hit("6.6.6.6", "2020-08-14 10:30:00", "/" + OTHER_URL).encode() if bomb_kind != "zeros" else b"\0"
    bomb = logs / "access.log.2.gz"
    bomb.write_bytes(gzip.compress(line * ((64 << 20) // len(line)), 9))
    allowance = logfiles.gzip_allowance(bomb.stat().st_size)
    assert allowance < 64 << 20
    message = (f"stats: {bomb}: decompresses to more than {allowance} bytes (limit: 100 times its size, "
               f"at most {2 << 30}): refused, nothing counted from it")
    result = make_stats(work, good, bomb, published=real_site)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        message,
        "stats: 2 files (1 unchanged), 1 unreadable or refused, 0 lines read, 0 malformed skipped, "
        "0 page views, 0 visits; online 1, today 1, total 1",
    ]
    after = snapshot(work)
    assert after["feeds/views.json"] == before["feeds/views.json"]
    assert after["feeds/visitors.json"] == before["feeds/visitors.json"]
    # The next runs do not decompress it again, and still say so.
    result = make_stats(work, good, bomb, published=real_site)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (f"stats: {bomb}: refused by an earlier run (see its message); "
                                             "still not counted: remove or replace the file")
    assert snapshot(work) == after


def test_the_absolute_gzip_limit(tmp_path, monkeypatch):
    lines = make_traffic(22, lines=2000)
    log = tmp_path / "access.log.1.gz"
    log.write_bytes(gzip.compress("".join(lines).encode()))
    monkeypatch.setattr(logfiles, "MAX_GZIP_BYTES", 100_000)
    summary = job.run([str(log)], tmp_path / "feeds", tmp_path / "state.json",
                      published=make_registry(tmp_path / "outputs.json"))
    assert summary.exit_code == 1 and summary.lines == 0 and summary.page_views == 0
    assert summary.messages == [f"stats: {log}: decompresses to more than 100000 bytes (limit: 100 times its size, "
                                "at most 100000): refused, nothing counted from it"]


VARIANTS = ("/{u}", "/{u}?x=1", "/{u}?utm_source=zalo#binh-luan", "//{u}", "/xay-dung-dang//{s}",
            "/x/../{u}", "/x/y/../../{u}", "/./{u}", "/xay-dung-dang/./{s}", "/a/%2e%2e/{u}",
            "/a/%2E%2E/{u}", "/xay-dung-dang/%2e/{s}", "/%78ay-dung-dang/{s}", "/xay-dung-dang%2f{s}",
            "/x/..//{u}", "/xay-dung-dang/\\x2e\\x2e/xay-dung-dang/{s}")
NOT_PAGES = ("/{U}", "/{u}/", "/{u}%20", "/{u}.", "/{u};x", "/%252e%252e/{u}", "/../{u}", "/{u}%00",
             "/xay-dung-dang/khong-co.html", "/x/../404.html", "/theme/../feeds/../theme/a.html",
             "/" + "a" * 5000 + ".html", "/xay-dung-dang/{s}/../../../etc/passwd.html")


def test_address_variants_count_for_the_one_published_page(tmp_path, real_site):
    """Issue 9: `/x/../page.html`, `//page.html`, `?x=1`, `%2e%2e` made keys at will."""
    slug = ARTICLE_URL.split("/", 1)[1]
    variants = [v.format(u=ARTICLE_URL, s=slug) for v in VARIANTS]
    junk = [v.format(u=ARTICLE_URL, U=ARTICLE_URL.upper(), s=slug) for v in NOT_PAGES]
    lines = [hit(f"10.0.0.{n}", "2020-08-14 10:00:00", target) for n, target in enumerate(variants + junk)]
    lines += [hit("10.1.0.1", "2020-08-14 10:00:00", "/"), hit("10.1.0.2", "2020-08-14 10:00:00", "/xay-dung-dang/"),
              hit("10.1.0.3", "2020-08-14 10:00:00", "/xay-dung-dang/index.html"),
              hit("10.1.0.4", "2020-08-14 10:00:00", "/gioi-thieu.html")]
    work = tmp_path / "work"
    work.mkdir()
    result = make_stats(work, write(tmp_path / "access.log", lines), published=real_site)
    assert result.returncode == 0, result.stderr
    visitors, views = feeds(work / "feeds")
    assert views["views"] == {ARTICLE_URL: len(variants), "gioi-thieu.html": 1}
    assert visitors["total"] == len(variants) + 4  # home and category pages are page views, not keys


def test_normalised_paths():
    normal = logline.normalise_path
    assert normal("/") == "" and normal("//") == "" and normal("/a/..") == "" and normal("/a/../") == ""
    assert normal("/a/b/../c.html") == "a/c.html"
    assert normal("/a/.") == "a/" and normal("/a/b/..") == "a/"
    assert normal("/a/%2e%2e/b.html") == "b.html" and normal("/a/%252e%252e/b.html") == "a/%2e%2e/b.html"
    assert normal("/../a.html") is None and normal("/a/../../b.html") is None
    assert normal("a.html") is None and normal("*") is None
    # A folder's index.html is the folder's page, however it is named.
    registry = pages.Registry(["index.html", "a/index.html"])
    assert registry.lookup(normal("/a/index.html")) == registry.lookup(normal("/a/")) == (pages.VIEW, None)
    assert registry.lookup(normal("/index.html")) == registry.lookup(normal("/")) == (pages.VIEW, None)


REGISTRY_PROBLEMS = [
    ("", "cannot read output registry {path}: Expecting value: line 1 column 1 (char 0)"),
    ("{not json", "cannot read output registry {path}: Expecting property name enclosed in double quotes"),
    (b"\xff\xfe{}", "cannot read output registry {path}: "),
    ('{"version": 2, "files": {}}', "output registry {path} is not of version 1"),
    ('[1]', "output registry {path} is not of version 1"),
    ('{"version": 1}', "output registry {path} is damaged: 'files' is not a table"),
    ('{"version": 1, "files": {"index.html": "page"}}',
     "output registry {path} is damaged: files entry 'index.html' has no kind"),
    ('{"version": 1, "files": {"/index.html": {"kind": "page"}}}',
     "output registry {path} is damaged: '/index.html' is not a path inside the site"),
    ('{"version": 1, "files": {"a.html": {"kind": "page"}}}',
     "output registry {path} lists no page index.html: not a built site"),
]


def test_no_registry_counts_nothing_and_changes_nothing(tmp_path, real_site):
    log = write(tmp_path / "access.log", [hit("1.1.1.1", "2020-08-14 10:00:00", "/" + ARTICLE_URL)])
    work = tmp_path / "work"
    work.mkdir()
    missing = tmp_path / "cache" / "outputs.json"
    result = make_stats(work, log, published=missing)
    assert result.returncode == 1
    assert result.stderr == (f"stats: output registry {missing} not found: nothing counted, "
                             "the new lines wait for the next run (run make html first: the build writes it; "
                             "or give its path with --published)\n")
    assert list(work.iterdir()) == []
    # A damaged registry (a disk full, a hand edit) is no list of pages either.
    missing.parent.mkdir()
    for text, problem in REGISTRY_PROBLEMS:
        if isinstance(text, bytes):
            missing.write_bytes(text)
        else:
            missing.write_text(text, encoding="utf-8")
        result = make_stats(work, log, published=missing)
        assert result.returncode == 1, text
        assert result.stderr.startswith("stats: " + problem.format(path=missing)), (text, result.stderr)
        assert result.stderr.endswith(": nothing counted, the new lines wait for the next run (run make html "
                                      "first: the build writes it; or give its path with --published)\n")
        assert list(work.iterdir()) == [], text
    # Once the build has written it, the waiting line is counted.
    result = make_stats(work, log, published=real_site)
    assert result.returncode == 0 and feeds(work / "feeds")[1]["views"] == {ARTICLE_URL: 1}


def test_lines_dated_in_the_future_are_not_counted(tmp_path, real_site):
    """Issue 9: one line dated 2099 set online and today to 0 from then on."""
    work = tmp_path / "work"
    work.mkdir()
    page = "/" + ARTICLE_URL
    ahead = now_stamp(60)
    lines = [hit("1.1.1.1", now_stamp(-120), page), hit("1.1.1.2", now_stamp(-60), page),
             hit("6.6.6.6", "2099-01-01 00:00:00", page), hit("6.6.6.8", "9999-12-31 23:59:59", page, offset="+0000"),
             hit("6.6.6.7", now_stamp(scan.MAX_CLOCK_SKEW + 600), page),  # a clock 15 minutes ahead
             hit("1.1.1.3", ahead, page)]  # a minute ahead: within the skew
    log = write(tmp_path / "access.log", lines)
    result = make_stats(work, log, published=real_site)
    assert result.returncode == 1, result.stderr  # a server's clock is wrong: cron must tell someone
    first, summary = result.stderr.splitlines()
    assert first.startswith(f"stats: {log}:3: dated [01/Jan/2099:00:00:00 +0700], more than 5 minutes after this "
                            "machine's clock (") and first.endswith("): not counted (and 2 more in this file)")
    assert summary.startswith("stats: 1 files, 6 lines read, 0 malformed skipped, 3 dated in the future skipped, "
                              "3 page views, 3 visits; online 3, today ")
    visitors, views = feeds(work / "feeds")
    assert visitors["online"] == 3 and views["views"] == {ARTICLE_URL: 3}
    assert visitors["updated"] == visits.iso_time(logline.parse_timestamp(stamp(ahead)))


def test_a_state_poisoned_by_a_future_line_recovers(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    log = write(tmp_path / "access.log", [hit("1.1.1.1", "2020-08-14 10:00:00", "/a.html"),
                                          hit("6.6.6.6", "2099-01-01 00:00:00", "/a.html")])
    count(work, log, clock=logline.parse_timestamp(stamp("2099-01-01 00:00:00")))  # as the old counter did
    assert feeds(work / "feeds")[0]["online"] == 1 and feeds(work / "feeds")[0]["today"] == 1
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(hit("2.2.2.2", "2020-08-14 10:01:00", "/b.html"))
    summary, visitors, views = count(work, log)
    assert summary.messages[0].startswith(f"stats: {work / 'state.json'}: its latest time was after this "
                                          "machine's clock (")
    # "now" is a real time again, so online and today count again; what the
    # poisoned run pruned (visitors and days older than 2099 minus the windows)
    # cannot come back, and total keeps every visit once counted.
    assert visitors == {"updated": "2020-08-14T10:01:00+07:00", "online": 1, "today": 1, "total": 3}


def test_write_atomic_unique_temporaries_and_usual_permissions(tmp_path):
    target = tmp_path / "feed.json"
    old = os.umask(0o022)
    try:
        atomic.write_atomic(target, b"1")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"1" and (target.stat().st_mode & 0o777) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["feed.json"]
    # Two processes writing the same file at once: every read sees one whole version.
    writer = ("import sys; from pathlib import Path; from portal.atomic import write_atomic\n"
              "for n in range(300): write_atomic(Path(sys.argv[1]), sys.argv[2].encode() * 5000)")
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(target), letter], cwd=ROOT)
             for letter in "ab"]
    seen = set()
    while any(p.poll() is None for p in procs):
        data = target.read_bytes()
        seen.add(data[:1])
        assert data in (b"1", b"a" * 5000, b"b" * 5000)
    assert all(p.wait() == 0 for p in procs)
    assert [p.name for p in tmp_path.iterdir()] == ["feed.json"]


def test_leftovers_of_killed_writes_are_removed(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    count(tmp_path, log)
    shard = view_shards.shard_path("xay-dung-dang/bai-mot.html")
    for name in (".state.json.123-abcd.tmp", "feeds/.views.json.9-ffff.tmp", "feeds/.visitors.json.tmp",
                 "feeds/.thong-ke.html.9-ffff.tmp", shard.replace("luot-xem/", "feeds/luot-xem/.") + ".9-ffff.tmp"):
        (tmp_path / name).write_text("half")
    (tmp_path / "feeds" / shard).write_text("half")  # the write the kill interrupted had not replaced it yet
    count(tmp_path, log)
    assert sorted(p.name for p in (tmp_path / "feeds").iterdir()) == [
        "luot-xem", "thong-ke.html", "views.json", "visitors.json"]
    assert not [p for p in (tmp_path / "feeds").rglob("*.tmp")]
    assert not list(tmp_path.glob(".state.json.*"))


def test_caches_hold_no_long_keys(tmp_path):
    agents = [long_agent(2000 + n) for n in range(50)]
    lines = [hit(f"1.1.1.{n}", "2020-08-14 10:00:00", f"/a.html?{'q' * 3000}{n}", agent=a)
             for n, a in enumerate(agents)]
    registry = pages.Registry.load(make_registry(tmp_path / "outputs.json"))
    scanner = scan.Scanner(logfiles.LogFiles([]), registry, time.time())
    scanner.scan(str(write(tmp_path / "access.log", lines)))
    assert len(scanner.events) == 50
    assert all(len(key) <= scan.CACHE_KEY_MAX for key in scanner._agent_cache)
    assert all(len(key) <= scan.CACHE_KEY_MAX for key in scanner._request_cache)


def test_pipes_devices_and_folders_are_not_read(tmp_path):
    fifo = tmp_path / "access.log.fifo"
    os.mkfifo(fifo)  # opened for reading, it would wait for a writer forever
    log = write(tmp_path / "access.log", [hit("1.1.1.1", "2020-08-14 10:00:00", "/a.html")])
    (tmp_path / "logs.d").mkdir()
    summary, visitors, _ = count(tmp_path, fifo, "/dev/zero", tmp_path / "logs.d", log)
    assert summary.exit_code == 1 and visitors["total"] == 1
    assert summary.messages == [f"stats: {name}: not a log file (a folder, a device or a pipe): skipped"
                                for name in (fifo, "/dev/zero", tmp_path / "logs.d")]


@pytest.mark.parametrize("damage, problem", [
    ("[" * 100_000, "cannot read state file {path}: maximum recursion depth exceeded"),
    ('{"version": 1}', "state file {path} is incomplete: no 'newest'"),
    ("visits", "state file {path} is damaged: visits is not a whole number"),
    ("views", "state file {path} is damaged: views is not a table of numbers"),
    ("files", "state file {path} is damaged: files entry 1 is incomplete"),
])
def test_a_damaged_state_is_refused_with_its_field(tmp_path, damage, problem):
    log = write(tmp_path / "access.log", KNOWN_LOG)
    count(tmp_path, log)
    state = json.loads((tmp_path / "state.json").read_text())
    if damage in state:
        state[damage] = {"views": {"a.html": "185"}, "files": [{"fp": 1}]}.get(damage, -3)
        text = json.dumps(state)
    else:
        text = damage
    (tmp_path / "state.json").write_text(text)
    before = snapshot(tmp_path)
    summary = job.run([str(log)], tmp_path / "feeds", tmp_path / "state.json", published=tmp_path / "outputs.json")
    assert summary.exit_code == 2 and snapshot(tmp_path) == before
    assert summary.messages[0].startswith("stats: " + problem.format(path=tmp_path / "state.json"))
    assert summary.messages[0].endswith(": nothing done (restore it from a backup, or delete it "
                                        "to count every log from its start again)")


def test_a_negative_total_base_is_refused(tmp_path):
    result = cli("--total-base", "-5", "--published", make_registry(tmp_path / "outputs.json"), tmp_path / "x.log")
    assert result.returncode == 2 and "the total base must not be negative: -5" in result.stderr


def test_keys_bloated_by_an_earlier_counter_leave_the_feed(tmp_path):
    log = write(tmp_path / "access.log", [hit("1.1.1.1", "2020-08-14 10:00:00", "/a.html")])
    count(tmp_path, log)
    state = json.loads((tmp_path / "state.json").read_text())
    bloat = {"x/../a.html": 50, "a/./b.html": 40, "%2e%2e/a.html": 30, "da-go.html": 20}
    state["views"].update(bloat)
    (tmp_path / "state.json").write_text(json.dumps(state))
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(hit("1.1.1.2", "2020-08-14 10:00:01", "/x/../a.html"))
    summary, _, views = count(tmp_path, log)
    assert views["views"] == {"a.html": 2}
    # A page taken down keeps its count in the state, out of the feed.
    assert json.loads((tmp_path / "state.json").read_text())["views"] == {"a.html": 2, "da-go.html": 20}


def test_symlinks_out_of_the_site_are_no_pages(tmp_path):
    """What the output folder holds does not matter, only what the build
    says it published: a link out of the site that nginx would serve is
    no page, nor is a file the build did not write."""
    site = tmp_path / "output"
    outside = tmp_path / "elsewhere"
    for folder, names in ((site, ("index.html", "a.html")), (outside, ("secret.html", "dir/page.html"))):
        for name in names:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text("<!DOCTYPE html>\n")
    (site / "link.html").symlink_to(outside / "secret.html")
    (site / "dir").symlink_to(outside / "dir")
    (site / "inside.html").symlink_to(site / "a.html")
    (site / "left-over.html").write_text("<!DOCTYPE html>\n")  # from an earlier build
    registry = pages.Registry.load(make_registry(tmp_path / "outputs.json", ("", "a.html", "inside.html"), {}))
    found = {name: registry.lookup(logline.normalise_path("/" + name))
             for name in ("link.html", "dir/page.html", "left-over.html", "inside.html", "a.html", "",
                          "missing.html", "a.html\0x")}
    assert found == {"link.html": None, "dir/page.html": None, "left-over.html": None, "missing.html": None,
                     "a.html\0x": None, "inside.html": (pages.VIEW, "inside.html"),
                     "a.html": (pages.VIEW, "a.html"), "": (pages.VIEW, None)}


@pytest.mark.parametrize("seed", range(4))
def test_mangled_logs_never_give_a_traceback(tmp_path, seed):
    """Random damage to real lines (bytes cut, swapped, repeated; odd dates and
    offsets; NULs, escapes, huge fields) is counted, skipped or named, never a crash."""
    rng = random.Random(seed)
    base = "".join(make_traffic(seed, lines=300)).encode()
    pieces = [b"\x00", b"\\", b'"', b"\\x", b"%", b"%00", b"/../", b"[", b"]", b" ", b"\n", b"\xff\xfe",
              b"99/Dec/9999:23:59:59 +9999", b"00/Jan/0000:00:00:00 -0000", b"x" * 40000, b"\\x" * 9000]
    data = bytearray(base)
    for _ in range(400):
        at = rng.randrange(len(data))
        roll = rng.random()
        if roll < 0.4:
            data[at:at] = rng.choice(pieces)
        elif roll < 0.7:
            del data[at:at + rng.randint(1, 80)]
        else:
            data[at:at + 1] = bytes([rng.randrange(256)])
    plain = tmp_path / "access.log"
    plain.write_bytes(bytes(data))
    packed = tmp_path / "access.log.2.gz"
    packed.write_bytes(gzip.compress(bytes(data[::-1])))
    broken = tmp_path / "access.log.3.gz"
    broken.write_bytes(gzip.compress(bytes(data))[: rng.randint(10, 2000)])
    summary, _, views = count(tmp_path, plain, packed, broken)
    assert summary.exit_code in (0, 1) and summary.lines > 0
    assert set(views["views"]) <= set(SITE_PAGES)
    again = count(tmp_path, plain, packed, broken)[0]
    assert again.lines == 0  # nothing read twice
