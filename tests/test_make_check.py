"""`make check` and `make article`: one test per rule, on small content trees."""

import os
import subprocess

import pytest
from conftest import ARTICLE, write_settings, ROOT, write_article
from content_check.__main__ import command_check, new_article, site_settings
from content_check.sanitiser import clean, link_allowed, removals
from content_check.site import check_site
from pelican.settings import read_settings
from PIL import Image

HEADER = dict(ARTICLE, Summary="Lời dẫn.", Image="anh.jpg", ImageCaption="Chú thích ảnh")


@pytest.fixture
def site(tmp_path, monkeypatch):
    content = tmp_path / "content"
    (content / "pages").mkdir(parents=True)
    import shutil
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")  # make check reads them too
    settings = site_settings(read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(content)}))
    monkeypatch.chdir(tmp_path)

    def article(slug="dai-hoi", body="Nội dung.\n", photos=("anh.jpg",), **changes):
        header = {k: v for k, v in dict(HEADER, **changes).items() if v is not None}
        path = write_article(content / "articles" / "xay-dung-dang", slug, header, body)
        for name in photos:
            Image.new("RGB", (64, 48), "red").save(path.parent / name)
        return path

    def messages():
        return [str(p) for p in check_site(settings)]

    return settings, article, messages


def test_clean_article(site):
    settings, article, messages = site
    article()
    assert messages() == []


def test_missing_lead_photo_and_caption(site):
    _, article, messages = site
    article(photos=(), ImageCaption=None)
    found = messages()
    assert any(":6: cảnh báo: Image: không tìm thấy tệp 'anh.jpg'" in m for m in found)
    assert any(":6: cảnh báo: ảnh đại diện chưa có chú thích" in m for m in found)


def test_inline_photo_needs_alt_caption_and_file(site):
    _, article, messages = site
    body = "Đoạn một.\n\n![](anh.jpg)\n\n![Mô tả](khong-co.jpg \"Chú thích\")\n"
    article(body=body)
    found = messages()
    assert any(":11: cảnh báo: ảnh 'anh.jpg' thiếu mô tả (alt)" in m for m in found)
    assert any(":11: cảnh báo: ảnh 'anh.jpg' chưa có chú thích" in m for m in found)
    assert any(":13: cảnh báo: ảnh trong bài: không tìm thấy tệp 'khong-co.jpg'" in m for m in found)


def test_gallery_and_attachments(site, tmp_path):
    _, article, messages = site
    path = article(Gallery="\n    anh.jpg | Chú thích\n    anh2.jpg",
                   Attachments="\n    ke-hoach.pdf | Kế hoạch\n    ../../../../etc/passwd\n    /etc/passwd\n    virus.exe")
    (path.parent / "ke-hoach.pdf").write_bytes(b"%PDF-1.4")
    found = messages()
    assert any(":10: cảnh báo: Gallery: ảnh 'anh2.jpg' chưa có chú thích" in m for m in found)
    assert any(":10: cảnh báo: Gallery: không tìm thấy tệp 'anh2.jpg'" in m for m in found)
    assert any(":13: Attachments: đường dẫn '../../../../etc/passwd' không được phép" in m for m in found)
    assert any(":14: Attachments: đường dẫn '/etc/passwd' không được phép" in m for m in found)
    assert any(":15: cảnh báo: Attachments: 'virus.exe' không phải" in m for m in found)
    assert not any("ke-hoach.pdf" in m for m in found)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", " java\tscript:alert(1)", "jav&#x61;script:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=", "VBScript:msgbox", "DATA :text/html,x",
])
def test_unsafe_links(site, url):
    _, article, messages = site
    assert not link_allowed(url)
    article(body=f"Xem [tại đây]({url}).\n\n<a href=\"{url}\">x</a>\n")
    found = [m for m in messages() if "liên kết không an toàn" in m]
    # one message per address, at its first line, with the count when repeated
    # (Markdown keeps the written address; a tab inside may come out as a space)
    assert found == [m for m in found if "(unsafe link scheme " in m]
    lines = sorted(m.split(":")[1] for m in found)
    assert lines == ["11", "9"] or (lines == ["9"] and "(2 chỗ / 2 times)" in found[0]), found


def test_safe_links_are_not_flagged():
    for url in ("https://nhandan.vn", "http://x.vn/a", "mailto:a@b.vn", "tel:0271", "/tin-moi/", "anh.jpg", "#muc-1"):
        assert link_allowed(url)


def test_internal_links_must_lead_somewhere(site):
    _, article, messages = site
    article(slug="bai-khac", Title="Bài khác")
    body = ("[có](/xay-dung-dang/bai-khac.html) [chuyên mục](/xay-dung-dang/) "
            "[tuyệt đối](https://tuyengiao.binhphuoc.gov.vn/xay-dung-dang/bai-khac.html)\n\n"
            "[không có](/xay-dung-dang/khong-ton-tai.html)\n\n"
            "[tệp](https://tuyengiao.binhphuoc.gov.vn/khong-co.html)\n")
    article(body=body)
    found = [m for m in messages() if "trang không tồn tại" in m]
    assert len(found) == 2
    assert any(":11: liên kết tới trang không tồn tại '/xay-dung-dang/khong-ton-tai.html'" in m for m in found)
    assert any(":13: liên kết tới trang không tồn tại 'https://tuyengiao.binhphuoc.gov.vn/khong-co.html'" in m
               for m in found)


def test_duplicate_slugs(site):
    _, article, messages = site
    article(slug="mot")
    article(slug="hai", Slug="mot")  # its Slug is the other's folder → same address
    found = [m for m in messages() if "trùng địa chỉ" in m]
    assert len(found) == 1
    assert found[0].startswith("content/articles/xay-dung-dang/mot/index.md:1: trùng địa chỉ với "
                               "content/articles/xay-dung-dang/hai/index.md")


def test_header_rules_are_part_of_check(site):
    _, article, messages = site
    article(Date="23/03/2020", Category="Thể thao")
    found = messages()
    assert any(":2: Date: '23/03/2020' không phải ngày hợp lệ" in m for m in found)
    assert any(":3: Category: chuyên mục 'Thể thao' không có" in m for m in found)


def test_check_exits_nonzero_and_prints_path_line_message(site, capsys):
    settings, article, _ = site
    article()
    assert command_check(settings) == 0
    article(slug="x", Title="Bài x", Date="hôm nay")
    import io
    out = io.StringIO()
    assert command_check(settings, out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("content/articles/xay-dung-dang/x/index.md:2: Date:")
    assert lines[-1].startswith("make check: 1 lỗi")


def test_make_check_on_the_sample_content_passes():
    result = subprocess.run(["make", "-s", "check"], cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nội dung hợp lệ" in result.stdout


def test_new_article(site):
    settings, article, messages = site
    import datetime
    from zoneinfo import ZoneInfo
    now = datetime.datetime(2026, 11, 27, 6, 30, tzinfo=datetime.timezone.utc)
    path = new_article(settings, "Đại hội Đảng bộ xã Đồng Tiến", "Xây dựng Đảng", now=now)
    assert path == "content/articles/xay-dung-dang/dai-hoi-dang-bo-xa-dong-tien/index.md"
    text = open(path, encoding="utf-8").read()
    for key in ("Title", "Date", "Modified", "Category", "Tags", "Author", "Summary", "Image",
                "ImageCaption", "Gallery", "Attachments", "Featured", "Status"):
        assert f"\n{key}:" in "\n" + text
    assert "Date: 2026-11-27 13:30" in text  # Vietnam time
    assert "Status: draft" in text
    assert [m for m in messages() if "cảnh báo" not in m] == []
    with pytest.raises(ValueError, match="slug already exists"):
        new_article(settings, "Đại hội Đảng bộ xã Đồng Tiến", "Xây dựng Đảng")
    with pytest.raises(ValueError, match="unknown category"):
        new_article(settings, "Bài mới", "Thể thao")


def test_make_article_command(tmp_path):
    """Through make, as staff type it: refuses, then creates and prints the path."""
    result = subprocess.run(["make", "-s", "article", "TITLE=Bài thử", "CATEGORY=Thể thao"],
                            cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    assert result.returncode != 0 and "unknown category" in result.stderr
    result = subprocess.run(
        ["make", "-s", "article", "TITLE=Kết quả và một số kinh nghiệm từ đại hội điểm cấp cơ sở",
         "CATEGORY=Xây dựng Đảng"], cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    assert result.returncode != 0 and "slug already exists" in result.stderr


TRICKY = """Đoạn một [bấm
vào đây](javascript:alert(2)) nhé.

Đoạn hai <a href=javascript:alert(3)>ba</a>.

Đoạn bốn [ref][r4].

[r4]:
    javascript:alert(4)

Đoạn năm <img src="anh.jpg" onerror=alert(5)>.

<iframe src="https://example.com"></iframe>

```
[mã nguồn](javascript:khong-phai-lien-ket) trong khối mã
```
"""


def test_tricky_unsafe_forms_are_caught(site):
    _, article, messages = site
    article(Summary="Xem [tại đây](javascript:alert(1)) để biết thêm.", body=TRICKY)
    found = [m for m in messages() if "cảnh báo" not in m]
    assert any(":5: liên kết không an toàn 'javascript:alert(1)'" in m for m in found)   # in Summary
    assert any(":10: liên kết không an toàn 'javascript:alert(2)'" in m for m in found)  # text over two lines
    assert any(":12: liên kết không an toàn 'javascript:alert(3)'" in m for m in found)  # unquoted attribute
    assert any(":17: liên kết không an toàn 'javascript:alert(4)'" in m for m in found)  # address on next line
    assert any(":19: thuộc tính onerror= của thẻ <img> không được phép" in m for m in found)
    assert any(":21: thẻ <iframe> không được phép" in m for m in found)
    assert not any("khong-phai-lien-ket" in m for m in found)  # fenced code is not a link


def test_build_refuses_what_reaches_rendered_html(tiny_content, tmp_path):
    from conftest import run_pelican

    html = '<p><a href="JaVa&#x73;cript:x">a</a><img src="x" onerror="y"></p>'
    assert [(r.kind, r.tag, r.name) for r in removals(html)] == [("link", "a", "href"), ("attribute", "img", "onerror")]
    assert clean(html) == '<p><a>a</a><img src="x"></p>'
    assert removals('<p><a href="https://nhandan.vn">a</a><img src="/anh/x.jpg" alt=""></p>') == []
    write_article(tiny_content / "articles", "bai", {k: v for k, v in HEADER.items() if k not in ("Image", "ImageCaption")},
                  "Đoạn [bấm\nvào đây](javascript:alert(2)).\n")
    result = run_pelican(tiny_content, tmp_path / "output")
    assert result.returncode != 0
    assert "articles/bai/index.md:8: liên kết không an toàn 'javascript:alert(2)'" in result.stdout
    assert "Traceback" not in result.stdout  # the staff see messages, not a Python traceback
    assert not (tmp_path / "output" / "index.html").exists()


def test_make_article_takes_any_title_literally(tmp_path):
    """Quotes, $ and backticks in a title are text, never shell."""
    content = tmp_path / "content"
    (content / "pages").mkdir(parents=True)
    settings = write_settings(tmp_path / "conf.py", PATH=str(content))
    title = 'Hội thi "Tìm hiểu về Đảng" năm 2020 $HOME `id`'
    result = subprocess.run(["make", "-s", "article", f"TITLE={title}", "CATEGORY=Xây dựng Đảng",
                             f"SETTINGS={settings}"], cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    created = list(content.glob("articles/*/*/index.md"))
    assert len(created) == 1
    assert created[0].parent.name == "hoi-thi-tim-hieu-ve-dang-nam-2020-home-id"
    assert f"Title: {title}\n" in created[0].read_text(encoding="utf-8")


def test_static_links_to_photos_are_refused(site):
    """{static} would publish the original photo, GPS data and all."""
    _, article, messages = site
    article(body="Đoạn một.\n\n![Ảnh]({static}anh.jpg \"Chú thích\")\n")
    found = messages()
    assert any(":11: ảnh '{static}anh.jpg'" in m and "original photo" in m for m in found), found


HOSTILE_BODIES = {
    # shape: (body, line of the first bad piece, message)
    "unclosed-tags": ("Đoạn đầu.\n\n" + "<a " * 20_000, 9, (
        "có 20000 thẻ HTML mở bằng “<” mà không đóng bằng “>” (quá 20), thường do dán nhầm; hãy sửa "
        "hoặc xóa chúng — tệp chưa được xử lý (too many unclosed HTML tags: 20000; file refused before "
        "rendering)")),
    "nested-brackets": ("[" * 5000 + "x" + "]" * 5000, 7, (
        "dấu “[” lồng nhau quá 10 lớp; hãy sửa hoặc xóa chúng — tệp chưa được xử lý "
        "(brackets nested deeper than 10; file refused before rendering)")),
    "unclosed-links": ("Đoạn.\n\n" + "[x](" * 5000, 9, (
        "có 5000 liên kết “](” không có dấu “)” đóng (quá 20); hãy sửa hoặc xóa chúng — tệp chưa được "
        "xử lý (too many unclosed links: 5000; file refused before rendering)")),
    "code-blocks": ("Đoạn.\n\n" + "~~~\n" * 15_000, 9, (
        "có 7500 khối mã (dòng ``` hoặc ~~~, hay đoạn thụt vào 4 dấu cách) — quá 2000; hãy xóa các dấu "
        "cách ở đầu đoạn và các dòng ``` thừa — tệp chưa được xử lý (too many code blocks: 7500; file "
        "refused before rendering)")),
    "abbreviations": ("Đoạn.\n\n" + "".join(f"*[AB{i}]: t\n" for i in range(150)), 9, (
        "có 150 định nghĩa viết tắt “*[…]:” (quá 100); hãy giữ những chữ viết tắt cần giải thích — tệp chưa "
        "được xử lý (too many abbreviation definitions: 150; file refused before rendering)")),
    "character-references": ("Đoạn.\n\n" + "&#x41;" * 3000, 9, (
        "một đoạn có hơn 2000 mã ký tự dạng “&#…;”; hãy thay chúng bằng chữ gõ trực tiếp — tệp chưa được "
        "xử lý (too many character references in one paragraph; file refused before rendering)")),
}


@pytest.mark.parametrize("shape", sorted(HOSTILE_BODIES))
def test_markup_markdown_cannot_render_in_linear_time_is_refused(site, tmp_path, shape):
    """One message with the line, in make check and in the build (which
    leaves the file out before Markdown sees it); never minutes."""
    from conftest import new_content, run_pelican

    tiny_content = new_content(tmp_path / "build" / "content")
    body, line, message = HOSTILE_BODIES[shape]
    _, article, messages = site
    path = article(body=body, photos=(), Image=None, ImageCaption=None)
    expected = f"content/articles/xay-dung-dang/dai-hoi/index.md:{line}: {message}"
    assert messages() == [expected]
    built = write_article(tiny_content / "articles", "bai", {k: v for k, v in HEADER.items()
                                                             if k not in ("Image", "ImageCaption")}, body)
    result = run_pelican(tiny_content, tmp_path / "output", fatal=None)
    assert result.returncode == 0 and "Traceback" not in result.stdout, result.stdout
    assert f"{os.path.relpath(built, ROOT)}:{line}: {message}" in result.stdout
    assert not list((tmp_path / "output").rglob("dai-hoi-dang-bo-xa-dong-tien.html"))


ARTICLE_PATH = "content/articles/xay-dung-dang/dai-hoi/index.md"
NOT_UTF8 = ("tệp không phải mã UTF-8 (byte 0x{byte:02x} không đọc được); hãy mở tệp và lưu lại với bảng "
            "mã UTF-8 (file is not UTF-8: save it as UTF-8)")
CONTROL = ("tệp chứa ký tự điều khiển U+{code:04X}, thường do dán từ PDF hay bảng tính; hãy xóa ký tự đó "
           "(control character U+{code:04X} in file)")


@pytest.mark.parametrize("encode,line,message", [
    # Windows-1258 (an old Vietnamese editor): "Văn hóa" in the Category line
    (lambda t: t.encode().replace("Xây dựng Đảng".encode(), "V\u0103n h\u00f3a".encode("cp1258")), 3,
     NOT_UTF8.format(byte=0xe3)),
    (lambda t: t.replace("Nội dung.", "Nội\x00dung.").encode(), 7, CONTROL.format(code=0)),
    (lambda t: t.replace("H. Sơn", "H.\x1b[31m Sơn").encode(), 4, CONTROL.format(code=0x1B)),
    (lambda t: t.replace("Nội dung.", "Nội\x85dung.").encode(), 7, CONTROL.format(code=0x85)),
    (lambda t: t.encode("utf-16"), 1, NOT_UTF8.format(byte=0xff)),
])
def test_unreadable_text_is_one_message_in_check_and_build(site, tmp_path, encode, line, message):
    from conftest import new_content, run_pelican

    _, article, messages = site
    path = article(photos=(), Image=None, ImageCaption=None)
    data = encode(path.read_text(encoding="utf-8"))
    path.write_bytes(data)
    expected = f"{ARTICLE_PATH}:{line}: {message}"
    assert messages() == [expected]
    content = new_content(tmp_path / "build" / "content")
    built = content / "articles" / "bai" / "index.md"
    built.parent.mkdir(parents=True)
    built.write_bytes(data)
    for fatal in (None, "errors"):  # make devserver, make html
        result = run_pelican(content, tmp_path / "build" / "output", fatal=fatal)
        assert "Traceback" not in result.stdout
        assert f"{os.path.relpath(built, ROOT)}:{line}: {message}" in result.stdout
        assert (result.returncode != 0) == (fatal == "errors")
    assert not (tmp_path / "build" / "output" / "xay-dung-dang").exists()  # the article is left out


@pytest.mark.parametrize("slug", ["../../../tmp/x", "a/b", "Đại-hội", "bai viet", "bai--viet", "-x"])
def test_slug_must_be_an_address(site, slug):
    _, article, messages = site
    article(Slug=slug)
    assert messages() == [
        f"{ARTICLE_PATH}:8: Slug: {slug!r} chỉ được gồm chữ thường không dấu a-z, chữ số 0-9 và dấu gạch "
        "ngang, ví dụ dai-hoi-dang-bo-xa-dong-tien (Slug may hold only a-z, 0-9 and single hyphens)"]


def test_a_bad_slug_never_writes_outside_output_in_a_preview(tiny_content, tmp_path):
    from conftest import run_pelican

    write_article(tiny_content / "articles", "bai", dict(
        {k: v for k, v in HEADER.items() if k not in ("Image", "ImageCaption")}, Slug="../../thoat-ra"))
    result = run_pelican(tiny_content, tmp_path / "site" / "output", fatal=None)
    assert result.returncode == 0 and "Traceback" not in result.stdout
    assert (tmp_path / "site" / "output" / "ban-nhap" / "thoat-ra.html").exists()
    assert not list(tmp_path.rglob("thoat-ra.html"))[1:]


@pytest.mark.parametrize("date,problem", [
    ("9999-12-31", "error"), ("2101-01-01 08:00", "error"), ("1929-12-31", "error"),
    ("2099-01-01 08:00", "warning"), ("1930-01-01", None), ("2020-03-23 08:15", None),
])
def test_implausible_dates_are_refused(site, date, problem):
    from content_check.rules import check_header
    import datetime

    settings, article, _ = site
    article(Date=date)
    found = [p for p in check_site(settings) if p.line == 2]
    assert [p.severity for p in found] == ([problem] if problem else []), found
    if problem == "error":
        assert str(found[0]) == (
            f"{ARTICLE_PATH}:2: Date: {date!r} không hợp lý: ngày phải từ 01/01/1930 đến 31/12/2100; "
            "kiểm tra lại năm (Date must be between 1930-01-01 and 2100-12-31)")
    # the clock rule, with a fixed today: tomorrow is fine, the day after warns
    today = datetime.datetime(2026, 12, 2, 9, 0)
    text = "Title: x\nDate: {}\nCategory: Xây dựng Đảng\n\nx\n"
    assert check_header("a.md", text.format("2026-12-03 09:00"), today=today) == []
    [late] = check_header("a.md", text.format("2026-12-03 09:01"), today=today)
    assert late.severity == "warning" and str(late) == (
        "a.md:2: cảnh báo: Date: '2026-12-03 09:01' là ngày trong tương lai (sau 03/12/2026): bài sẽ đứng "
        "đầu các danh sách đến ngày đó; kiểm tra lại ngày (Date is in the future)")


def test_file_names_match_whatever_their_normalisation(site, tmp_path):
    """A photo saved as NFD on disk (macOS, some zip tools) and named in
    NFC by the article, and the other way round, are the same file."""
    import unicodedata

    from portal.content_paths import resolve_media_path

    _, article, messages = site
    nfc_name, nfd_name = "ảnh-đại-hội.jpg", unicodedata.normalize("NFD", "ảnh-đại-hội.jpg")
    doc = unicodedata.normalize("NFD", "tài-liệu.pdf")
    path = article(photos=(nfd_name,), Image=nfc_name,
                   Attachments=unicodedata.normalize("NFC", doc) + " | Tài liệu")
    (path.parent / doc).write_bytes(b"%PDF-1.4")
    assert messages() == []
    root = "content"
    assert resolve_media_path(root, str(path), nfc_name) == f"articles/xay-dung-dang/dai-hoi/{nfd_name}"
    (path.parent / nfd_name).rename(path.parent / nfc_name)
    assert resolve_media_path(root, str(path), nfd_name) == f"articles/xay-dung-dang/dai-hoi/{nfc_name}"


def test_symlinks_out_of_content_are_refused_by_make_check(site, tmp_path):
    from portal.content_paths import resolve_media_path

    secret = tmp_path / "host-etc"
    secret.mkdir()
    (secret / "passwd").write_text("root:x:0:0\n", encoding="utf-8")
    Image.new("RGB", (8, 8)).save(secret / "anh.jpg")
    _, article, messages = site
    path = article(photos=(), Attachments="ke-hoach.pdf | Kế hoạch", Image="anh.jpg",
                   body="[tệp]({static}ke-hoach.pdf) và [ảnh](/images/lien-ket.pdf)\n")
    (path.parent / "ke-hoach.pdf").symlink_to(secret / "passwd")
    (path.parent / "anh.jpg").symlink_to(secret / "anh.jpg")
    images = path.parents[3] / "images"
    images.mkdir()
    (images / "lien-ket.pdf").symlink_to(secret / "passwd")
    other = path.parents[1] / "mat-khau"
    other.mkdir()
    (other / "index.md").symlink_to(secret / "passwd")
    (path.parents[1] / "ngoai").symlink_to(secret, target_is_directory=True)

    def symlink(key, name, target):
        return (f"{key}: đường dẫn {name!r} không được phép — là liên kết tượng trưng (symlink) trỏ ra ngoài "
                f"thư mục content/, tới {target}; hãy thay nó bằng chính tệp đó (a symlink leading outside "
                f"content/, to {target}: replace it with the file itself)")
    assert messages() == [
        f"{ARTICLE_PATH}:6: {symlink('Image', 'anh.jpg', secret / 'anh.jpg')}",
        f"{ARTICLE_PATH}:8: {symlink('Attachments', 'ke-hoach.pdf', secret / 'passwd')}",
        f"{ARTICLE_PATH}:10: liên kết tới trang không tồn tại '/images/lien-ket.pdf': kiểm tra lại địa chỉ "
        "(link to a page that does not exist)",
        f"{ARTICLE_PATH}:10: liên kết tới tệp không tồn tại '{{static}}ke-hoach.pdf' (link to a missing file)",
        f"content/articles/xay-dung-dang/mat-khau/index.md:1: là liên kết (symlink) trỏ ra ngoài thư mục "
        f"content/, tới {secret / 'passwd'}; hãy thay nó bằng chính tệp đó hoặc xóa nó (a symlink leading "
        f"outside content/, to {secret / 'passwd'}: replace it with the file itself or remove it; nothing "
        "of it is published)",
        f"content/articles/xay-dung-dang/ngoai:1: là thư mục liên kết (symlink) trỏ ra ngoài content/, tới "
        f"{secret}; hãy xóa liên kết và chép các tệp cần đăng vào đây (a folder symlink leading outside "
        f"content/, to {secret}: remove it and copy in the files to publish; nothing in it is published)",
    ]
    assert resolve_media_path("content", str(path), "ke-hoach.pdf") is None
    # the build's gate refuses the same article files in the same words (it
    # stops the build first), and nothing is published
    from conftest import run_pelican

    result = run_pelican(tmp_path / "content", tmp_path / "output")
    assert result.returncode != 0 and "Traceback" not in result.stdout
    shown = os.path.relpath(tmp_path, ROOT) + "/"
    built = [line[len(shown):] for line in result.stdout.splitlines() if line.startswith(shown + "content/articles/")]
    assert built and set(built) <= set(messages())
    assert not (tmp_path / "output").exists()


def test_build_finds_photos_and_attachments_stored_nfd(tiny_content, tmp_path):
    """The build uses the same lookup: the photo and the attachment are
    published although the article names them in NFC."""
    import unicodedata

    from bs4 import BeautifulSoup
    from conftest import run_pelican

    nfd = lambda name: unicodedata.normalize("NFD", name)  # noqa: E731
    header = dict(HEADER, Image="ảnh-đại-hội.jpg", Attachments="tài-liệu.pdf | Tài liệu")
    path = write_article(tiny_content / "articles", "dai-hoi-dang-bo-xa-dong-tien", header,
                         "Đoạn.\n\n![Hội trường](hội-trường.jpg \"Quang cảnh hội trường\")\n")
    Image.new("RGB", (640, 480), "red").save(path.parent / nfd("ảnh-đại-hội.jpg"))
    Image.new("RGB", (640, 480), "blue").save(path.parent / nfd("hội-trường.jpg"))
    (path.parent / nfd("tài-liệu.pdf")).write_bytes(b"%PDF-1.4 tai lieu")
    result = run_pelican(tiny_content, tmp_path / "site" / "output")
    assert result.returncode == 0, result.stdout
    page = tmp_path / "site" / "output" / "xay-dung-dang" / "dai-hoi-dang-bo-xa-dong-tien.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert len(soup.select("picture")) >= 2  # lead photo and body photo
    assert [p.read_bytes() for p in (tmp_path / "site" / "output").rglob("*.pdf")] == [b"%PDF-1.4 tai lieu"]


def test_many_files_are_rendered_on_every_core_with_the_same_verdicts(site, monkeypatch, tmp_path):
    import content_check.site as site_module

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: nothing to share the rendering with")
    settings, article, messages = site
    for number in range(6):
        body = "Nội dung.\n" if number % 2 else f"Đoạn {number}.\n\n<svg><set attributeName=\"href\"/></svg>\n"
        article(slug=f"bai-{number}", Title=f"Bài {number}", body=body)
    settings = dict(settings, CACHE_PATH=str(tmp_path / "one-core"))
    monkeypatch.setattr(site_module, "PARALLEL_FROM", 10**9)
    one_core = messages_with(settings)
    settings = dict(settings, CACHE_PATH=str(tmp_path / "every-core"))
    monkeypatch.setattr(site_module, "PARALLEL_FROM", 2)
    pools = []

    class CountedPool(site_module.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(site_module, "ProcessPoolExecutor", CountedPool)
    assert messages_with(settings) == one_core
    assert pools and pools[0] >= 2  # the workers rendered them
    assert sum("thẻ <svg>" in m for m in one_core) == 3


def messages_with(settings):
    return [str(p) for p in check_site(settings)]


def test_files_pelican_ignores_are_not_checked(site, tmp_path):
    """IGNORE_FILES (a README beside an article, an editor's lock file) are
    skipped by the build, so by make check too."""
    settings, article, messages = site
    path = article()
    (path.parent / "README.md").write_text("Ghi chú cho người biên tập, không phải bài.\n", encoding="utf-8")
    (path.parent / ".#index.md").symlink_to("root@may-tinh.1234:1700000000")  # Emacs lock, dangling
    assert messages() == []
    assert command_check(settings) == 0


def test_a_long_paste_with_indented_paragraphs_is_accepted(site):
    """Word pastes indent first lines by four spaces: each is a code block to
    Markdown, and a long resolution has hundreds."""
    _, article, messages = site
    article(body="Nghị quyết.\n\n" + "    Điều khoản được thụt vào đầu dòng.\n\n" * 300)
    assert messages() == []


def test_names_and_links_that_give_no_address(site):
    _, article, messages = site
    article(Tags="đại hội, !!!", Author="***",
            body="Xem [mục]({category}?a=b) và [lạ]({foo}bar).\n")
    found = messages()
    assert f"{ARTICLE_PATH}:8: Tags: '!!!' không tạo được đường dẫn; hãy dùng chữ hoặc số " \
           "(no address can be made from this name)" in found
    assert f"{ARTICLE_PATH}:4: Author: '***' không tạo được đường dẫn; hãy dùng chữ hoặc số " \
           "(no address can be made from this name)" in found
    assert any(m.startswith(f"{ARTICLE_PATH}:10: liên kết '{{category}}?a=b': tên sau {{category}} không tạo "
                            "được đường dẫn") for m in found), found
    assert any(m.startswith(f"{ARTICLE_PATH}:10: liên kết '{{foo}}bar': “{{foo}}” không phải chỉ dẫn") for m in found)


def test_an_address_too_long_for_a_file_name(site):
    _, article, messages = site
    article(Title="Đại hội " * 40)  # the title does not make the address
    assert [m for m in messages() if "quá 150" in m] == []
    path = os.path.relpath(article(slug="dai-hoi-" * 25 + "x"))  # the folder does: 201 characters
    [found] = [m for m in messages() if "quá 150" in m]
    assert found.startswith(f"{path}:1: đường dẫn của bài dài 201 ký tự (quá 150); hãy thêm khóa Slug")
    article(Slug="-".join(["dai-hoi"] * 40))  # a Slug too: 319 characters, reported at its line
    assert any(m.startswith(f"{ARTICLE_PATH}:8: đường dẫn của bài dài 319 ký tự (quá 150); hãy thêm khóa Slug")
               for m in messages())


def test_a_page_cannot_take_the_home_page_address(site):
    settings, article, messages = site
    page = settings["PATH"] + "/pages/trang.md"
    with open(page, "w", encoding="utf-8") as handle:
        handle.write("Title: Trang chủ giả\nSlug: index\n\nNội dung.\n")
    assert "content/pages/trang.md:2: trùng địa chỉ với trang chủ (home page) (index.html): đổi khóa Slug " \
           "(duplicate address: change the Slug)" in messages()


def test_long_titles_and_reserved_slugs_never_give_a_traceback(tiny_content, tmp_path):
    from bs4 import BeautifulSoup
    from conftest import run_pelican

    write_article(tiny_content / "articles", "dai-hoi-" * 25 + "x", {  # a folder name too long for an address
        "Title": "Đại hội " * 40, "Date": "2020-03-23 08:15", "Category": "Xây dựng Đảng"})
    (tiny_content / "pages" / "trang.md").write_text("Title: Giả\nSlug: index\n\nx\n", encoding="utf-8")
    for fatal in ("errors", None):  # make html; the devserver previews
        result = run_pelican(tiny_content, tmp_path / str(fatal) / "output", fatal=fatal)
        assert "Traceback" not in result.stdout, result.stdout
        assert "quá 150" in result.stdout and "trùng địa chỉ với trang chủ" in result.stdout
    assert result.returncode == 0
    home = (tmp_path / "None" / "output" / "index.html").read_text(encoding="utf-8")
    assert "Giả" not in BeautifulSoup(home, "html.parser").select_one("main").get_text()


def test_make_check_reads_the_feeds_as_the_build_does(site):
    settings, article, _ = site
    article()
    import io
    feed = os.path.join(settings["PATH"], "feeds", "visitors.json")
    with open(feed, "w", encoding="utf-8") as handle:
        handle.write('{"updated": "2020-08-14T11:00:00+07:00",\n"online": true, "today": 1, "total": 1}')
    out = io.StringIO()
    assert command_check(settings, out) == 1
    assert out.getvalue().splitlines()[0] == (
        "content/feeds/visitors.json: cảnh báo: trường online: phải là số nguyên không âm, nhận được true "
        "(must be a non-negative integer)")


def test_a_published_article_cannot_link_to_a_draft(site):
    _, article, messages = site
    article(slug="nhap", Title="Bài nháp", Status="draft")
    article(body="Xem [bài kia]({filename}../nhap/index.md).\n")
    assert f"{ARTICLE_PATH}:9: liên kết '{{filename}}../nhap/index.md' tới một bản nháp (Status: draft), bản này " \
           "không được đăng; hãy bỏ liên kết hoặc đăng bài kia trước (link to a draft, which is never published)" \
           in messages()
