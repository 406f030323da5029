"""What readers get (issue 9, part F): hidden articles are published but
never listed; titles reach every output as the text staff wrote; attachment
URLs are percent-encoded and served; no symlinked attachment is copied."""

import json
import logging
import os
import re
import shutil
import unicodedata
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from bs4 import BeautifulSoup

from portal.settings import fill_defaults
from conftest import ROOT, build, new_content, run_pelican, write_article
from test_search import read_fragments

ATOM = "{http://www.w3.org/2005/Atom}"
SITENAME = "Ban Tuyên giáo Tỉnh ủy Bình Phước"


def header(title, date, **extra):
    return dict({"Title": title, "Date": date, "Category": "Xây dựng Đảng",
                 "Summary": f"Tóm tắt: {title}"}, **extra)


def atom(site, relative):
    return ET.fromstring(site.text(relative))


def links_of(soup):
    return {a.get("href", "") for a in soup.find_all("a")}


def all_output_text(site):
    """Every text file of the built site (HTML, XML, JSON, txt)."""
    for path in site.output.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".xml", ".json", ".txt"}:
            yield path, path.read_text(encoding="utf-8", errors="replace")


# --- 1. Status: hidden ---------------------------------------------------------

HIDDEN_TITLE = "Thông báo nội bộ chỉ gửi qua đường liên kết"
HIDDEN_URL = "xay-dung-dang/thong-bao-noi-bo-chi-gui-qua-duong-lien-ket.html"
ALONE_URL = "van-hoa-xa-hoi/bai-an-trong-chuyen-muc-vang.html"
PUBLIC_URLS = ["xay-dung-dang/bai-cong-khai-mot.html", "xay-dung-dang/bai-cong-khai-hai.html"]


@pytest.fixture(scope="module")
def hidden_site(tmp_path_factory):
    work = tmp_path_factory.mktemp("hidden")
    content = new_content(work / "content")
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")  # make publish needs them
    articles = content / "articles"
    # each folder is named as the address the tests read (an address is its folder's name)
    write_article(articles, "bai-cong-khai-mot", header("Bài công khai một", "2020-03-01 08:00", Tags="chung"),
                  f"Xem thêm [thông báo]({{filename}}../thong-bao-noi-bo-chi-gui-qua-duong-lien-ket/index.md).\n")
    write_article(articles, "bai-cong-khai-hai", header("Bài công khai hai", "2020-03-02 08:00", Tags="chung"))
    # The newest, marked Featured and sharing a tag: still never listed.
    write_article(articles, "thong-bao-noi-bo-chi-gui-qua-duong-lien-ket", header(HIDDEN_TITLE, "2020-03-05 08:00", Status="hidden",
                                         Featured="true", Tags="chung, chỉ bài ẩn"),
                  "Nội dung riêng của bài ẩn: từ khóa độc nhất quyvutraogiai.\n")
    # The only article of its category: no category page, no menu entry.
    write_article(articles, "bai-an-trong-chuyen-muc-vang", dict(header("Bài ẩn trong chuyên mục vắng", "2020-03-06 08:00",
                                                Status="hidden"), Category="Văn hóa - Xã hội"))
    (content / "pages" / "trang-an.md").write_text(
        "Title: Trang ẩn\nStatus: hidden\n\nNội dung trang ẩn quyvutraogiai.\n", encoding="utf-8")
    return build(content, work)


def test_hidden_article_is_published_and_linkable(hidden_site):
    page = hidden_site.soup(HIDDEN_URL)
    assert page.select_one("h1.article__title").get_text() == HIDDEN_TITLE
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    # another article may link to it
    assert f"/{HIDDEN_URL}" in links_of(hidden_site.soup(PUBLIC_URLS[0]))
    # its own "Các tin khác" lists the published articles of its category
    related = [a["href"] for a in page.select(".related a")]
    assert related == [f"/{PUBLIC_URLS[1]}", f"/{PUBLIC_URLS[0]}"]
    # links only to pages that exist: the shared tag yes, its own tag no
    tags = page.select_one(".article__tags")
    assert [a.get_text() for a in tags.select("a")] == ["chung"]
    assert tags.get_text(" ", strip=True) == "Chủ đề: chung , chỉ bài ẩn"
    assert not hidden_site.exists("chu-de/chi-bai-an/index.html")
    alone = hidden_site.soup(ALONE_URL)
    assert alone.select_one(".breadcrumb").get_text(" ", strip=True) == "Trang chủ › Văn hóa - Xã hội"
    assert not hidden_site.exists("van-hoa-xa-hoi/index.html")
    assert hidden_site.soup("trang-an.html").find("meta", attrs={"name": "robots"})["content"] == "noindex"


def test_published_pages_ask_to_be_indexed(hidden_site):
    for url in PUBLIC_URLS + ["index.html"]:
        assert hidden_site.soup(url).find("meta", attrs={"name": "robots"}) is None, url


def test_hidden_article_is_never_listed(hidden_site):
    hidden = {f"/{HIDDEN_URL}", f"/{ALONE_URL}", "/trang-an.html"}
    listings = ["index.html", "tin-moi/index.html", "xay-dung-dang/index.html",
                "chu-de/chung/index.html", "404.html", "tim-kiem/index.html"] + PUBLIC_URLS
    for url in listings:
        soup = hidden_site.soup(url)
        for body in soup.select(".article__body"):
            body.decompose()  # where staff may link to it
        assert not hidden & links_of(soup), url
        assert HIDDEN_TITLE not in soup.get_text(), url
    home = hidden_site.soup("index.html")
    # Featured: true on a hidden article features nothing of it
    assert home.select_one(".featured__title a")["href"] == f"/{PUBLIC_URLS[1]}"
    menu = [a.get_text() for a in home.select(".main-menu a")]
    assert "Văn hóa - Xã hội" not in menu and "Trang ẩn" not in menu
    assert [o.get_text() for o in hidden_site.soup("tim-kiem/index.html").select("#loc-chuyen-muc option")] == [
        "Tất cả chuyên mục", "Xây dựng Đảng"]


def test_hidden_article_is_in_no_feed_and_not_in_the_sitemap(hidden_site):
    feeds = sorted(p.name for p in hidden_site.path("feeds").glob("*.atom.xml"))
    assert feeds == ["tat-ca.atom.xml", "xay-dung-dang.atom.xml"]
    for name in feeds:
        titles = [e.findtext(f"{ATOM}title") for e in atom(hidden_site, f"feeds/{name}").iter(f"{ATOM}entry")]
        assert titles == ["Bài công khai hai", "Bài công khai một"], name
    locs = re.findall(r"<loc>([^<]+)</loc>", hidden_site.text("sitemap.xml"))
    paths = {urlparse(loc).path for loc in locs}
    assert paths == {"/", "/xay-dung-dang/", "/" + PUBLIC_URLS[0], "/" + PUBLIC_URLS[1]}


def test_hidden_article_is_not_searchable(hidden_site):
    urls = {f["url"] for f in read_fragments(hidden_site)}
    assert urls == {"/" + u for u in PUBLIC_URLS}
    for url in (HIDDEN_URL, ALONE_URL, "trang-an.html"):
        html = hidden_site.text(url)
        assert "data-pagefind-body" not in html and "data-pagefind-meta" not in html
        assert "data-pagefind-filter" not in html
    words = json.dumps([f["content"] for f in read_fragments(hidden_site)])
    assert "quyvutraogiai" not in words


def test_make_publish_publishes_hidden_articles_unlisted(hidden_site, tmp_path):
    """The strict build (make publish) writes the hidden page too, at its
    public address, and lists it nowhere."""
    content = hidden_site.output.parent / "content"
    site = build(content, tmp_path, settings="publishconf.py", fatal="warnings")
    page = site.soup(HIDDEN_URL)
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert page.find("link", rel="canonical")["href"] == f"https://tuyengiao.binhphuoc.gov.vn/{HIDDEN_URL}"
    for url in ("index.html", "tin-moi/index.html", "xay-dung-dang/index.html", "sitemap.xml"):
        assert HIDDEN_URL not in site.text(url), url
    for url in ("feeds/tat-ca.atom.xml", "feeds/xay-dung-dang.atom.xml"):
        links = [e.find(f"{ATOM}link").get("href") for e in atom(site, url).iter(f"{ATOM}entry")]
        assert links == [f"https://tuyengiao.binhphuoc.gov.vn/{u}" for u in reversed(PUBLIC_URLS)], url
    assert {f["url"] for f in read_fragments(site)} == {"/" + u for u in PUBLIC_URLS}


# --- 2. Titles are text ------------------------------------------------------------

TITLE = "Giá x<y và y>z & \"Q\" 'R'"
TITLE_D = "Đất x<y & \"Đ\" 'đ'"
TAG = "thuế <b> & \"giá\""
AUTHOR = "H. Sơn <i>&amp;</i>"
TITLE_URL = "xay-dung-dang/gia-xz-q-r.html"  # the folder's name, as Pelican's slugify makes it from the title
TITLE_D_URL = "xay-dung-dang/dat-xy-d-d.html"


@pytest.fixture(scope="module")
def title_site(tmp_path_factory):
    work = tmp_path_factory.mktemp("titles")
    content = new_content(work / "content")
    articles = content / "articles"
    write_article(articles, "gia-xz-q-r", dict(header(TITLE, "2020-04-02 08:00"), Tags=TAG, Author=AUTHOR,
                                        Summary="So sánh x < y và y > z & \"Q\" — *giá* 'R'"))
    write_article(articles, "dat-xy-d-d", header(TITLE_D, "2020-04-01 08:00"))
    write_article(articles, "bai-khac", header("Bài khác", "2020-03-01 08:00"))
    return build(content, work)


def test_title_in_head_and_page(title_site):
    page = title_site.soup(TITLE_URL)
    assert page.title.get_text() == f"{TITLE} — {SITENAME}"
    assert page.find("meta", property="og:title")["content"] == TITLE
    assert page.select_one("h1.article__title").get_text() == TITLE
    summary = "So sánh x < y và y > z & \"Q\" — giá 'R'"
    assert page.find("meta", attrs={"name": "description"})["content"] == summary
    assert page.find("meta", property="og:description")["content"] == summary
    assert page.find("meta", property="article:section")["content"] == "Xây dựng Đảng"
    assert page.select_one(".article__byline").get_text() == AUTHOR
    assert [a.get_text() for a in page.select(".article__tags a")] == [TAG]
    mail = urlparse(page.select_one(".comments a.button")["href"])
    assert parse_qs(mail.query)["subject"] == [f"Ý kiến về bài: {TITLE}"]
    # escaped as HTML wants it, not stripped and not escaped twice
    raw = title_site.text(TITLE_URL)
    assert "<title>Giá x&lt;y và y&gt;z &amp; &#34;Q&#34; &#39;R&#39; — " in raw
    # the author typed "&amp;" literally: readers see those five characters
    assert '<p class="article__byline">H. Sơn &lt;i&gt;&amp;amp;&lt;/i&gt;</p>' in raw


def test_title_in_every_list(title_site):
    href = f"/{TITLE_URL}"
    home = title_site.soup("index.html")
    assert home.select_one(".featured__title a").get_text() == TITLE
    assert home.select_one(".featured__summary").get_text() == "So sánh x < y và y > z & \"Q\" — giá 'R'"
    for url in ("tin-moi/index.html", "xay-dung-dang/index.html", "chu-de/thue-gia/index.html"):
        soup = title_site.soup(url)
        titles = {a["href"]: a.get_text() for a in soup.select(".news-item__title a")}
        assert titles[href] == TITLE, url
        item = soup.find("a", href=href).find_parent(class_="news-item")
        assert item.select_one(".news-item__summary").get_text() == "So sánh x < y và y > z & \"Q\" — giá 'R'"
    related = {a["href"]: a.get_text() for a in title_site.soup("xay-dung-dang/bai-khac.html").select(".related a")}
    assert related[href] == TITLE and related[f"/{TITLE_D_URL}"] == TITLE_D
    assert title_site.soup("chu-de/thue-gia/index.html").title.get_text() == f"Chủ đề: {TAG} — {SITENAME}"


def test_title_in_feeds(title_site):
    for name in ("feeds/tat-ca.atom.xml", "feeds/xay-dung-dang.atom.xml"):
        feed = atom(title_site, name)
        titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
        assert titles == [TITLE, TITLE_D, "Bài khác"], name
        entry = next(feed.iter(f"{ATOM}entry"))
        assert [c.get("term") for c in entry.iter(f"{ATOM}category")] == ["Xây dựng Đảng", TAG]
        assert entry.find(f"{ATOM}author").findtext(f"{ATOM}name") == AUTHOR
    assert atom(title_site, "feeds/xay-dung-dang.atom.xml").findtext(f"{ATOM}title") == f"{SITENAME} - Xây dựng Đảng"


def test_title_in_search_index(title_site):
    titles = {f["url"]: f["meta"]["title"] for f in read_fragments(title_site)}
    assert titles[f"/{TITLE_URL}"] == TITLE and titles[f"/{TITLE_D_URL}"] == TITLE_D
    meta = title_site.soup(TITLE_D_URL).find("meta", attrs={"data-pagefind-meta": "fold_title[content]"})
    assert meta["content"] == "Dất x<y & \"D\" 'd'"
    filters = {m["data-pagefind-filter"]: m["content"] for m in
               title_site.soup(TITLE_URL).find_all("meta", attrs={"data-pagefind-filter": True})}
    assert filters["category[content]"] == "Xây dựng Đảng"


def test_plain_text_keeps_text_and_drops_markup():
    from portal.html_text import html_to_text, plain_title

    assert html_to_text("<p>x &lt; y và y &gt; z &amp; &quot;Q&quot;</p>") == 'x < y và y > z & "Q"'
    # a ">" inside an attribute value is not the end of the tag
    assert html_to_text('<p><abbr title="a>b">UBND</abbr> tỉnh</p>') == "UBND tỉnh"
    assert html_to_text("<p>a</p><p>b</p><ul><li>c</li></ul>d<br>e") == "a b c d e"
    assert html_to_text("<b>Đ</b>ại <!-- ghi chú --> hội") == "Đại hội"
    assert html_to_text("<script>alert(1)</script><style>p{}</style>chữ") == "chữ"
    assert html_to_text(None) == "" and html_to_text("") == ""
    assert html_to_text("<p>unclosed <a href='x") == "unclosed"
    assert plain_title("Giá x<y\n và  y>z &amp;") == "Giá x<y và y>z &amp;"


# --- 3. Attachment URLs -------------------------------------------------------------

ATTACHMENTS = {
    "Kế hoạch #2.pdf": b"%PDF-1.4 hash\n",
    "bao cao?.docx": b"PK question\n",
    "100% đúng.xlsx": b"PK percent\n",
    "a+b&c=d;e.pdf": b"%PDF-1.4 reserved\n",
}
NFD_NAME = "Quyết định số 5.pdf"  # named NFC in the article, stored NFD on disk


@pytest.fixture(scope="module")
def attachment_site(tmp_path_factory):
    work = tmp_path_factory.mktemp("attachments")
    content = new_content(work / "content")
    names = list(ATTACHMENTS) + [NFD_NAME]
    listing = "".join(f"\n    {name} | Tệp “{i}” <b> & 'x'" for i, name in enumerate(names))
    article = write_article(content / "articles", "bai-co-tep-dinh-kem", dict(
        header("Bài có tệp đính kèm", "2020-05-01 08:00"), Attachments=listing))
    for name, data in ATTACHMENTS.items():
        (article.parent / name).write_bytes(data)
    (article.parent / unicodedata.normalize("NFD", NFD_NAME)).write_bytes(b"%PDF-1.4 nfd\n")
    return build(content, work)


def test_attachment_urls_are_encoded_and_served(attachment_site):
    from browser import serve

    page = attachment_site.soup("xay-dung-dang/bai-co-tep-dinh-kem.html")
    links = page.select(".attachments a")
    expected = dict(ATTACHMENTS, **{NFD_NAME: b"%PDF-1.4 nfd\n"})
    assert [a.get_text() for a in links] == [f"Tệp “{i}” <b> & 'x'" for i in range(len(expected))]
    with serve(attachment_site.output) as base:
        for link, (name, data) in zip(links, expected.items()):
            href = link["href"]
            # nothing in the path a server or browser would cut or decode
            assert re.fullmatch(r"[A-Za-z0-9/_.~%-]+", href), href
            assert unquote(href) == f"/tai-lieu/xay-dung-dang/bai-co-tep-dinh-kem/{name}"
            with urllib.request.urlopen(base + href) as response:
                assert response.status == 200 and response.read() == data, name
    saved = {p.name for p in attachment_site.path("tai-lieu/xay-dung-dang/bai-co-tep-dinh-kem").iterdir()}
    assert saved == set(expected) and all(unicodedata.is_normalized("NFC", n) for n in saved)


def test_two_attachments_with_one_name_are_not_both_published(tmp_path, caplog):
    import article_media
    from pelican.contents import Article

    folder = tmp_path / "content" / "articles" / "a"
    (folder / "tep").mkdir(parents=True)
    source = folder / "index.md"
    source.write_text("Title: A\nAttachments: a.pdf | Một\n    tep/a.pdf | Hai\n\nx\n", encoding="utf-8")
    (folder / "a.pdf").write_bytes(b"%PDF one")
    (folder / "tep" / "a.pdf").write_bytes(b"%PDF two")
    instance = Article.__new__(Article)
    instance.settings = fill_defaults({"PATH": str(tmp_path / "content"), "SITEURL": ""})
    instance.source_path, instance.slug, instance.override_save_as = str(source), "a", "a.html"
    instance.metadata = {"attachments": ["a.pdf | Một", "tep/a.pdf | Hai"]}
    with caplog.at_level(logging.WARNING):
        article_media._attachments(instance)
    assert [i["title"] for i in instance.attachments_list] == ["Một"]
    assert [r.getMessage() for r in caplog.records] == [
        f"{os.path.relpath(source)}:3: cảnh báo: Attachments: tệp 'tep/a.pdf' trùng tên với một tệp "
        "đính kèm khác của bài — hãy đổi tên một trong hai tệp (another attachment of this article "
        "has the same file name)"]


def test_one_attachment_address_is_never_written_twice(tmp_path):
    """Two articles with one Slug (two categories): each has its own
    tai-lieu/<category>/<slug>/, so neither file is written over the other."""
    content = new_content(tmp_path / "content")
    for folder, category, date, data in (("moi", "Xây dựng Đảng", "2020-05-02 08:00", b"%PDF new"),
                                         ("cu", "Văn hóa - Xã hội", "2020-05-01 08:00", b"%PDF old")):
        article = write_article(content / "articles", folder, dict(
            header(f"Bài {folder}", date), Category=category, Slug="trung", Attachments="ke-hoach.pdf"))
        (article.parent / "ke-hoach.pdf").write_bytes(data)
    result = run_pelican(content, tmp_path / "output")
    assert "Traceback" not in result.stdout
    if result.returncode != 0:  # a content check that refuses the shared slug is as good
        assert "trung" in result.stdout and not (tmp_path / "output").exists()
        return
    assert (tmp_path / "output/tai-lieu/xay-dung-dang/trung/ke-hoach.pdf").read_bytes() == b"%PDF new"
    assert (tmp_path / "output/tai-lieu/van-hoa-xa-hoi/trung/ke-hoach.pdf").read_bytes() == b"%PDF old"
    assert "trùng địa chỉ" not in result.stdout


def test_url_path_and_target():
    from article_media import AttachmentRefused, attachment_target, url_path

    assert url_path("tai-lieu/s/Kế hoạch #2?.pdf") == "tai-lieu/s/K%E1%BA%BF%20ho%E1%BA%A1ch%20%232%3F.pdf"
    assert url_path("tai-lieu/s/100%.pdf") == "tai-lieu/s/100%25.pdf"
    nfd = unicodedata.normalize("NFD", "Quyết.pdf")
    assert attachment_target("tai-lieu", "s", f"articles/s/{nfd}") == "tai-lieu/s/Quyết.pdf"
    for slug in ("..", "", "a/../..", "."):
        with pytest.raises(AttachmentRefused, match="không hợp lệ"):
            attachment_target("tai-lieu", slug, "x.pdf")


# --- 4. Symlinked attachments -------------------------------------------------------

SECRET = b"root:x:0:0:secret-of-the-host\n"
SYMLINK_MESSAGE = (
    "Attachments: tệp 'bi-mat.pdf' là liên kết (symlink) trỏ ra ngoài thư mục content/ nên không "
    "được đăng — hãy chép chính tệp vào thư mục bài viết (the file leaves content/ through a "
    "symlink; not published)"
)


def test_checked_source_refuses_what_leaves_content(tmp_path):
    from article_media import AttachmentRefused, checked_source

    content = tmp_path / "content"
    (content / "a").mkdir(parents=True)
    (tmp_path / "secret.pdf").write_bytes(SECRET)
    (content / "a" / "ok.pdf").write_bytes(b"%PDF")
    (content / "a" / "bi-mat.pdf").symlink_to(tmp_path / "secret.pdf")
    (content / "a" / "trong.pdf").symlink_to(content / "a" / "ok.pdf")  # stays inside: fine
    (content / "thu-muc").symlink_to(tmp_path)
    assert checked_source(str(content), str(content / "a" / "ok.pdf"))
    assert checked_source(str(content), str(content / "a" / "trong.pdf"))
    with pytest.raises(AttachmentRefused) as refused:
        checked_source(str(content), str(content / "a" / "bi-mat.pdf"))
    assert SYMLINK_MESSAGE.endswith(str(refused.value))
    with pytest.raises(AttachmentRefused):
        checked_source(str(content), str(content / "thu-muc" / "secret.pdf"))


def test_publish_never_copies_a_file_that_left_content(tmp_path, caplog):
    """Checked again at copy time: a file swapped for a symlink after the
    article was read is still refused."""
    import article_media

    content = tmp_path / "content"
    folder = content / "articles" / "a"
    folder.mkdir(parents=True)
    (tmp_path / "secret.pdf").write_bytes(SECRET)
    (folder / "bi-mat.pdf").symlink_to(tmp_path / "secret.pdf")
    output = tmp_path / "output"
    generator = SimpleNamespace(settings={"PATH": str(content)}, output_path=str(output))
    item = {"source": str(folder / "bi-mat.pdf"), "target": "tai-lieu/a/bi-mat.pdf"}
    article = SimpleNamespace(attachments_list=[item], source_path=str(folder / "index.md"))
    with caplog.at_level(logging.WARNING):
        article_media._publish(generator, article)
    assert not output.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"{os.path.relpath(folder / 'index.md')}:1: cảnh báo: {SYMLINK_MESSAGE}"]


@pytest.mark.parametrize("listed, link, named", [
    ("bi-mat.pdf", "bi-mat.pdf", "bi-mat.pdf"),            # the file is a symlink
    ("thu-muc/bi-mat.pdf", "thu-muc", "thu-muc"),          # a folder on its way is
])
def test_symlinked_attachment_is_not_published(tmp_path, listed, link, named):
    content = new_content(tmp_path / "content")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "bi-mat.pdf").write_bytes(SECRET)
    article = write_article(content / "articles", "bi-mat", dict(
        header("Bài có tệp lạ", "2020-05-01 08:00"),
        Attachments=f"\n    that.pdf | Tệp thật\n    {listed} | Tệp lạ"))
    (article.parent / "that.pdf").write_bytes(b"%PDF-1.4 real\n")
    (article.parent / link).symlink_to(outside / link if link.endswith(".pdf") else outside)
    result = run_pelican(content, tmp_path / "output")
    assert "Traceback" not in result.stdout
    # the build stops: content_check names the listed file (with its
    # header line), the gate the folder symlink it would enter
    expected = {
        "bi-mat.pdf": ("articles/bi-mat/index.md:7: Attachments: đường dẫn 'bi-mat.pdf' không được phép — là "
                       "liên kết tượng trưng (symlink) trỏ ra ngoài thư mục content/, tới "),
        "thu-muc": "articles/bi-mat/thu-muc:1: là thư mục liên kết (symlink) trỏ ra ngoài content/, tới ",
    }[named]
    assert result.returncode == 1 and expected in result.stdout, result.stdout
    assert not (tmp_path / "output").exists()
    # make publish refuses it and leaves the last output as it was
    strict = tmp_path / "strict"
    strict.mkdir()
    (strict / "index.html").write_text("last good", encoding="utf-8")
    result = run_pelican(content, strict, settings="publishconf.py", fatal="warnings")
    assert result.returncode != 0 and "Traceback" not in result.stdout
    assert [p.name for p in strict.iterdir()] == ["index.html"]
    assert (strict / "index.html").read_text(encoding="utf-8") == "last good"


def test_listing_skips_a_symlinked_attachment(tmp_path):
    import article_media
    from pelican.contents import Article

    content = tmp_path / "content"
    folder = content / "articles" / "bi-mat"
    folder.mkdir(parents=True)
    source = folder / "index.md"
    source.write_text("Title: A\nAttachments:\n    that.pdf\n    bi-mat.pdf | Tệp lạ\n\nx\n", encoding="utf-8")
    (folder / "that.pdf").write_bytes(b"%PDF")
    (tmp_path / "secret.pdf").write_bytes(SECRET)
    (folder / "bi-mat.pdf").symlink_to(tmp_path / "secret.pdf")
    instance = Article.__new__(Article)
    instance.settings = fill_defaults({"PATH": str(content), "SITEURL": ""})
    instance.source_path = str(source)
    instance.slug, instance.override_save_as = "a", "a.html"
    instance.metadata = {"attachments": ["that.pdf", "bi-mat.pdf | Tệp lạ"]}
    article_media._attachments(instance)
    assert [i["target"] for i in instance.attachments_list] == ["tai-lieu/a/that.pdf"]


# --- 5. Addresses with characters a URL must encode --------------------------------

# Slugs are a-z, 0-9 and hyphens (make check), but the address patterns are
# settings another board may write freely; every link must still reach
# the file.
ODD_URL = "{category}/tin số 1#{slug}?%.html"
ODD_SAVED = "xay-dung-dang/tin số 1#bai-co-dia-chi-la?%.html"
ODD_HREF = "/xay-dung-dang/tin%20s%E1%BB%91%201%23bai-co-dia-chi-la%3F%25.html"


def odd_address_settings():
    return ("-e", f"ARTICLE_URL={json.dumps(ODD_URL)}", f"ARTICLE_SAVE_AS={json.dumps(ODD_URL)}")


@pytest.fixture(scope="module")
def odd_site(tmp_path_factory):
    work = tmp_path_factory.mktemp("odd-address")
    content = new_content(work / "content")
    write_article(content / "articles", "bai-co-dia-chi-la", header("Bài có địa chỉ lạ", "2020-06-02 08:00"))
    write_article(content / "articles", "bai-tro-toi", header("Bài trỏ tới", "2020-06-01 08:00"),
                  "Xem [bài kia]({filename}../bai-co-dia-chi-la/index.md).\n")
    return build(content, work, extra=odd_address_settings())


def test_odd_address_gives_encoded_links_that_are_served(odd_site):
    from browser import serve

    assert odd_site.exists(ODD_SAVED)
    pointing = odd_site.soup("xay-dung-dang/tin số 1#bai-tro-toi?%.html")
    assert pointing.select_one(".article__body a")["href"] == ODD_HREF
    assert ODD_HREF in {a["href"] for a in pointing.select(".related a")}
    assert ODD_HREF in {a["href"] for a in odd_site.soup("index.html").find_all("a")}
    page = odd_site.soup(ODD_SAVED)
    assert page.find("link", rel="canonical")["href"] == f"https://tuyengiao.binhphuoc.gov.vn{ODD_HREF}"
    entries = atom(odd_site, "feeds/tat-ca.atom.xml").iter(f"{ATOM}entry")
    assert ODD_HREF in {urlparse(e.find(f"{ATOM}link").get("href")).path for e in entries}
    assert f"<loc>https://tuyengiao.binhphuoc.gov.vn{ODD_HREF}</loc>" in odd_site.text("sitemap.xml")
    with serve(odd_site.output) as base:
        with urllib.request.urlopen(base + ODD_HREF) as response:
            assert BeautifulSoup(response.read(), "html.parser").h1.get_text() == "Bài có địa chỉ lạ"


def test_encode_url_once_and_only_when_needed():
    from news_blocks import encode_url

    class Content:
        url_setting = "xay-dung-dang/so 1#a?b%.html"

        @property
        def url(self):
            return getattr(self, "override_url", self.url_setting)

        @property
        def save_as(self):
            return getattr(self, "override_save_as", self.url_setting)

    odd = Content()
    encode_url(odd)
    encode_url(odd)  # a second generator pass must not encode "%" again
    assert odd.url == "xay-dung-dang/so%201%23a%3Fb%25.html"
    plain = Content()
    plain.url_setting = "xay-dung-dang/bai-viet.html"
    encode_url(plain)
    assert plain.url == "xay-dung-dang/bai-viet.html"
    # the file is still saved under the address as written; both are final now
    assert odd.save_as == "xay-dung-dang/so 1#a?b%.html" and odd.override_save_as == odd.save_as
