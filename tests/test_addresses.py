"""Addresses that never break (plugins/stable_addresses, portal.addresses).

An article's address is its folder's name (or its file's, or its Slug),
never its title; an address once published keeps answering, with a
redirect to where the article went; ``make check`` finds the same
addresses as the build. Also: two articles with one slug in two categories
keep their own attachments and photos, and a hidden article's photos are
published like any other's.
"""

import json
import os
import re
import shutil
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from conftest import ROOT, build, new_content, run_pelican, write_article
from content_check.__main__ import command_check, new_article, site_settings
from content_check.site import check_site, read_documents
from pelican.settings import read_settings
from portal.addresses import source_name, source_slug
from stable_addresses.ledger import LedgerError, Published, parse, plan, to_bytes

PUBLIC_URL = "https://tuyengiao.binhphuoc.gov.vn"
LEDGER = "data/so-dia-chi.json"
HEADER = {
    "Title": "Đại hội Đảng bộ xã Đồng Tiến",
    "Date": "2020-03-23 08:15",
    "Category": "Xây dựng Đảng",
    "Summary": "Đại hội thí điểm bầu trực tiếp Bí thư.",
}
OTHER = {"Title": "Hội nghị Ban Chấp hành", "Date": "2020-04-02 09:00", "Category": "Xây dựng Đảng"}


def ledger(content):
    return json.loads((content / LEDGER).read_text(encoding="utf-8"))["addresses"]


def registry(site):
    return json.loads((site.output.parent / "cache/outputs.json").read_text(encoding="utf-8"))["files"]


def assert_redirects(site, old, new, title):
    """``old`` is a small page sending readers and search engines to ``new``."""
    soup = site.soup(old)
    refresh = soup.find("meta", attrs={"http-equiv": "refresh"})
    assert refresh["content"] == f"0; url=/{new}"
    assert [a["href"] for a in soup.find_all("a")] == [f"/{new}"]
    assert soup.find("link", rel="canonical")["href"] == f"{PUBLIC_URL}/{new}"
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert soup.a.get_text() == title
    assert registry(site)[old]["kind"] == "redirect"
    assert registry(site)[new]["kind"] == "page"


def with_feeds(content):
    """The sample feeds: a strict build (make publish) needs them."""
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")
    return content


def rename(folder, name):
    target = folder.with_name(name)
    folder.rename(target)
    return target


# --- the slug of a source file ---------------------------------------------

def test_the_slug_comes_from_the_folder_the_file_or_the_slug_key():
    def slugify(text):
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")

    assert source_name("articles/xay-dung-dang/dai-hoi/index.md") == "dai-hoi"
    assert source_name("pages/lien-he.md") == "lien-he"
    assert source_name("articles/xay-dung-dang/ghi-chu.md") == "ghi-chu"
    assert source_slug("articles/x/dai-hoi/index.md", "", "Tiêu đề khác", slugify) == "dai-hoi"
    assert source_slug("articles/x/dai-hoi/index.md", "rieng", "Tiêu đề", slugify) == "rieng"
    assert source_slug("articles/x/Dai Hoi/index.md", None, "Tiêu đề", slugify) == "dai-hoi"
    assert source_slug("articles/x/!!!/index.md", None, "Tieu de", slugify) == "tieu-de"  # the title, last resort


# --- the build ----------------------------------------------------------------

def test_editing_the_title_keeps_the_address(tiny_content, tmp_path):
    folder = write_article(tiny_content / "articles" / "xay-dung-dang", "dai-hoi", HEADER).parent
    site = build(tiny_content, tmp_path)
    assert site.exists("xay-dung-dang/dai-hoi.html")
    assert not site.exists("xay-dung-dang/dai-hoi-dang-bo-xa-dong-tien.html")
    assert list(ledger(tiny_content)) == ["xay-dung-dang/dai-hoi.html"]
    before = (tiny_content / LEDGER).read_bytes()

    write_article(folder.parent, "dai-hoi", dict(HEADER, Title="Đại hội Đảng bộ xã Đồng Tiến (Đồng Phú)"))
    site = build(tiny_content, tmp_path)
    assert site.soup("xay-dung-dang/dai-hoi.html").h1.get_text() == "Đại hội Đảng bộ xã Đồng Tiến (Đồng Phú)"
    assert not [k for k, v in registry(site).items() if v["kind"] == "redirect"]
    assert (tiny_content / LEDGER).read_bytes() == before


def test_a_renamed_folder_redirects_and_a_second_rename_collapses_the_chain(tiny_content, tmp_path):
    folder = write_article(tiny_content / "articles" / "xay-dung-dang", "dai-hoi", HEADER).parent
    write_article(tiny_content / "articles" / "xay-dung-dang", "hoi-nghi", OTHER)
    build(tiny_content, tmp_path)

    folder = rename(folder, "dai-hoi-dong-tien")
    site = build(tiny_content, tmp_path)
    assert site.exists("xay-dung-dang/dai-hoi-dong-tien.html")
    assert_redirects(site, "xay-dung-dang/dai-hoi.html", "xay-dung-dang/dai-hoi-dong-tien.html", HEADER["Title"])
    assert registry(site)["xay-dung-dang/dai-hoi.html"]["source"].endswith("dai-hoi-dong-tien/index.md")
    assert registry(site)["xay-dung-dang/hoi-nghi.html"]["kind"] == "page"  # the other article is left alone
    assert "so-dia-chi.json" not in site.log

    rename(folder, "dai-hoi-xa-dong-tien")
    site = build(tiny_content, tmp_path)
    newest = "xay-dung-dang/dai-hoi-xa-dong-tien.html"
    for old in ("xay-dung-dang/dai-hoi.html", "xay-dung-dang/dai-hoi-dong-tien.html"):
        assert_redirects(site, old, newest, HEADER["Title"])  # straight to the newest: no chain
    entries = ledger(tiny_content)
    assert entries["xay-dung-dang/dai-hoi.html"]["to"] == newest
    assert entries[newest] == {"source": "articles/xay-dung-dang/dai-hoi-xa-dong-tien/index.md",
                               "date": "2020-03-23 08:15", "category": "xay-dung-dang"}

    before = (tiny_content / LEDGER).read_bytes()
    again = build(tiny_content, tmp_path)  # nothing changed: same redirects, same ledger
    assert_redirects(again, "xay-dung-dang/dai-hoi.html", newest, HEADER["Title"])
    assert (tiny_content / LEDGER).read_bytes() == before


def test_a_changed_slug_redirects_for_articles_and_pages(tiny_content, tmp_path):
    write_article(tiny_content / "articles" / "xay-dung-dang", "dai-hoi", dict(HEADER, Slug="dai-hoi-2020"))
    page = tiny_content / "pages" / "gioi-thieu.md"
    page.write_text("Title: Giới thiệu\n\nBan Tuyên giáo.\n", encoding="utf-8")
    site = build(tiny_content, tmp_path)
    assert site.exists("xay-dung-dang/dai-hoi-2020.html") and site.exists("gioi-thieu.html")

    # a new Slug, and a new Date in the same edit: the source file still tells
    write_article(tiny_content / "articles" / "xay-dung-dang", "dai-hoi",
                  dict(HEADER, Slug="dai-hoi-dong-tien", Date="2020-03-24 07:00"))
    page.write_text("Title: Giới thiệu\nSlug: gioi-thieu-ban\n\nBan Tuyên giáo.\n", encoding="utf-8")
    site = build(tiny_content, tmp_path)
    assert_redirects(site, "xay-dung-dang/dai-hoi-2020.html", "xay-dung-dang/dai-hoi-dong-tien.html",
                     HEADER["Title"])
    assert_redirects(site, "gioi-thieu.html", "gioi-thieu-ban.html", "Giới thiệu")


def test_a_deleted_article_is_named_in_a_warning_and_not_redirected(tiny_content, tmp_path):
    with_feeds(tiny_content)
    folder = write_article(tiny_content / "articles" / "xay-dung-dang", "dai-hoi", HEADER).parent
    write_article(tiny_content / "articles" / "xay-dung-dang", "hoi-nghi", OTHER)
    build(tiny_content, tmp_path)
    shutil.rmtree(folder)
    before = (tiny_content / LEDGER).read_bytes()

    # make publish: the warning is fatal; nothing is published or recorded
    strict = run_pelican(tiny_content, tmp_path / "output", cache=tmp_path / "cache", fatal="warnings")
    assert strict.returncode == 1, strict.stdout
    assert (tiny_content / LEDGER).read_bytes() == before
    assert (tmp_path / "output/xay-dung-dang/dai-hoi.html").exists()  # the last good site stays

    site = build(tiny_content, tmp_path)  # make html: warned, then 404
    [warning] = [line for line in site.log.splitlines() if "xay-dung-dang/dai-hoi.html" in line]
    assert re.search(r"data/so-dia-chi\.json:\d+: cảnh báo: địa chỉ xay-dung-dang/dai-hoi\.html đã được đăng "
                     r"\(bài articles/xay-dung-dang/dai-hoi/index\.md\) nhưng nay không bài nào có địa chỉ này",
                     warning), warning
    assert not site.exists("xay-dung-dang/dai-hoi.html")
    assert site.exists("xay-dung-dang/hoi-nghi.html")
    assert ledger(tiny_content)["xay-dung-dang/dai-hoi.html"]["gone"] is True

    site = build(tiny_content, tmp_path)  # said once: the next builds are quiet, make publish passes
    assert "dai-hoi.html" not in site.log
    strict = run_pelican(tiny_content, tmp_path / "output", cache=tmp_path / "cache", fatal="warnings")
    assert strict.returncode == 0, strict.stdout


def test_a_broken_ledger_stops_the_build_and_is_never_overwritten(tiny_content, tmp_path):
    write_article(tiny_content / "articles" / "xay-dung-dang", "dai-hoi", HEADER)
    (tiny_content / "data").mkdir()
    (tiny_content / LEDGER).write_text('{"version": 1, "addresses": {"../../etc/passwd": {"source": "x"}}}',
                                       encoding="utf-8")
    result = run_pelican(tiny_content, tmp_path / "output")
    assert result.returncode == 1
    assert "data/so-dia-chi.json:1: sổ địa chỉ không dùng được: địa chỉ '../../etc/passwd' không hợp lệ" \
           in result.stdout
    assert "etc/passwd" in (tiny_content / LEDGER).read_text(encoding="utf-8")
    assert not (tmp_path / "output").exists()


def test_make_check_reports_a_ledger_the_build_cannot_use(checked, tmp_path):
    content, settings = checked
    write_article(content / "articles" / "xay-dung-dang", "dai-hoi", HEADER)
    (content / "data").mkdir()
    (tmp_path / "ngoai.json").write_text('{"version": 1, "addresses": {}}', encoding="utf-8")
    (content / LEDGER).symlink_to(tmp_path / "ngoai.json")
    import io
    out = io.StringIO()
    assert command_check(settings, out) == 1
    assert out.getvalue().startswith("content/data/so-dia-chi.json:1: sổ địa chỉ không dùng được: là liên kết "
                                     "(symlink) trỏ ra ngoài thư mục content/")
    assert (content / LEDGER).is_symlink()


def test_the_sample_sites_old_title_addresses_redirect(sample_site):
    """Two sample articles had a title slug that differs from their folder;
    the ledger was seeded with the addresses their titles gave."""
    assert_redirects(
        sample_site, "tin-tuc-su-kien/bu-dang-ky-niem-90-nam-ngay-thanh-lap-dang-va-trao-huy-hieu-dang-dot-32.html",
        "tin-tuc-su-kien/bu-dang-ky-niem-90-nam-ngay-thanh-lap-dang-va-trao-huy-hieu-dang-dot-3-2.html",
        "Bù Đăng kỷ niệm 90 năm Ngày thành lập Đảng và trao Huy hiệu Đảng đợt 3/2")
    assert_redirects(
        sample_site, "van-hoa-xa-hoi/bao-ton-van-hoa-cong-chieng-cua-dong-bao-stieng-o-bu-dang.html",
        "van-hoa-xa-hoi/bao-ton-van-hoa-cong-chieng-cua-dong-bao-s-tieng-o-bu-dang.html",
        "Bảo tồn văn hóa cồng chiêng của đồng bào S'tiêng ở Bù Đăng")


# --- the ledger's rules, alone ---------------------------------------------

def test_plan_finds_the_one_successor_or_none():
    old = {"a/x.html": {"source": "articles/a/x/index.md", "date": "2020-01-01 08:00", "category": "a"},
           "a/y.html": {"source": "articles/a/y/index.md", "date": "2020-01-02 08:00", "category": "a"}}
    # two new articles with y's Date and category: which one is y cannot be told
    current = {"a/x2.html": Published("articles/a/x2/index.md", "2020-01-01 08:00", "a"),
               "a/y2.html": Published("articles/a/y2/index.md", "2020-01-02 08:00", "a"),
               "a/y3.html": Published("articles/a/y3/index.md", "2020-01-02 08:00", "a"),
               "b/x.html": Published("articles/b/x/index.md", "2020-01-01 08:00", "b")}
    result = plan(old, current)
    assert result.redirects == {"a/x.html": "a/x2.html"}
    assert result.lost == ["a/y.html"]
    assert result.entries["a/y.html"]["gone"] is True
    # an address already reported gone is not reported again
    assert plan(parse(to_bytes(result.entries)), current).lost == []


def test_plan_follows_a_folder_renamed_back_to_its_old_name():
    first = plan({}, {"a/x.html": Published("articles/a/x/index.md", "2020-01-01 08:00", "a")}).entries
    second = plan(first, {"a/y.html": Published("articles/a/y/index.md", "2020-01-01 08:00", "a")})
    assert second.redirects == {"a/x.html": "a/y.html"}
    third = plan(second.entries, {"a/x.html": Published("articles/a/x/index.md", "2020-01-01 08:00", "a")})
    assert third.redirects == {"a/y.html": "a/x.html"} and third.lost == []
    assert "to" not in third.entries["a/x.html"]


def test_the_ledger_refuses_what_it_cannot_trust():
    for document in ('{"version": 2, "addresses": {}}', '{"version": 1, "addresses": {"/x.html": {"source": "a"}}}',
                     '{"version": 1, "addresses": {"x.html": {"source": "a", "to": "../y.html"}}}', "[1",
                     '{"version": 1, "addresses": {"x.html": {}}}'):
        with pytest.raises(LedgerError):
            parse(document.encode())
    assert parse(to_bytes({"x/": {"source": "pages/x.md"}})) == {"x/": {"source": "pages/x.md"}}


# --- make check agrees with the build ---------------------------------------

@pytest.fixture
def checked(tmp_path, monkeypatch):
    content = with_feeds(new_content(tmp_path / "content"))  # make check reads the feeds too
    settings = site_settings(read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(content)}))
    monkeypatch.chdir(tmp_path)
    return content, settings


def test_make_check_finds_the_builds_addresses(checked, tmp_path):
    """One folder name in two categories is two addresses (ARTICLE_URL is
    ``{category}/{slug}.html``); make check finds exactly what the build writes."""
    content, settings = checked
    write_article(content / "articles" / "a", "trung-ten", dict(HEADER, Category="Tin tức - Sự kiện"))
    write_article(content / "articles" / "b", "trung-ten", HEADER)
    write_article(content / "articles" / "b", "rieng", dict(OTHER, Slug="hoi-nghi-bch"))
    (content / "pages" / "lien-he.md").write_text("Title: Liên hệ với Ban\n\nĐịa chỉ.\n", encoding="utf-8")
    assert [str(p) for p in check_site(settings)] == []
    urls = sorted(document.url for document in read_documents(settings))
    assert urls == ["lien-he.html", "tin-tuc-su-kien/trung-ten.html", "xay-dung-dang/hoi-nghi-bch.html",
                    "xay-dung-dang/trung-ten.html"]
    site = build(content, tmp_path / "site")
    assert sorted(k for k, v in registry(site).items() if v["kind"] == "page" and (v["source"] or "").endswith(".md")) \
        == urls
    assert sorted(ledger(content)) == urls


def test_one_folder_name_twice_in_one_category_is_an_error_in_check_and_build(checked, tmp_path):
    content, settings = checked
    write_article(content / "articles" / "a", "trung-ten", HEADER)
    write_article(content / "articles" / "b", "trung-ten", HEADER)
    [problem] = [str(p) for p in check_site(settings) if "trùng địa chỉ" in str(p)]
    assert problem == ("content/articles/b/trung-ten/index.md:1: trùng địa chỉ với content/articles/a/trung-ten/"
                       "index.md (xay-dung-dang/trung-ten.html): đổi tên thư mục của bài hoặc thêm khóa Slug "
                       "(duplicate address: rename the folder or add a Slug)")
    result = run_pelican(content, tmp_path / "site" / "output")
    assert result.returncode == 1 and "b/trung-ten/index.md:1: trùng địa chỉ với" in result.stdout


def test_make_check_and_make_article_never_write_the_ledger(checked):
    content, settings = checked
    write_article(content / "articles" / "xay-dung-dang", "dai-hoi", HEADER)
    import io
    assert command_check(settings, io.StringIO()) == 0
    # the folder is free in another category: the address there is another one
    path = new_article(settings, "Đại hội Đảng bộ xã Đồng Tiến", "Tin tức - Sự kiện")
    assert path == "content/articles/tin-tuc-su-kien/dai-hoi-dang-bo-xa-dong-tien/index.md"
    with pytest.raises(ValueError, match="slug already exists"):  # a second draft would share ban-nhap/
        new_article(settings, "Đại hội Đảng bộ xã Đồng Tiến", "Xây dựng Đảng")
    assert not (content / "data").exists()


# --- one slug in two categories: each keeps its own files --------------------

def test_one_slug_in_two_categories_keeps_its_own_attachments_and_photos(tiny_content, tmp_path):
    colours = {"a": (220, 20, 20), "b": (20, 20, 220)}
    categories = {"a": ("Tin tức - Sự kiện", "tin-tuc-su-kien"), "b": ("Xây dựng Đảng", "xay-dung-dang")}
    for key, (category, _) in categories.items():
        article = write_article(tiny_content / "articles" / key, "trung-ten", dict(
            HEADER, Category=category, Image="anh.jpg", ImageCaption=f"Ảnh {key}",
            Attachments="bao-cao.pdf | Báo cáo"), "Nội dung.\n")
        Image.new("RGB", (900, 600), colours[key]).save(article.parent / "anh.jpg")
        (article.parent / "bao-cao.pdf").write_bytes(f"%PDF-1.4 bao cao {key}\n%%EOF\n".encode())
    site = build(tiny_content, tmp_path)
    photos = {}
    for key, (_, slug) in categories.items():
        soup = site.soup(f"{slug}/trung-ten.html")
        [link] = soup.select('a[href$="bao-cao.pdf"]')
        assert link["href"] == f"/tai-lieu/{slug}/trung-ten/bao-cao.pdf"
        assert site.path(unquote(link["href"]).lstrip("/")).read_bytes() == \
            (tiny_content / "articles" / key / "trung-ten" / "bao-cao.pdf").read_bytes()
        lead = soup.select_one(".article picture img")
        with Image.open(site.path(lead["src"].lstrip("/"))) as photo:
            red, _green, blue = photo.convert("RGB").resize((1, 1)).getpixel((0, 0))
        assert (red > blue) == (key == "a"), (key, red, blue)
        photos[key] = {lead["src"]} | {part.split()[0] for source in soup.select(".article picture source")
                                       for part in source["srcset"].split(",")}
    assert not photos["a"] & photos["b"]


# --- a hidden article publishes its photos ----------------------------------

def page_references(soup):
    """Every address a page makes the browser load (src, srcset, og:image)."""
    found = [tag["src"] for tag in soup.find_all(src=True)]
    found += [part.split()[0] for tag in soup.find_all(srcset=True) for part in tag["srcset"].split(",")]
    found += [meta["content"] for meta in soup.find_all("meta", property="og:image")]
    return found


def test_a_hidden_article_gets_its_photos_processed(tiny_content, tmp_path):
    with_feeds(tiny_content)
    article = write_article(tiny_content / "articles" / "xay-dung-dang", "bai-an", dict(
        HEADER, Status="hidden", Image="anh-dai-dien.jpg", ImageCaption="Quang cảnh đại hội"),
        "Đoạn đầu.\n\n![Hội trường](hoi-truong.jpg \"Hội trường đại hội\")\n")
    write_article(tiny_content / "articles" / "xay-dung-dang", "hoi-nghi", OTHER)  # something to search
    Image.new("RGB", (1000, 700), (200, 30, 30)).save(article.parent / "anh-dai-dien.jpg")
    Image.new("RGB", (800, 600), (30, 30, 200)).save(article.parent / "hoi-truong.jpg")
    for settings, fatal in (("pelicanconf.py", "errors"), ("publishconf.py", "warnings")):
        shutil.rmtree(tmp_path / "site", ignore_errors=True)
        site = build(tiny_content, tmp_path / "site", settings=settings, fatal=fatal)
        soup = site.soup("xay-dung-dang/bai-an.html")
        body = soup.select_one(".article")
        assert len(body.select("picture")) == 2, body  # the lead photo and the body's
        assert all(img.parent.name == "picture" for img in body.find_all("img"))
        references = page_references(soup)
        assert any("/anh/" in url for url in references)
        for url in references:
            path = url.removeprefix(PUBLIC_URL).lstrip("/")
            assert site.exists(unquote(path.split("?")[0])), (settings, url)
        assert not [p for p in site.output.rglob("*") if p.name in ("anh-dai-dien.jpg", "hoi-truong.jpg")]
