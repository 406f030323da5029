"""Header rules, called directly (the build and later `make check` use them)."""

from content_check.rules import check_header

GOOD = """Title: Kết quả đại hội
Date: 2020-03-26 08:15
Category: Xây dựng Đảng
Author: H. Sơn
Summary: Lời dẫn.
Featured: false
Status: published

Nội dung.
"""
CATEGORIES = ["Xây dựng Đảng", "Tin tức - Sự kiện"]


def problems(text, kind="article"):
    return [str(p) for p in check_header("a/index.md", text, kind, CATEGORIES)]


def test_good_header_has_no_problem():
    assert problems(GOOD) == []


def test_line_without_colon_is_reported_with_its_line():
    broken = GOOD.replace("Author: H. Sơn", "Tác giả H. Sơn")
    found = problems(broken)
    assert len(found) == 1
    assert found[0].startswith("a/index.md:4: ")
    assert "Key: value" in found[0]


def test_missing_title_and_bad_date():
    text = GOOD.replace("Title: Kết quả đại hội\n", "").replace("2020-03-26 08:15", "26/03/2020")
    found = problems(text)
    assert any("thiếu Title" in p and p.startswith("a/index.md:1:") for p in found)
    assert any(p.startswith("a/index.md:1: Date:") and "YYYY-MM-DD" in p for p in found)


def test_unknown_key_unknown_category_bad_status_and_featured():
    text = (GOOD.replace("Author:", "Autor:").replace("Xây dựng Đảng", "Xay dung Dang")
            .replace("Status: published", "Status: nhap").replace("Featured: false", "Featured: co le"))
    found = problems(text)
    assert any(":4: khóa không được hỗ trợ: 'autor'" in p for p in found)
    assert any(":3: Category:" in p and "unknown category" in p for p in found)
    assert any(":7: Status:" in p for p in found)
    assert any(":6: Featured:" in p for p in found)


def test_duplicate_key():
    found = problems(GOOD.replace("Author: H. Sơn", "Author: H. Sơn\nAuthor: P.V"))
    assert any(":5: khóa Author bị lặp lại" in p for p in found)


def test_pages_need_only_a_title():
    assert problems("Title: Giới thiệu\nSlug: gioi-thieu\n\nNội dung.\n", kind="page") == []
    assert any("thiếu Title" in p for p in problems("Slug: x\n\nNội dung.\n", kind="page"))


def test_markup_cache_remembers_and_discards_an_unreadable_file(tmp_path, capsys):
    from content_check.markup_cache import FILE, MarkupCache

    calls = []

    def compute():
        calls.append(1)
        return [(3, "thẻ <svg> ...", "error")]

    cache = MarkupCache(str(tmp_path), "stamp-1")
    assert cache.get("văn bản", compute) == [(3, "thẻ <svg> ...", "error")]
    cache.save()
    again = MarkupCache(str(tmp_path), "stamp-1")
    assert again.get("văn bản", compute) == [(3, "thẻ <svg> ...", "error")] and len(calls) == 1
    assert MarkupCache(str(tmp_path), "stamp-2").get("văn bản", compute) and len(calls) == 2  # new code
    (tmp_path / FILE).write_bytes(b'{"stamp": "stamp-1", "entr')  # a build killed mid-write
    broken = MarkupCache(str(tmp_path), "stamp-1")
    assert "unreadable cache discarded, rebuilt" in capsys.readouterr().err
    assert broken.get("văn bản", compute) and len(calls) == 3
    broken.save()
    assert MarkupCache(str(tmp_path), "stamp-1").get("văn bản", compute) and len(calls) == 3


def test_hazard_scans_ignore_ordinary_markup():
    from portal.markdown_source import markup_hazard

    ordinary = ("Đoạn <b>đậm</b>, [liên kết](https://nhandan.vn) và [[1]](#chu-thich), "
                "a < b, ![ảnh](anh.jpg \"Chú thích\").\n\n```\nmã\n```\n\n") * 100
    assert markup_hazard(ordinary) is None
    assert markup_hazard("<a " * 20) is None and markup_hazard("<a " * 21)[0] == 0
    assert markup_hazard("[" * 10 + "]" * 10) is None and markup_hazard("[" * 11)[0] == 10


def test_markup_problems_locates_twenty_kinds_and_sums_up_the_rest():
    """A file full of distinct payloads costs a bounded number of renders."""
    from content_check.__main__ import site_settings
    from content_check.render import renderer
    from content_check.sanitiser import MAX_LOCATED, markup_problems
    from pelican.settings import read_settings

    from conftest import ROOT

    render = renderer(site_settings(read_settings(str(ROOT / "pelicanconf.py"))))
    text = "Title: x\n\n" + "".join(f"Đoạn <x-{n}>chữ</x-{n}>.\n\n" for n in range(MAX_LOCATED + 5))
    found = [str(p) for p in markup_problems("a.md", text, render)]
    assert len(found) == MAX_LOCATED + 1
    assert found[0] == ("a.md:3: thẻ <x-0> không được phép trong bài và đã bị loại bỏ khỏi trang; hãy xóa nó "
                        "(tag <x-0> removed: not allowed in articles)")
    assert ("a.md:41: còn 5 loại thẻ, thuộc tính hoặc liên kết khác bị loại bỏ; sửa các lỗi trên rồi chạy "
            "lại make check (5 more kinds of removed markup)") in found


def test_a_problem_is_one_line_whatever_its_path_holds():
    from portal.problems import Problem

    assert str(Problem("content/bai\nmoi/a\x1b[2J.md", 3, "lỗi")) == "content/bai\\x0amoi/a\\x1b[2J.md:3: lỗi"
