"""Building small sites: NFC/NFD twins, broken headers, all-or-nothing output."""

import unicodedata

from conftest import build, run_pelican, write_article

HEADER = {
    "Title": "Đại hội Đảng bộ xã Đồng Tiến",
    "Date": "2020-03-23 08:15",
    "Category": "Xây dựng Đảng",
    "Tags": "Đảng bộ, đại hội",
    "Author": "H. Sơn",
    "Summary": "Đại hội Đảng bộ xã Đồng Tiến (Đồng Phú) thí điểm bầu trực tiếp Bí thư.",
}
BODY = "## Kết quả đại hội\n\nĐồng chí Bí thư Đảng ủy được bầu trực tiếp.\n"
FOLDER = "dai-hoi-dang-bo-xa-dong-tien"  # an article's address is its folder's name


def _nfd(mapping):
    return {k: unicodedata.normalize("NFD", v) for k, v in mapping.items()}


def test_nfd_article_builds_like_its_nfc_twin(tiny_content, tmp_path):
    write_article(tiny_content / "articles", FOLDER, HEADER, BODY)
    nfc_site = build(tiny_content, tmp_path / "nfc")
    nfd_content = tmp_path / "nfd-content"
    import shutil
    shutil.copytree(tiny_content, nfd_content)
    write_article(nfd_content / "articles", FOLDER, _nfd(HEADER), unicodedata.normalize("NFD", BODY))
    assert unicodedata.normalize("NFD", HEADER["Title"]) in (nfd_content / f"articles/{FOLDER}/index.md").read_text()
    nfd_site = build(nfd_content, tmp_path / "nfd")

    page = "xay-dung-dang/dai-hoi-dang-bo-xa-dong-tien.html"
    assert nfc_site.exists(page) and nfd_site.exists(page)
    a, b = nfc_site.soup(page), nfd_site.soup(page)
    assert b.h1.get_text() == "Đại hội Đảng bộ xã Đồng Tiến"
    assert a.select_one(".article").get_text() == b.select_one(".article").get_text()
    # tags and categories are one and the same, not NFC and NFD twins
    assert nfd_site.exists("chu-de/dang-bo/index.html")
    assert [t.get_text() for t in b.select(".article__tags a")] == ["Đảng bộ", "đại hội"]


def test_broken_header_fails_and_keeps_last_good_output(tiny_content, tmp_path):
    write_article(tiny_content / "articles", FOLDER, HEADER, BODY)
    good = build(tiny_content, tmp_path)
    page = "xay-dung-dang/dai-hoi-dang-bo-xa-dong-tien.html"
    before = good.text(page)

    broken = dict(HEADER)
    broken["Category"] = "Xây dựng Đảng\nTác giả H. Sơn"  # a header line with no colon
    path = write_article(tiny_content / "articles", "bai-loi", broken, BODY)
    result = run_pelican(tiny_content, good.output, cache=tmp_path / "cache")
    assert result.returncode != 0
    assert "articles/bai-loi/index.md:4:" in result.stdout
    assert "Key: value" in result.stdout
    # the last good build is still there, whole
    assert good.text(page) == before
    assert good.exists("index.html") and good.exists("sitemap.xml")
    # the staff's file is untouched
    assert "Tác giả H. Sơn" in path.read_text(encoding="utf-8")


def test_bad_date_names_file_and_line(tiny_content, tmp_path):
    bad = dict(HEADER, Date="23/03/2020 8h15")
    write_article(tiny_content / "articles", "bai", bad, BODY)
    result = run_pelican(tiny_content, tmp_path / "output")
    assert result.returncode != 0
    assert "articles/bai/index.md:2: Date:" in result.stdout
    assert not (tmp_path / "output" / "index.html").exists()


def test_preview_shows_a_broken_draft_only_as_a_draft(tiny_content, tmp_path):
    """Without --fatal (make devserver) a draft whose header breaks before
    `Status: draft` is previewed under /ban-nhap/, never published."""
    broken = dict(HEADER)
    broken["Author"] = "H. Sơn\nTác giả phụ P.V"  # no colon: the header ends here
    broken["Status"] = "draft"
    write_article(tiny_content / "articles", FOLDER, broken, BODY)
    result = run_pelican(tiny_content, tmp_path / "output", fatal=None)
    assert result.returncode == 0, result.stdout
    assert f"articles/{FOLDER}/index.md:6:" in result.stdout
    assert (tmp_path / "output" / "ban-nhap" / "dai-hoi-dang-bo-xa-dong-tien.html").exists()
    assert not (tmp_path / "output" / "xay-dung-dang" / "dai-hoi-dang-bo-xa-dong-tien.html").exists()


def test_make_publish_writes_no_draft_page(tiny_content, tmp_path):
    import shutil
    from conftest import ROOT
    shutil.copytree(ROOT / "content" / "feeds", tiny_content / "feeds")  # strict: widgets need them
    write_article(tiny_content / "articles", FOLDER, HEADER, BODY)
    (tiny_content / "pages" / "nhap.md").write_text(
        "Title: Trang nháp\nStatus: draft\n\nNội dung chưa xong.\n", encoding="utf-8")
    site = build(tiny_content, tmp_path, settings="publishconf.py", fatal="warnings")
    written = [p.relative_to(site.output).as_posix() for p in site.output.rglob("*.html")]
    assert site.exists("xay-dung-dang/dai-hoi-dang-bo-xa-dong-tien.html")
    assert not [p for p in written if "nhap" in p or p.startswith("drafts/")], written
