"""Banner slots and sidebar widgets go where the settings put them
(BANNER_SLOTS' ``place``, SIDEBAR_BLOCKS): real builds of a small site with
another board's slots, and the build refusing a layout it cannot show."""

import json
import runpy
import shutil

import pytest
from conftest import ROOT, build, new_content, run_pelican, write_article
from PIL import Image

# Another board: slots renamed, reordered, added, two in the header, one
# sidebar slot left out of SIDEBAR_BLOCKS and one with no banner at all.
SLOTS = {
    "chien-dich": {"title": "Tuyên truyền", "width": 276, "place": "sidebar"},
    "dau-trang": {"title": "", "width": 1000, "place": "header"},
    "lien-ket": {"title": "Liên kết website", "width": 276},  # place defaults to sidebar
    "cuoi-cot": {"title": "", "width": 276, "place": "sidebar"},
    "dau-trang-2": {"title": "", "width": 1000, "place": "header"},
    "trong": {"title": "Không có gì", "width": 276, "place": "sidebar"},
}
SIDEBAR = ["chien-dich", "visitor_stats", "thoi-tiet", "trong", "lien-ket", "search_box"]

BANNERS = """
- id: lien-ket-1
  title: Liên kết một
  image: banners/hep.jpg
  link: https://nhandan.vn
  slot: lien-ket
- id: chien-dich-1
  title: Biển đảo quê hương
  image: banners/hep.jpg
  link: /tin-moi/
  slot: chien-dich
- id: cuoi-1
  title: Cuối cột
  image: banners/hep.jpg
  link: /tin-moi/
  slot: cuoi-cot
- id: dau-2
  title: Đầu trang hai
  image: banners/rong.jpg
  link: /tin-moi/
  slot: dau-trang-2
- id: dau-1
  title: Đầu trang một
  image: banners/rong.jpg
  link: /tin-moi/
  slot: dau-trang
"""

# what each sidebar block is called in SIDEBAR_BLOCKS, read back from the HTML
WIDGET_CLASSES = {"widget--search": "search_box", "widget--stats": "visitor_stats",
                  "widget--bulletin": "covid_bulletin", "widget--weather": "thoi-tiet"}


def sidebar_blocks(page):
    names = []
    for block in page.select_one("aside.sidebar").find_all(recursive=False):
        classes = block.get("class", [])
        slot = [c[len("banner-slot--"):] for c in classes if c.startswith("banner-slot--")]
        names += slot or [WIDGET_CLASSES[c] for c in classes if c in WIDGET_CLASSES]
    return names


def settings_args(workdir, **settings):
    """One ``-e`` with every setting: Pelican keeps only the last ``-e`` given,
    so this one repeats run_pelican's CACHE_PATH."""
    settings = dict(CACHE_PATH=str(workdir / "cache"), **settings)
    return ["-e", *(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in settings.items())]


@pytest.fixture
def board(tmp_path):
    """Content with banners for the slots above and the sample feeds, and a
    copy of the theme with one more widget (theme/templates/widgets/)."""
    content = new_content(tmp_path / "content")
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")
    (content / "banners").mkdir()
    Image.new("RGB", (600, 200), (180, 20, 20)).save(content / "banners" / "hep.jpg")
    Image.new("RGB", (2000, 120), (20, 20, 180)).save(content / "banners" / "rong.jpg")
    (content / "banners.yml").write_text(BANNERS, encoding="utf-8")
    write_article(content / "articles", "bai", {
        "Title": "Bài", "Date": "2020-08-01 08:00", "Category": "Xây dựng Đảng", "Summary": "Lời dẫn."})
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    (theme / "templates" / "widgets" / "thoi-tiet.html").write_text(
        '<section class="widget widget--weather"><h2 class="widget__title">Thời tiết</h2></section>\n',
        encoding="utf-8")
    return content, theme


def test_sidebar_and_header_follow_the_settings(board, tmp_path):
    content, theme = board
    site = build(content, tmp_path, extra=settings_args(tmp_path, BANNER_SLOTS=SLOTS, SIDEBAR_BLOCKS=SIDEBAR, THEME=str(theme)))
    for page in (site.soup("index.html"), site.soup("xay-dung-dang/bai.html"), site.soup("404.html")):
        # listed blocks in the listed order; the empty slot renders nothing; the
        # bulletin, left out, is not shown; cuoi-cot, left out, comes last
        assert sidebar_blocks(page) == ["chien-dich", "visitor_stats", "thoi-tiet", "lien-ket", "search_box",
                                        "cuoi-cot"]
        assert page.select_one(".sidebar .widget--bulletin") is None
        campaign = page.select_one(".sidebar .banner-slot--chien-dich")
        assert campaign.h2.get_text() == "Tuyên truyền" and campaign["aria-labelledby"] == "slot-chien-dich"
        assert [img["alt"] for img in campaign.select("img")] == ["Biển đảo quê hương"]
        assert page.select_one(".sidebar .banner-slot--lien-ket img")["alt"] == "Liên kết một"
        # header slots in BANNER_SLOTS order, under the emblem and above the menu
        header = page.select_one("header.site-header")
        parts = [(c.name, c.get("class")) for c in header.find_all(recursive=False)]
        assert parts == [("div", ["site-header__inner"]), ("div", ["header-banners"]), ("div", ["header-banners"]),
                         ("nav", ["main-menu"])]
        assert [d.img["alt"] for d in header.select(".header-banners")] == ["Đầu trang một", "Đầu trang hai"]
        assert [d.img["width"] for d in header.select(".header-banners")] == ["1000", "1000"]
        # no header slot strays into the sidebar, nor a sidebar slot into the header
        assert page.select(".sidebar .header-banners") == [] and header.select(".banner-slot") == []


def test_sidebar_default_is_the_widgets_then_every_sidebar_slot(board, tmp_path):
    """Without SIDEBAR_BLOCKS: search box, visitor statistics, bulletin,
    then the sidebar slots in BANNER_SLOTS order."""
    content, theme = board
    settings = tmp_path / "settings.py"
    settings.write_text(f"from pelicanconf import *\ndel SIDEBAR_BLOCKS\nTHEME = {str(theme)!r}\n"
                        f"BANNER_SLOTS = {SLOTS!r}\n", encoding="utf-8")
    site = build(content, tmp_path, settings=str(settings))
    page = site.soup("index.html")
    assert sidebar_blocks(page) == ["search_box", "visitor_stats", "covid_bulletin", "chien-dich", "lien-ket",
                                    "cuoi-cot"]
    assert [d.img["alt"] for d in page.select("header .header-banners")] == ["Đầu trang một", "Đầu trang hai"]


def test_without_the_banners_plugin_the_listed_widgets_remain(board, tmp_path):
    content, theme = board
    plugins = [name for name in runpy.run_path(str(ROOT / "pelicanconf.py"))["PLUGINS"] if name != "banners"]
    site = build(content, tmp_path, extra=settings_args(tmp_path, BANNER_SLOTS=SLOTS, SIDEBAR_BLOCKS=SIDEBAR,
                                                        THEME=str(theme), PLUGINS=plugins))
    page = site.soup("index.html")
    assert sidebar_blocks(page) == ["visitor_stats", "thoi-tiet", "search_box"]
    assert page.select(".banner") == []


def test_the_sample_board_keeps_its_sidebar(sample_site):
    page = sample_site.soup("index.html")
    assert sidebar_blocks(page) == ["search_box", "lien-ket", "visitor_stats", "ban-tin", "covid_bulletin",
                                    "sidebar"]
    assert len(page.select("header.site-header > .header-banners")) == 1


def test_a_layout_that_cannot_be_shown_stops_the_build(board, tmp_path):
    content, theme = board
    slots = dict(SLOTS, **{"chan-trang": {"title": "", "width": 276, "place": "footer"}})
    sidebar = ["search_box", "dau-trang", "thoi-tiet", "lien-ket", "lien-ket", "ban-do"]
    result = run_pelican(content, tmp_path / "output",
                         extra=settings_args(tmp_path, BANNER_SLOTS=slots, SIDEBAR_BLOCKS=sidebar, THEME=str(theme)))
    assert result.returncode != 0
    log = result.stdout
    assert "pelicanconf.py: BANNER_SLOTS: vị trí “chan-trang” có place “footer”; dùng “sidebar” hoặc “header”" in log
    assert "pelicanconf.py: SIDEBAR_BLOCKS: vị trí “dau-trang” có place “header”, không đặt được trong cột bên" in log
    assert "pelicanconf.py: SIDEBAR_BLOCKS: “lien-ket” có hai lần" in log
    unknown = [line for line in log.splitlines() if line.startswith("pelicanconf.py: SIDEBAR_BLOCKS: “ban-do” không phải")]
    assert len(unknown) == 1 and "chien-dich" in unknown[0] and "thoi-tiet" in unknown[0], log
    assert "Biểu ngữ có 4 lỗi và 0 cảnh báo" in log
    assert "Traceback" not in log
    assert not (tmp_path / "output" / "index.html").exists()
