"""Banners: every rule of banners.yml, schedules, rendering and `make banners`."""

import datetime
import io
import shutil
import subprocess

import pytest
from banners.__main__ import main as banners_main
from banners.links import LinkError, parse_link
from banners.model import load_banners, slot_banners
from conftest import write_settings, ROOT, build, new_content, run_pelican, write_article
from PIL import Image
from portal.vietnamese import TIMEZONE

SLOTS = {"lien-ket": {"title": "Liên kết website", "width": 276}, "sidebar": {"title": "", "width": 276},
         "header": {"title": "", "width": 1200}, "ban-tin": {"title": "", "width": 276}}


def make_image(path, width=600, height=200, frames=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    if frames:
        images = [Image.new("RGB", (width, height), (200, 40 * i, 20)) for i in range(frames)]
        images[0].save(path, save_all=True, append_images=images[1:], duration=200, loop=0)
    else:
        Image.new("RGB", (width, height), (180, 20, 20)).save(path)


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    make_image(root / "banners" / "a.jpg")
    make_image(root / "banners" / "b.gif", frames=4)
    make_image(root / "banners" / "hep.jpg", width=200)
    (root / "banners" / "hong.jpg").write_bytes(b"not an image")
    return root


def problems_of(content, text):
    (content / "banners.yml").write_text(text, encoding="utf-8")
    return [str(p) for p in load_banners(str(content / "banners.yml"), str(content), SLOTS)[1]]


GOOD = """- id: nhan-dan
  title: Báo Nhân Dân
  image: banners/a.jpg
  link: https://nhandan.vn
  slot: lien-ket
  order: 10
"""


def test_good_file(content):
    assert problems_of(content, GOOD) == []


@pytest.mark.parametrize("change,line,needle", [
    (("slot: lien-ket", "slot: ben-trai"), 5, "vị trí “ben-trai” không có"),
    (("banners/a.jpg", "banners/khong-co.jpg"), 3, "không tìm thấy ảnh"),
    (("banners/a.jpg", "banners/hong.jpg"), 3, "không đọc được ảnh"),
    (("banners/a.jpg", "banners/hep.jpg"), 3, "hẹp hơn vị trí “lien-ket” (276 px)"),
    (("banners/a.jpg", "../../etc/passwd"), 3, "ảnh “../../etc/passwd”: chỉ dùng tệp nằm trong thư mục content/"),
    (("order: 10", "strat: 2020-09-02"), 6, "khóa không được hỗ trợ “strat” — có phải “start”?"),
    (("order: 10", "order: mười"), 6, "order phải là số nguyên"),
    (("link: https://nhandan.vn", "link: ftp://nhandan.vn"), 4, "link must be http(s) or a site path"),
])
def test_each_rule_names_its_line(content, change, line, needle):
    found = problems_of(content, GOOD.replace(*change))
    assert len(found) == 1, found
    assert f"banners.yml:{line}: " in found[0] and needle in found[0]


@pytest.mark.parametrize("link", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "JAVA SCRIPT:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
    "jav&#x61;script:alert(1)", "//evil.example/x", "/\\evil.example/x", "file:///etc/passwd",
])
def test_unsafe_links_are_rejected(content, link):
    with pytest.raises(LinkError):
        parse_link(link)
    found = problems_of(content, GOOD.replace("link: https://nhandan.vn", f"link: {link!r}"))
    assert any("banners.yml:4:" in p and "liên kết" in p for p in found), found


def test_safe_links():
    for link in ("https://nhandan.vn", "http://binhphuoc.gov.vn/a?b=c", "/lien-he.html", "/tin-moi/"):
        assert parse_link(link) == link


def test_duplicate_id_end_before_start_and_missing_key(content):
    text = GOOD + GOOD.replace("order: 10", "order: 20\n  start: 2020-09-10\n  end: 2020-09-01") + \
        "- id: thieu\n  title: Thiếu ảnh\n  link: /\n  slot: sidebar\n"
    found = problems_of(content, text)
    assert any(":7: id “nhan-dan” bị trùng với banner ở dòng 1" in p for p in found)
    assert any(":14: end phải sau start" in p for p in found)
    assert any(":15: banner thiếu khóa “image”" in p for p in found)


def test_invalid_yaml_names_the_line(content):
    found = problems_of(content, GOOD + "- id: x\n  title: \"chưa đóng\n  slot: sidebar\n")
    assert len(found) == 1 and "YAML không hợp lệ" in found[0]
    assert "banners.yml:10:" in found[0]
    # an unclosed "[" opens a list: the message says to quote such text
    found = problems_of(content, GOOD + "- id: x\n  title: [chưa đóng\n  slot: sidebar\n")
    assert len(found) == 1 and "banners.yml:8: " in found[0] and "đặt trong ngoặc kép" in found[0]


def _moment(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=TIMEZONE)


def test_schedule_turns_at_midnight_in_vietnam(content):
    text = GOOD.replace("order: 10", "order: 10\n  start: 2020-09-02\n  end: 2020-09-05")
    (content / "banners.yml").write_text(text, encoding="utf-8")
    [banner], _ = load_banners(str(content / "banners.yml"), str(content), SLOTS)
    assert banner.status(_moment("2020-09-01T23:59:59")) == "upcoming"
    assert banner.status(_moment("2020-09-02T00:00:00")) == "active"
    # 16:59 UTC on the 2nd is 23:59 in Vietnam: still the 2nd there
    assert banner.status(datetime.datetime(2020, 9, 1, 16, 59, tzinfo=datetime.timezone.utc)) == "upcoming"
    assert banner.status(_moment("2020-09-05T23:59:59")) == "active"  # the end day is shown whole
    assert banner.status(_moment("2020-09-06T00:00:00")) == "ended"
    assert slot_banners([banner], SLOTS, _moment("2020-09-06T00:00:01"))["lien-ket"] == []


SITE_BANNERS = """
- id: thu-hai
  title: Thứ hai
  image: banners/a.jpg
  link: /lien-he.html
  slot: sidebar
  order: 20
- id: thu-nhat
  title: "Thứ nhất <b>đậm</b>"
  image: banners/b.gif
  link: https://nhandan.vn
  slot: sidebar
  order: 10
  new_tab: true
- id: sap-toi
  title: Sắp tới
  image: banners/a.jpg
  link: /tin-moi/
  slot: sidebar
  order: 30
  start: 2020-09-02
- id: da-het
  title: Đã hết
  image: banners/a.jpg
  link: /tin-moi/
  slot: sidebar
  order: 40
  end: 2020-08-31
- id: chi-sap-toi
  title: Chỉ sắp tới
  image: banners/a.jpg
  link: https://binhphuoc.gov.vn
  slot: lien-ket
  start: 2020-09-02
"""


@pytest.fixture
def banner_site(content):
    new_content(content)
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")
    (content / "banners" / "hong.jpg").unlink()
    (content / "banners.yml").write_text(SITE_BANNERS, encoding="utf-8")
    write_article(content / "articles", "bai", {
        "Title": "Bài", "Date": "2020-08-01 08:00", "Category": "Xây dựng Đảng", "Summary": "Lời dẫn."})
    return content


def test_rendered_slots(banner_site, tmp_path):
    site = build(banner_site, tmp_path, extra=["-e", 'BANNERS_NOW="2020-09-01T23:00:00"'])
    page = site.soup("index.html")
    sidebar = page.select_one(".sidebar .banner-slot--sidebar")
    items = sidebar.select(".banner")
    assert [i.img["alt"] for i in items] == ["Thứ nhất <b>đậm</b>", "Thứ hai", "Sắp tới"]  # order; ended gone
    first, second, upcoming = items
    assert first.a["href"] == "/chuyen-huong/thu-nhat.html"
    assert first.a["rel"] == ["noopener"] and first.a["target"] == "_blank"
    assert second.a["href"] == "/lien-he.html" and not second.a.has_attr("rel")
    assert upcoming.has_attr("hidden") and upcoming["data-start"] == str(int(_moment("2020-09-02T00:00").timestamp() * 1000))
    for item in items:
        img = item.img
        assert img["width"] == "276" and img["height"] == "92"
        one, two = [part.split(" ")[0] for part in img["srcset"].split(", ")]
        assert Image.open(site.path(one.lstrip("/"))).size == (276, 92)
        assert Image.open(site.path(two.lstrip("/"))).size == (552, 184)
    gif = Image.open(site.path(first.img["src"].lstrip("/")))
    assert gif.format == "GIF" and gif.n_frames == 4 and gif.info.get("loop") == 0
    redirect = site.soup("chuyen-huong/thu-nhat.html")
    assert "url=https://nhandan.vn" in redirect.select_one("meta[http-equiv=refresh]")["content"]
    # a slot with only an upcoming banner is hidden, heading included
    links = page.select_one(".banner-slot--lien-ket")
    assert links.has_attr("hidden") and links.h2.get_text() == "Liên kết website"
    assert page.select_one("script[src$='banner-schedule.js']") is not None
    assert "<b>đậm</b>" not in site.text("index.html")


def test_empty_slot_has_no_heading(banner_site, tmp_path):
    site = build(banner_site, tmp_path, extra=["-e", 'BANNERS_NOW="2020-09-03T08:00:00"'])
    page = site.soup("index.html")
    assert page.select_one(".banner-slot--lien-ket") is not None  # now active
    (banner_site / "banners.yml").write_text(SITE_BANNERS.split("- id: chi-sap-toi")[0], encoding="utf-8")
    (tmp_path / "2").mkdir()
    site = build(banner_site, tmp_path / "2", extra=["-e", 'BANNERS_NOW="2020-09-03T08:00:00"'])
    page = site.soup("index.html")
    assert page.select_one(".banner-slot--lien-ket") is None
    assert "Liên kết website" not in page.get_text()


def test_invalid_file_fails_the_build_and_publishes_nothing(banner_site, tmp_path):
    good = build(banner_site, tmp_path)
    before = good.text("index.html")
    (banner_site / "banners.yml").write_text(SITE_BANNERS.replace("link: /lien-he.html", "link: javascript:alert(1)"))
    for settings, fatal in (("pelicanconf.py", "errors"), ("publishconf.py", "warnings")):
        result = run_pelican(banner_site, good.output, settings=settings, fatal=fatal, cache=tmp_path / "cache")
        assert result.returncode != 0
        assert "banners.yml:5: liên kết" in result.stdout
        assert "Traceback" not in result.stdout
        assert good.text("index.html") == before


def test_make_banners_table(banner_site, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    views = tmp_path / "views.json"
    views.write_text('{"updated": "2020-09-01T10:00:00+07:00", "views": {}, "clicks": {"chuyen-huong/thu-nhat.html": 42}}')
    out = io.StringIO()
    settings_file = write_settings(tmp_path / "conf.py", PATH=str(banner_site), THEME=str(ROOT / "theme"),
                                   BANNERS_NOW="2020-09-01T12:00:00")
    code = banners_main(["--settings", str(settings_file), "--views", str(views)], out=out)
    text = out.getvalue()
    assert code == 0
    rows = {line.split()[2]: line for line in text.splitlines()[2:]}
    assert "đang hiển thị" in rows["thu-nhat"] and rows["thu-nhat"].rstrip().endswith("42")
    assert "chờ hiển thị (từ 02/09/2020 00:00)" in rows["sap-toi"]
    assert "hết hạn" in rows["da-het"]
    # slots in the order of BANNER_SLOTS (lien-ket before sidebar), then by order
    assert [line.split()[2] for line in text.splitlines()[2:]] == ["chi-sap-toi", "thu-nhat", "thu-hai", "sap-toi", "da-het"]


def test_make_banners_on_sample_content():
    result = subprocess.run(["make", "-s", "banners"], cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    assert "bao-nhan-dan" in result.stdout and "đang hiển thị" in result.stdout


def test_upcoming_banner_appears_when_the_page_clock_passes_its_start(banner_site, tmp_path, browser):
    """Built the evening before; no rebuild; the page shows it from midnight."""
    from browser import new_page, serve

    site = build(banner_site, tmp_path, extra=["-e", 'BANNERS_NOW="2020-09-01T20:00:00"'])
    with serve(site.output) as base:
        watched = new_page(browser, 1280)
        page = watched.page
        page.clock.install(time=_moment("2020-09-01T23:59:00"))
        page.goto(base + "/")
        upcoming = page.locator(".banner img[alt='Sắp tới']")
        links_slot = page.locator(".banner-slot--lien-ket")
        assert upcoming.is_hidden() and links_slot.is_hidden()
        page.clock.run_for(61_000)  # past midnight, Vietnam time
        assert upcoming.is_visible()
        assert links_slot.is_visible() and links_slot.locator("h2").inner_text().lower() == "liên kết website"
        assert watched.console_errors == [] and watched.outside_requests == []
        watched.context.close()
