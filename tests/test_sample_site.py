"""The sample portal built from content/: what a reader and a crawler get."""

import re
from urllib.parse import unquote
import xml.etree.ElementTree as ET

from conftest import ROOT

SEED = "xay-dung-dang/ket-qua-va-mot-so-kinh-nghiem-tu-dai-hoi-diem-cap-co-so.html"
SEED_TITLE = "Kết quả và một số kinh nghiệm từ đại hội điểm cấp cơ sở"
HEADINGS = [
    "Công tác chỉ đạo tổ chức đại hội",
    "Kết quả đại hội",
    "Những ưu điểm và hạn chế",
    "Một số kinh nghiệm rút ra",
]
LEAD_CAPTION = "Đại hội Đảng bộ xã Đồng Tiến (Đồng Phú) thí điểm bầu trực tiếp Bí thư Đảng ủy nhiệm kỳ 2020-2025"
INLINE_CAPTION = (
    "Đồng chí Nguyễn Văn Lợi - Ủy viên TW Đảng, Bí thư Tỉnh ủy, Trưởng Đoàn ĐBQH tỉnh "
    "dự và chỉ đạo Đại hội Đảng bộ xã Lộc Thái (Lộc Ninh) lần thứ IX nhiệm kỳ 2020 - 2025"
)
ATOM = "{http://www.w3.org/2005/Atom}"


def test_seed_article_page(sample_site):
    page = sample_site.soup(SEED)
    assert page.html["lang"] == "vi"
    assert page.h1.get_text(strip=True) == SEED_TITLE
    assert [h.get_text(strip=True) for h in page.select(".article__body h2")] == HEADINGS
    captions = [c.get_text(strip=True) for c in page.select(".article figure figcaption")]
    assert captions == [LEAD_CAPTION, INLINE_CAPTION]
    # the lead paragraph comes first, and is not repeated in the body
    lead = page.select_one(".article__lead").get_text(strip=True)
    assert lead.startswith("Thực hiện hướng dẫn của Ban Tổ chức Trung ương")
    assert lead.endswith("(chiếm 6,49%).")
    assert "Thực hiện hướng dẫn của Ban Tổ chức" not in page.select_one(".article__body").get_text()
    assert page.select_one(".article__byline").get_text(strip=True) == "H. Sơn"
    time = page.select_one(".article__date time")
    assert time.get_text() == "Thứ Năm, 26/03/2020 08:15"
    assert time["datetime"] == "2020-03-26T08:15:00+07:00"
    body = page.select_one(".article__body").get_text()
    assert "25,46%" in body and "./." in body
    # the body photo is published next to its article and lazy-loaded
    inline = page.select_one(".article__body figure img")
    assert inline["loading"] == "lazy"
    assert sample_site.exists(inline["src"].lstrip("/"))
    assert sample_site.exists(page.select_one(".figure--lead img")["src"].lstrip("/"))


def sample_articles():
    """(date, title, category) of every published sample article, newest first."""
    found = []
    for path in (ROOT / "content" / "articles").glob("*/*/index.md"):
        header = dict(line.split(": ", 1) for line in path.read_text(encoding="utf-8").split("\n\n")[0].splitlines()
                      if ": " in line)
        if header.get("Status") != "draft":
            found.append((header["Date"], header["Title"], header["Category"]))
    return sorted(found, reverse=True)


def test_seed_article_extras(sample_site):
    page = sample_site.soup(SEED)
    # the count is not in the page (it changes every minute): the script
    # reads it from the article's shard, readers without it see a fragment
    views = page.select_one(".article__views")
    assert views.has_attr("hidden") and sample_site.exists("feeds/" + views["data-views-shard"])
    frame = page.select_one("noscript iframe.article__views-frame")["src"]
    assert "Lượt xem: 185" in sample_site.text(unquote(frame).lstrip("/"))
    assert page.select_one("#binh-luan").get_text(strip=True) == "Bình luận"
    # "Các tin khác": the same category, those published just before first,
    # topped up with those just after (closest first)
    same = [(d, t) for d, t, c in sample_articles() if c == "Xây dựng Đảng"]
    seed_date = next(d for d, t in same if t == SEED_TITLE)
    older = [t for d, t in same if d < seed_date]
    newer = [t for d, t in reversed(same) if d > seed_date]
    related = [a.get_text(strip=True) for a in page.select(".block--related a")]
    assert related == (older + newer)[:6] and len(related) == len(same) - 1
    assert page.select_one(".breadcrumb a[href='/xay-dung-dang/']").get_text() == "Xây dựng Đảng"


def test_open_graph_and_canonical(sample_site):
    page = sample_site.soup(SEED)
    og = {m["property"]: m["content"] for m in page.select("meta[property^='og:']")}
    assert og["og:title"] == SEED_TITLE
    assert og["og:description"].startswith("Thực hiện hướng dẫn của Ban Tổ chức Trung ương")
    assert og["og:type"] == "article"
    # the lead photo's largest JPEG, as an absolute URL a share preview can fetch
    lead = page.select_one(".figure--lead img")
    assert og["og:image"].startswith("https://tuyengiao.binhphuoc.gov.vn/anh/")
    assert og["og:image"].endswith("-1200.jpg")
    assert sample_site.exists(og["og:image"].split("/", 3)[3])
    assert lead["srcset"].split(", ")[-1].split(" ")[0].endswith(og["og:image"].rsplit("/", 1)[1])
    assert og["og:url"].endswith("/" + SEED)
    assert page.select_one("link[rel=canonical]")["href"] == og["og:url"]


def test_category_page_lists_seed_and_paginates(sample_site):
    first = sample_site.soup("xay-dung-dang/index.html")
    assert first.h1.get_text(strip=True) == "Xây dựng Đảng"
    titles = [a.get_text(strip=True) for a in first.select(".news-item__title a")]
    assert SEED_TITLE in titles
    archive = sample_site.soup("tin-moi/index.html")
    next_link = archive.select_one(".pagination a[rel=next]")
    assert next_link is not None and next_link["href"] == "/tin-moi/trang-2/"
    second = sample_site.soup("tin-moi/trang-2/index.html")
    assert second.select_one(".pagination a[rel=prev]")["href"] == "/tin-moi/"
    first_titles = {a.get_text() for a in archive.select(".news-item__title a")}
    second_titles = {a.get_text() for a in second.select(".news-item__title a")}
    assert first_titles and second_titles and not first_titles & second_titles


def test_home_page(sample_site):
    home = sample_site.soup("index.html")
    assert home.select_one(".featured__title").get_text(strip=True) == SEED_TITLE
    menu = [a.get_text(strip=True) for a in home.select(".main-menu a")]
    assert menu[:6] == ["Trang chủ", "Tin tức - Sự kiện", "Xây dựng Đảng", "Học tập và làm theo Bác",
                        "Văn hóa - Xã hội", "Quốc phòng - An ninh"]
    assert "Giới thiệu" in menu and "Liên hệ" in menu
    blocks = [h.get_text(strip=True) for h in home.select(".block--category .block__title")]
    assert blocks == menu[1:6]
    latest = [a.get_text(strip=True) for a in home.select(".block--latest .news-item__title a")]
    assert latest == [t for _, t, _ in sample_articles() if t != SEED_TITLE][:8]
    footer = home.select_one(".site-footer").get_text()
    assert "Đồng Xoài" in footer


def test_tag_page(sample_site):
    page = sample_site.soup("chu-de/dai-hoi/index.html")
    assert page.h1.get_text(strip=True) == "Chủ đề: đại hội"
    assert SEED_TITLE in [a.get_text(strip=True) for a in page.select(".news-item__title a")]


def test_feeds_and_sitemap(sample_site, published_site):
    feed = ET.fromstring(published_site.path("feeds/tat-ca.atom.xml").read_bytes())
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert SEED_TITLE in titles
    category_feed = ET.fromstring(published_site.path("feeds/xay-dung-dang.atom.xml").read_bytes())
    links = [l.get("href") for l in category_feed.iter(f"{ATOM}link")]
    assert any(h.endswith("/" + SEED) and h.startswith("https://") for h in links)
    sitemap = ET.fromstring(sample_site.path("sitemap.xml").read_bytes())
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = [u.findtext(f"{ns}loc") for u in sitemap.iter(f"{ns}url")]
    assert any(l.endswith("/" + SEED) for l in locs)
    assert any(l.endswith("/gioi-thieu.html") for l in locs)
    assert not any("/ban-nhap/" in l for l in locs)
    robots = sample_site.text("robots.txt")
    assert "Sitemap: https://" in robots and robots.strip().endswith("/sitemap.xml")


def test_static_pages(sample_site):
    about = sample_site.soup("gioi-thieu.html")
    assert about.h1.get_text(strip=True) == "Giới thiệu"
    contact = sample_site.soup("lien-he.html")
    assert contact.h1.get_text(strip=True) == "Liên hệ"


def test_no_external_resources(sample_site):
    """Nothing is loaded from outside the site (links to other sites are fine)."""
    for html in sample_site.output.rglob("*.html"):
        page = sample_site.soup(html.relative_to(sample_site.output))
        for tag, attr in (("script", "src"), ("img", "src"), ("link", "href"), ("source", "srcset"), ("iframe", "src")):
            for element in page.find_all(tag):
                value = element.get(attr)
                if not value or (tag == "link" and element.get("rel") in (["canonical"], ["alternate"])):
                    continue
                assert not re.match(r"^(https?:)?//", value), f"{html}: {tag} {value}"


def test_published_site_leaves_drafts_out(published_site, sample_site):
    draft = "cong-an-binh-long-day-manh-phong-trao-toan-dan-bao-ve-an-ninh-to-quoc.html"
    assert sample_site.exists(f"ban-nhap/{draft}")  # previewable in development
    assert not published_site.exists(f"ban-nhap/{draft}")
    assert not list(published_site.output.rglob(draft))
    home = published_site.soup("index.html")
    assert home.select_one("link[rel=stylesheet]")["href"].startswith("https://tuyengiao.binhphuoc.gov.vn/")


def test_every_page_shares_as_itself(sample_site):
    for path, title in [("gioi-thieu.html", "Giới thiệu"), ("xay-dung-dang/index.html", "Xây dựng Đảng"),
                        ("tin-moi/trang-2/index.html", "Tin mới — Trang 2")]:
        page = sample_site.soup(path)
        og = {m["property"]: m["content"] for m in page.select("meta[property^='og:']")}
        canonical = page.select_one("link[rel=canonical]")["href"]
        assert og["og:url"] == canonical != "https://tuyengiao.binhphuoc.gov.vn/"
        assert og["og:title"].startswith(title), (path, og["og:title"])
