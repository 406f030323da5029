"""The live widgets in headless Chromium, on a site served from 127.0.0.1."""

import contextlib
import functools
import http.server
import json
import shutil
import threading

import pytest
from browser import new_page, serve
from conftest import ROOT, build, new_content, write_article
from portal import view_shards

SEED = "/xay-dung-dang/ket-qua.html"
SHARD = "feeds/" + view_shards.shard_path(SEED.lstrip("/"))


def widget_site(root, views):
    """The sample feeds, one article (SEED), ``views`` as views.json's counts."""
    content = new_content(root / "content")
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")
    write_article(content / "articles", "ket-qua", {
        "Title": "Kết quả", "Slug": "ket-qua", "Date": "2020-03-26 08:15",
        "Category": "Xây dựng Đảng", "Summary": "Lời dẫn.",
    })
    (content / "feeds" / "views.json").write_text(json.dumps(
        {"updated": "2020-08-14T11:00:00+07:00", "views": views}), encoding="utf-8")
    return build(content, root, extra=["-e", "LIVE_REFRESH_SECONDS=1"])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return widget_site(tmp_path_factory.mktemp("widgets"), {"xay-dung-dang/ket-qua.html": 185})


def stats(page):
    return [" ".join(li.split()) for li in page.locator(".widget--stats li").all_inner_texts()]


def frame_text(page, selector):
    """The text of the <noscript> frame ``selector`` (loaded: JavaScript is off)."""
    frame = page.frame_locator(selector)
    return " ".join(frame.locator("body").inner_text().split())


def test_readers_without_javascript_see_the_numbers_in_frames(browser, site):
    with serve(site.output) as base:
        watched = new_page(browser, 1280, java_script_enabled=False)
        page = watched.page
        page.goto(base + SEED)
        page.wait_for_load_state("load")
        assert frame_text(page, ".stats__frame") == "Đang online: 38 Hôm nay: 3.357 Lượt truy cập: 2.686.455"
        assert frame_text(page, ".article__views-frame") == "Lượt xem: 185"
        # the script's placeholders are not shown beside them, nor the script's empty line
        assert not page.locator(".stats").is_visible() and not page.locator(".article__views").is_visible()
        box = page.locator(".stats__frame").bounding_box()
        assert box["height"] == 95 and box["width"] > 200
        assert "Việt Nam: 911 người mắc, 21 người tử vong (đã phục hồi 425)." in \
            page.locator(".widget--bulletin").inner_text()
        assert watched.outside_requests == []
        watched.context.close()


def test_figures_arrive_without_moving_the_widget(browser, site):
    """Before the script runs the list shows placeholders, with the height it
    keeps once the numbers are in."""
    with serve(site.output) as base:
        watched = new_page(browser, 1280)
        page = watched.page
        page.route("**/live-widgets.js", lambda route: route.abort())
        page.goto(base + SEED)
        assert stats(page) == ["Đang online: …", "Hôm nay: …", "Lượt truy cập: …"]
        before = page.locator(".widget--stats").bounding_box()
        assert page.locator(".article__views").is_hidden()
        page.unroute("**/live-widgets.js")
        page.reload()
        page.wait_for_function("document.querySelector('[data-stat=total]').textContent === '2.686.455'")
        assert page.locator(".widget--stats").bounding_box() == before
        assert page.locator(".article__views").inner_text() == "Lượt xem: 185"
        watched.context.close()


def test_script_brings_figures_current_without_rebuild(browser, site, tmp_path):
    output = tmp_path / "output"
    shutil.copytree(site.output, output)
    page_before = (output / SEED.lstrip("/")).read_bytes()
    with serve(output) as base:
        watched = new_page(browser, 375)
        page = watched.page
        page.goto(base + SEED)
        (output / SHARD).write_bytes(view_shards.render_shard({"xay-dung-dang/ket-qua.html": 1234}))
        page.reload()
        page.wait_for_function("document.querySelector('.article__views').innerText === 'Lượt xem: 1.234'")
        feed = {"updated": "2020-08-14T12:01:00+07:00", "online": 41, "today": 4000, "total": 2687001}
        (output / "feeds/visitors.json").write_text(json.dumps(feed))
        page.wait_for_function(
            "document.querySelector('[data-stat=total]').textContent === '2.687.001'", timeout=5000)
        assert stats(page) == ["Đang online: 41", "Hôm nay: 4.000", "Lượt truy cập: 2.687.001"]
        # values that are not non-negative integers are ignored, text stays
        (output / "feeds/visitors.json").write_text(json.dumps(
            {"updated": "x", "online": "<b>9</b>", "today": -1, "total": 2687002}))
        page.wait_for_function(
            "document.querySelector('[data-stat=total]').textContent === '2.687.002'", timeout=5000)
        assert stats(page) == ["Đang online: 41", "Hôm nay: 4.000", "Lượt truy cập: 2.687.002"]
        assert page.locator(".widget--stats b").count() == 0
        assert watched.console_errors == [] and watched.outside_requests == []
        watched.context.close()
    assert (output / SEED.lstrip("/")).read_bytes() == page_before


def test_script_updates_bulletin_from_disease_sh(browser, site, tmp_path):
    output = tmp_path / "output"
    shutil.copytree(site.output, output)
    source = json.loads((output / "feeds/disease-sh-vietnam.json").read_text())
    source.update(updated=1597395600000, cases=1000, deaths=25, recovered=500)
    (output / "feeds/disease-sh-vietnam.json").write_text(json.dumps(source))
    covid = json.loads((output / "feeds/covid.json").read_text())
    covid["regions"][0]["name"] = "<img src=x onerror=alert(1)>"
    (output / "feeds/covid.json").write_text(json.dumps(covid))
    with serve(output) as base:
        watched = new_page(browser, 1280)
        page = watched.page
        page.goto(base + SEED)
        page.wait_for_function("document.querySelector('[data-bulletin-time]').textContent === '16h00 ngày 14/8/2020'")
        lines = page.locator(".bulletin__regions li").all_inner_texts()
        assert lines == [
            "<img src=x onerror=alert(1)>: 21.067.959 người mắc, 757.431 người tử vong.",
            "Việt Nam: 1.000 người mắc, 25 người tử vong (đã phục hồi 500).",
            "Bình Phước: 0 người mắc.",
        ]
        assert page.locator(".widget--bulletin img[onerror]").count() == 0
        assert watched.console_errors == []
        watched.context.close()


def test_widget_script_is_small():
    script = (ROOT / "theme/static/js/live-widgets.js").read_text(encoding="utf-8")
    # what a minifier would at least remove: comments and indentation
    import re
    # (two passes: with re.S a "//" line would swallow the rest of the file)
    minified = re.sub(r"^\s*//.*$", "", re.sub(r"/\*.*?\*/", "", script, flags=re.S), flags=re.M)
    assert not re.search(r"[;{}),]\s*//", minified), "a comment after code would hide the rest once joined"
    minified = "".join(line.strip() for line in minified.splitlines())
    assert len(minified.encode("utf-8")) < 3 * 1024
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script


# --- 20,000 counted articles: one shard, revalidated ---------------------------------------


class _Recording(http.server.SimpleHTTPRequestHandler):
    """Serves the site and records (path, status, conditional request?)."""

    def log_request(self, code="-", size="-"):
        self.server.requests.append((self.path, int(code), "If-Modified-Since" in self.headers))

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def recording_server(directory):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Recording, directory=str(directory)))
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    """The small site, its views feed counting 20,000 articles (long addresses, as the archive has)."""
    views = {f"tin-tuc-su-kien/hoi-nghi-quan-triet-trien-khai-thuc-hien-nghi-quyet-so-{n}-cua-tinh-uy.html": n + 1
             for n in range(19999)}
    views[SEED.lstrip("/")] = 4321
    return widget_site(tmp_path_factory.mktemp("big"), views)


def test_an_article_downloads_only_its_shard_and_revalidates(browser, big_site):
    assert (big_site.output / "feeds/views.json").stat().st_size > 1_000_000
    shard = big_site.output / SHARD
    assert 1024 < shard.stat().st_size < 10 * 1024  # a few KB, of 1.9 MB of views
    with recording_server(big_site.output) as (base, requests):
        # not new_page(): Playwright turns the HTTP cache off in a context
        # that routes requests, and revalidation is what is tested here
        context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
        page = context.new_page()
        errors, elsewhere = [], []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: r.url.startswith(base) or elsewhere.append(r.url))
        page.goto(base + SEED)
        page.wait_for_function("document.querySelector('.article__views').innerText === 'Lượt xem: 4.321'")
        page.wait_for_function("document.querySelector('[data-stat=total]').textContent === '2.686.455'")
        # the visitors' refresh, every LIVE_REFRESH_SECONDS: a conditional request, answered 304
        page.wait_for_timeout(2500)
        feeds = [(path, status, conditional) for path, status, conditional in requests if path.startswith("/feeds/")]
        assert not [r for r in feeds if r[0] == "/feeds/views.json"]
        assert [r for r in feeds if "/luot-xem/" in r[0]] == [("/" + SHARD, 200, False)]
        refreshes = [r for r in feeds if r[0] == "/feeds/visitors.json"]
        assert refreshes[0][1:] == (200, False) and (304, True) in [r[1:] for r in refreshes[1:]]
        # a reload asks for the shard again, and gets a 304
        page.reload()
        page.wait_for_function("document.querySelector('.article__views').innerText === 'Lượt xem: 4.321'")
        assert ("/" + SHARD, 304, True) in requests
        assert errors == [] and elsewhere == []
        context.close()
