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
