"""The live widgets in headless Chromium, on a site served from 127.0.0.1."""

import json
import shutil

import pytest
from browser import new_page, serve
from conftest import ROOT, build, new_content, write_article

SEED = "/xay-dung-dang/ket-qua.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("widgets")
    content = new_content(root / "content")
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")
    write_article(content / "articles", "ket-qua", {
        "Title": "Kết quả", "Slug": "ket-qua", "Date": "2020-03-26 08:15",
        "Category": "Xây dựng Đảng", "Summary": "Lời dẫn.",
    })
    views = json.loads((content / "feeds" / "views.json").read_text(encoding="utf-8"))
    views["views"] = {"xay-dung-dang/ket-qua.html": 185}
    (content / "feeds" / "views.json").write_text(json.dumps(views), encoding="utf-8")
    return build(content, root, extra=["-e", "LIVE_REFRESH_SECONDS=1"])


def stats(page):
    return [" ".join(li.split()) for li in page.locator(".widget--stats li").all_inner_texts()]


def test_snapshot_reads_right_without_javascript(browser, site):
    with serve(site.output) as base:
        watched = new_page(browser, 1280, java_script_enabled=False)
        watched.page.goto(base + SEED)
        assert stats(watched.page) == ["Đang online: 38", "Hôm nay: 3.357", "Lượt truy cập: 2.686.455"]
        assert watched.page.locator(".article__views").inner_text() == "Lượt xem: 185"
        assert "Việt Nam: 911 người mắc, 21 người tử vong (đã phục hồi 425)." in \
            watched.page.locator(".widget--bulletin").inner_text()
        watched.context.close()


def test_script_brings_figures_current_without_rebuild(browser, site, tmp_path):
    output = tmp_path / "output"
    shutil.copytree(site.output, output)
    page_before = (output / SEED.lstrip("/")).read_bytes()
    with serve(output) as base:
        watched = new_page(browser, 375)
        page = watched.page
        page.goto(base + SEED)
        (output / "feeds/views.json").write_text(json.dumps(
            {"updated": "2020-08-14T12:00:00+07:00", "views": {"xay-dung-dang/ket-qua.html": 1234}}))
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
