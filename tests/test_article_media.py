"""Photos and attachments on the built pages (issue: articles with image metadata)."""

import io
import shutil

import pytest
from conftest import ARTICLE, build, run_pelican, write_article
from PIL import Image

HEADER = dict(ARTICLE, Summary="Lời dẫn của bài.", Image="lead.jpg", ImageCaption="Chú thích ảnh đại diện")
BODY = """Đoạn mở đầu.

![Đại biểu biểu quyết](body.jpg "Các đại biểu biểu quyết thông qua nghị quyết")

Đoạn giữa.

![Ảnh một](g1.jpg "Chú thích một")

![Ảnh hai](small.png "Chú thích hai")

Đoạn cuối.
"""
PAGE = "xay-dung-dang/dai-hoi-dang-bo-xa-dong-tien.html"


def photo(path, size=(1600, 1067), mode="RGB", gps=False, orientation=None):
    image = Image.new(mode, size, (30, 120, 200) if mode == "RGB" else None)
    exif = Image.Exif()
    if gps:
        exif[0x8825] = {1: "N", 2: (11.0, 32.0, 10.0), 3: "E", 4: (106.0, 53.0, 2.0)}
    if orientation:
        exif[0x0112] = orientation
    image.save(path, exif=exif.tobytes()) if path.suffix == ".jpg" else image.save(path)


@pytest.fixture
def media_site(tiny_content):
    article = write_article(tiny_content / "articles", "dai-hoi-dang-bo-xa-dong-tien", dict(
        HEADER, Attachments="\n    ke-hoach.pdf | Kế hoạch tổ chức đại hội\n    bao-cao.docx",
        Gallery="\n    g2.jpg | Ảnh bộ sưu tập"), BODY)
    folder = article.parent
    photo(folder / "lead.jpg", gps=True)
    photo(folder / "body.jpg", size=(2000, 1333), orientation=6)
    photo(folder / "g1.jpg")
    photo(folder / "g2.jpg")
    photo(folder / "small.png", size=(600, 400))
    (folder / "ke-hoach.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * (1258291 - 9))
    (folder / "bao-cao.docx").write_bytes(b"PK" + b"0" * 870 * 1024)
    return tiny_content


def test_figures_pictures_and_lazy_loading(media_site, tmp_path):
    site = build(media_site, tmp_path)
    page = site.soup(PAGE)
    figures = page.select(".article figure")
    assert [f.figcaption.get_text() for f in figures] == [
        "Chú thích ảnh đại diện", "Các đại biểu biểu quyết thông qua nghị quyết",
        "Chú thích một", "Chú thích hai", "Ảnh bộ sưu tập"]
    # a run of captioned photos is one gallery; the Gallery key makes another
    galleries = page.select(".article .gallery")
    assert [len(g.select("figure")) for g in galleries] == [2, 1]
    lead, body = figures[0].img, figures[1].img
    assert not lead.has_attr("loading") and lead["fetchpriority"] == "high"
    assert all(f.img["loading"] == "lazy" for f in figures[1:])
    source = figures[1].select_one("source[type='image/webp']")
    widths = [part.split(" ")[1] for part in source["srcset"].split(", ")]
    assert widths == ["480w", "800w", "1200w"]
    assert source["sizes"] == body["sizes"] and "100vw" in body["sizes"]
    assert [p.split(" ")[1] for p in body["srcset"].split(", ")] == widths
    # EXIF orientation 6: the 2000x1333 photo is upright, portrait
    assert (body["width"], body["height"]) == ("1200", "1800")
    assert Image.open(site.path(body["src"].lstrip("/"))).size[1] > Image.open(site.path(body["src"].lstrip("/"))).size[0]
    # never upscaled: the 600 px photo has no 800 or 1200 rendition
    small = figures[3].img
    assert all(int(p.split(" ")[1][:-1]) <= 600 for p in small["srcset"].split(", "))
    for figure in figures:
        for candidate in figure.select("source, img"):
            for part in candidate["srcset"].split(", "):
                assert site.exists(part.split(" ")[0].lstrip("/"))


def test_published_photos_carry_no_metadata_and_originals_stay_private(media_site, tmp_path):
    site = build(media_site, tmp_path)
    published = list((site.output / "anh").iterdir())
    assert published
    for path in published:
        data = path.read_bytes()
        assert b"Exif" not in data and b"GPS" not in data and b"http://ns.adobe.com/xap" not in data
        assert not Image.open(io.BytesIO(data)).getexif()
    names = {p.name for p in site.output.rglob("*")}
    assert not {"lead.jpg", "body.jpg", "g1.jpg", "small.png"} & names


def test_thumbnails_on_list_pages(media_site, tmp_path):
    site = build(media_site, tmp_path)
    item = site.soup("xay-dung-dang/index.html").select_one(".news-item__photo img")
    assert (item["width"], item["height"]) == ("360", "240")
    assert Image.open(site.path(item["src"].lstrip("/"))).size == (360, 240)


def test_attachments_listed_with_type_and_size(media_site, tmp_path):
    site = build(media_site, tmp_path)
    section = site.soup(PAGE).select_one(".attachments")
    assert section.h2.get_text() == "File đính kèm:"
    items = section.select("li")
    assert [" ".join(li.get_text(" ", strip=True).split()) for li in items] == [
        "Kế hoạch tổ chức đại hội (PDF, 1,2 MB)", "bao-cao.docx (Word, 870 KB)"]
    link = items[0].a
    assert link.has_attr("download")
    assert site.path(link["href"].lstrip("/")).read_bytes().startswith(b"%PDF-1.4")


def test_broken_photo_stops_only_its_article(media_site, tmp_path):
    other = write_article(media_site / "articles", "bai-khac", dict(
        HEADER, Title="Bài khác", Image="hong.jpg"), "Nội dung.\n")
    good = io.BytesIO()
    Image.new("RGB", (1600, 1000), "red").save(good, "JPEG")
    (other.parent / "hong.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    site = build(media_site, tmp_path)
    assert site.exists(PAGE)
    assert not site.exists("xay-dung-dang/bai-khac.html")
    assert "articles/bai-khac/index.md:6: cảnh báo: ảnh 'hong.jpg'" in site.log
    assert "truncated" in site.log
    result = run_pelican(media_site, tmp_path / "strict", settings="publishconf.py", fatal="warnings")
    assert result.returncode != 0
    assert not (tmp_path / "strict" / "index.html").exists()


def test_decompression_bomb_is_refused(media_site, tmp_path):
    other = write_article(media_site / "articles", "bom", dict(HEADER, Title="Bom", Image="bom.png"), "x\n")
    Image.new("1", (12000, 12000)).save(other.parent / "bom.png")  # 144 Mpx, a few KB on disk
    site = build(media_site, tmp_path)
    assert not site.exists("xay-dung-dang/bom.html")
    assert "articles/bom/index.md:6: cảnh báo: ảnh 'bom.png'" in site.log


def test_second_build_processes_no_photo(media_site, tmp_path):
    build(media_site, tmp_path / "a")
    cache = tmp_path / "a" / "cache" / "photos"
    manifest = (cache / "manifest.json").read_text()
    files = sorted(p.name for p in (cache / "files").iterdir())
    mtimes = {p.name: p.stat().st_mtime_ns for p in (cache / "files").iterdir()}
    result = run_pelican(media_site, tmp_path / "a" / "output", cache=tmp_path / "a" / "cache")
    assert result.returncode == 0
    assert (cache / "manifest.json").read_text() == manifest
    assert {p.name: p.stat().st_mtime_ns for p in (cache / "files").iterdir()} == mtimes
    assert sorted(p.name for p in (cache / "files").iterdir()) == files


def test_stale_content_cache_is_dropped_when_rendering_changes(tmp_path):
    from article_media import drop_stale_content_cache

    cache = tmp_path / "cache"
    cache.mkdir()
    for name in ("ArticlesGenerator-Readers", "PagesGenerator-Readers"):
        (cache / name).write_bytes(b"old rendering")
    (cache / "photos").mkdir()
    assert drop_stale_content_cache(str(cache), "v1") is True
    assert sorted(p.name for p in cache.iterdir()) == ["photos", "render-stamp"]
    (cache / "ArticlesGenerator-Readers").write_bytes(b"rendering v1")
    assert drop_stale_content_cache(str(cache), "v1") is False
    assert (cache / "ArticlesGenerator-Readers").exists()
    assert drop_stale_content_cache(str(cache), "v2") is True
    assert not (cache / "ArticlesGenerator-Readers").exists() and (cache / "photos").is_dir()
