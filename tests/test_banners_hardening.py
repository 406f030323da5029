"""Hostile banners.yml: links as browsers parse them, YAML that expands or
constructs, bytes that are not text, terminals, files outside content/
(issue 9, part D)."""

import os
import shutil
import subprocess

import pytest
from banners.links import LinkError, parse_link
from banners.model import load_banners
from conftest import write_settings, ROOT, new_content, run_pelican, write_article
from PIL import Image

from test_banners import GOOD, SLOTS

BASE = "http://127.0.0.1:8000/tin-moi/bai.html"

# (as written in banners.yml, what the build publishes or None when refused)
LINKS = [
    ("https://nhandan.vn", "https://nhandan.vn"),
    ("HTTPS://NhanDan.vn/a?b=c#d", "https://NhanDan.vn/a?b=c#d"),
    ("/lien-he.html", "/lien-he.html"),
    ("/tin-moi/?q=a\\b", "/tin-moi/?q=a\\b"),       # a backslash in the query stays one
    ("/a\\b.html", "/a/b.html"),                     # in the path it is a slash to the browser
    ("  /lien-he.html\t", "/lien-he.html"),          # browsers strip C0 and spaces at both ends
    ("\x00\x1fhttps://nhandan.vn\x7f", None),        # ... but DEL is not C0
    ("\x01https://nhandan.vn ", "https://nhandan.vn"),
    ("ht\ttp://nhandan.vn", "http://nhandan.vn"),    # tab and newline vanish anywhere
    ("https:\\\\nhandan.vn\\x", "https://nhandan.vn/x"),
    ("https://evil.example\\@nhandan.vn", "https://evil.example/@nhandan.vn"),  # honest about the host
    # another site, once the browser has cleaned the link
    ("/\t/evil.example/", None), ("/\n/evil.example/", None), ("/\r\n/evil.example/", None),
    ("\t//evil.example", None), ("/\\evil.example", None), ("\\\\evil.example", None), ("/\\\t\\evil", None),
    ("//evil.example", None),
    # schemes other than http(s), however disguised
    ("java\nscript:alert(1)", None), ("\x00javascript:alert(1)", None), ("jav\tascript:alert(1)", None),
    ("JaVaScRiPt:alert(1)", None), ("data:text/html,x", None), ("vbscript:x", None), ("file:///etc/passwd", None),
    ("blob:https://x/1", None), ("ftp://nhandan.vn", None),
    # http(s) forms whose meaning depends on the page, or that hide the host
    ("http:evil.example", None), ("https:/evil.example", None), ("https:///evil.example", None),
    ("https://nhandan.vn@evil.example/", None), ("https://u:p@evil.example", None), ("https://", None),
    ("https://:443/", None), ("https://a b.vn", None), ("https://evil%2eexample", None),
    ("https://nhandan.vn:99999/", None), ("https://nhandan.vn:8443/a", "https://nhandan.vn:8443/a"),
    # not a path of this site
    ("lien-he.html", None), ("?q=1", None), ("#top", None), ("", None), ("   ", None),
    # invisible and control characters inside
    ("/lien-he\u202e.html", None), ("https://nhandan\u200b.vn", None), ("/a\x1b[2J", None), ("/a\x85", None),
]


@pytest.mark.parametrize("written,published", LINKS)
def test_link_is_judged_as_the_browser_parses_it(written, published):
    if published is None:
        with pytest.raises(LinkError):
            parse_link(written)
    else:
        assert parse_link(written) == published


@pytest.mark.parametrize("value", [123, None, ["https://a.vn"], True])
def test_a_link_must_be_text(value):
    with pytest.raises(LinkError) as error:
        parse_link(value)
    assert error.value.reason == "phải là chuỗi chữ (must be text)"


def test_chromium_agrees(browser):
    """Chromium's own URL parser on every case: a published link means what
    was written, stays on the site when it is a path and goes to the host
    we judged when it is a URL; the refused tricks really do leave the site
    or the web (which is why they are refused)."""
    from browser import new_page

    watched = new_page(browser, 800)
    parse = watched.page.evaluate("""([links, base]) => links.map(l => {
        try { const u = new URL(l, base); return [u.href, u.protocol, u.host]; } catch (e) { return null; } })""",
                                  [[w for w, _ in LINKS] + [p for _, p in LINKS if p], BASE])
    watched.context.close()
    written, published = parse[:len(LINKS)], parse[len(LINKS):]
    accepted = [(i, p) for i, (_, p) in enumerate(LINKS) if p]
    for (index, link), seen in zip(accepted, published):
        assert written[index] is not None and seen[0] == written[index][0], LINKS[index]
        if link.startswith("/"):
            assert seen[2] == "127.0.0.1:8000"
        else:
            assert seen[1] in ("http:", "https:") and seen[2].lower() == link.split("/")[2].lower()
    for trick in ("/\t/evil.example/", "/\n/evil.example/", "\t//evil.example", "/\\evil.example"):
        assert written[[w for w, _ in LINKS].index(trick)][2] == "evil.example"
    assert written[[w for w, _ in LINKS].index("java\nscript:alert(1)")][1] == "javascript:"


def make_image(path, width=600, height=200):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (180, 20, 20)).save(path)


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    make_image(root / "banners" / "a.jpg")
    return root


def problems_of(content, data):
    path = content / "banners.yml"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    banners, problems = load_banners(str(path), str(content), SLOTS)
    return banners, [(p.line, p.message) for p in problems]


LAUGHS = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))
ALIAS = "không dùng bí danh YAML “*{}”; hãy viết đầy đủ giá trị (YAML aliases are not allowed)"
ANCHOR = "không dùng neo YAML “&{}” (YAML anchors are not allowed)"
TAG = "không dùng thẻ YAML “{}”; hãy xóa nó (YAML tags are not allowed)"
NESTED = ("mỗi khóa chỉ có một giá trị, không lồng danh sách “[...]” hay khóa con; chữ bắt đầu bằng “[” hoặc “{” "
          "thì đặt trong ngoặc kép (nested lists or mappings are not allowed; quote text starting with [ or {)")


@pytest.mark.parametrize("text,expected", [
    (LAUGHS, [(1, ANCHOR.format("a"))] + [
        p for i in range(9) for p in ((i + 2, ALIAS.format(chr(97 + i))), (i + 2, ANCHOR.format(chr(98 + i))))]),
    ("- &b " + GOOD[2:] + "- *b\n", [(1, ANCHOR.format("b")), (7, ALIAS.format("b"))]),
    (GOOD.replace("title: Báo Nhân Dân", "title: &t Báo\n  link2: *t"), None),
    (GOOD.replace("order: 10", "order: !!python/object/apply:os.system ['true']"),
     [(6, TAG.format("tag:yaml.org,2002:python/object/apply:os.system")), (6, NESTED)]),
    (GOOD.replace("order: 10", "order: !!python/name:os.system"), [(6, TAG.format("tag:yaml.org,2002:python/name:os.system"))]),
    (GOOD.replace("title: Báo Nhân Dân", "title: !foo Báo"), [(2, TAG.format("!foo"))]),
    (GOOD.replace("title: Báo Nhân Dân", "title: !!str Báo"), [(2, TAG.format("tag:yaml.org,2002:str"))]),
    ("!!set\n" + GOOD, [(1, TAG.format("tag:yaml.org,2002:set"))]),
    (GOOD.replace("order: 10", "order: {a: 1}"), [(6, NESTED)]),
    ("- " * 5000 + "x\n", [(1, NESTED)]),
    ("[" * 100_000, [(1, NESTED)]),
    (GOOD + "---\n" + GOOD, "YAML không hợp lệ: but found another document"),
])
def test_yaml_features_banners_never_need_are_refused_before_expanding(content, text, expected):
    banners, found = problems_of(content, text)
    assert banners == []
    if expected is None:
        assert [m for _, m in found] == [ANCHOR.format("t"), ALIAS.format("t")]
    elif isinstance(expected, str):
        assert len(found) == 1 and found[0][0] == 7 and found[0][1].startswith(expected)
    else:
        assert found == expected


def test_duplicate_keys_are_refused_with_both_lines(content):
    banners, found = problems_of(content, GOOD + "  link: https://evil.example\n  title: Khác\n")
    assert banners == []
    assert found == [(7, "khóa “link” bị lặp lại, đã có ở dòng 4 (duplicate key)"),
                     (8, "khóa “title” bị lặp lại, đã có ở dòng 2 (duplicate key)")]


@pytest.mark.parametrize("data,line,message", [
    (GOOD.encode().replace(b"Nh\xc3\xa2n", b"Nh\xe2n"), 2,
     "tệp không phải UTF-8: hãy lưu lại với mã UTF-8 (not UTF-8: invalid continuation byte)"),
    (GOOD.encode().replace(b"order: 10", b"order: 1\x000"), 6, "tệp chứa ký tự điều khiển U+0000; hãy xóa nó (control character)"),
    (GOOD.encode().replace(b"B\xc3\xa1o", b"\x1b[2JB\xc3\xa1o"), 2,
     "tệp chứa ký tự điều khiển U+001B; hãy xóa nó (control character)"),
    (GOOD.encode() + b"# " + b"x" * 300_000 + b"\n", 1, "tệp lớn hơn 256 KB (file larger than 256 KB)"),
])
def test_bytes_that_are_not_text_are_one_problem_with_the_line(content, data, line, message):
    assert problems_of(content, data) == ([], [(line, message)])


def test_a_bom_is_fine(content):
    banners, found = problems_of(content, b"\xef\xbb\xbf" + GOOD.encode())
    assert found == [] and banners[0].title == "Báo Nhân Dân"


@pytest.mark.parametrize("title,codes", [
    ('"Báo\\x1b[2J Nhân Dân"', "U+001B"), ('"Báo\\u202e 1.234"', "U+202E"), ('"Báo\\u200bNhân"', "U+200B"),
    ('"a\\u2066b\\u2069"', "U+2066, U+2069"), ('"a\\tb"', "U+0009"), ('"a\\x85"', "U+0085"),
])
def test_control_and_invisible_characters_in_titles_are_refused(content, title, codes):
    banners, found = problems_of(content, GOOD.replace("Báo Nhân Dân", title))
    assert banners == []
    assert found == [(2, f"tiêu đề có ký tự điều khiển hoặc vô hình {codes} (có thể đảo chữ hoặc làm rối màn hình); "
                         "hãy gõ lại (control or invisible character in tiêu đề)")]


def test_an_id_with_control_characters_is_refused_and_printed_escaped(content):
    banners, found = problems_of(content, GOOD.replace("id: nhan-dan", 'id: "nhan\\x1b]0;owned\\x07-dan"'))
    assert found == [(1, "id “nhan\\x1b]0;owned\\x07-dan” chỉ gồm chữ thường không dấu, số và “-” (invalid id)")]


def test_a_refused_link_is_printed_escaped(content):
    banners, found = problems_of(content, GOOD.replace("link: https://nhandan.vn", 'link: "/\\t/evil.example/\\x1b[2J"'))
    assert found == [(4, "liên kết “/\\x09/evil.example/\\x1b[2J” không hợp lệ, có ký tự điều khiển hoặc vô hình "
                         "U+001B (control or invisible character): chỉ dùng địa chỉ http:// hoặc https:// "
                         "hoặc đường dẫn trong trang bắt đầu bằng “/” (link must be http(s) or a site path)")]


# --- through the staff's and cron's entry points ------------------------------

SITE = """- id: nhan-dan
  title: Báo Nhân Dân
  image: banners/a.jpg
  link: https://nhandan.vn
  slot: lien-ket
- id: lien-he
  title: Liên hệ
  image: banners/a.jpg
  link: '/lien-he\\mau.html'
  slot: sidebar
"""


@pytest.fixture
def site(tmp_path):
    content = new_content(tmp_path / "content")
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")  # a strict build needs them
    make_image(content / "banners" / "a.jpg")
    (content / "banners.yml").write_text(SITE, encoding="utf-8")
    write_article(content / "articles", "bai", {
        "Title": "Bài", "Date": "2020-08-01 08:00", "Category": "Xây dựng Đảng", "Summary": "Lời dẫn."})
    conf = write_settings(tmp_path / "conf.py", PATH=str(content), OUTPUT_PATH=str(tmp_path / "output"))
    return content, conf


def make(target, conf):
    return subprocess.run(["make", "-s", target, f"SETTINGS={conf}"], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def shown_path(path):
    return os.path.relpath(path, ROOT)


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_published_link_is_the_parsed_one(site, tmp_path):
    content, _ = site
    result = run_pelican(content, tmp_path / "output")
    assert result.returncode == 0, result.stdout
    from bs4 import BeautifulSoup

    page = BeautifulSoup((tmp_path / "output" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert page.select_one(".banner-slot--sidebar .banner a")["href"] == "/lien-he/mau.html"


HOSTILE_SITE_FILES = [
    (SITE.replace("'/lien-he\\mau.html'", '"/\\t/evil.example/"'), 9,
     "liên kết “/\\x09/evil.example/” không hợp lệ, đường dẫn trong trang phải bắt đầu bằng đúng một dấu “/” "
     "(a site path starts with one /): chỉ dùng địa chỉ http:// hoặc https:// hoặc đường dẫn trong trang bắt đầu "
     "bằng “/” (link must be http(s) or a site path)"),
    (LAUGHS, 1, ANCHOR.format("a")),
    (SITE.replace("title: Liên hệ", "title: !!python/object/apply:os.system ['touch /tmp/pwned-banners']"), 7,
     TAG.format("tag:yaml.org,2002:python/object/apply:os.system")),
    (SITE + "  slot: lien-ket\n", 11, "khóa “slot” bị lặp lại, đã có ở dòng 10 (duplicate key)"),
    (SITE.replace("Liên hệ", "Liên\u202e hệ"), 7, "tiêu đề có ký tự điều khiển hoặc vô hình U+202E (có thể đảo chữ "
     "hoặc làm rối màn hình); hãy gõ lại (control or invisible character in tiêu đề)"),
]


@pytest.mark.parametrize("text,line,message", HOSTILE_SITE_FILES)
def test_make_check_html_and_publish_refuse_and_leave_output_alone(site, tmp_path, text, line, message):
    content, conf = site
    output = tmp_path / "output"
    assert run_pelican(content, output).returncode == 0
    before = snapshot(output)
    banners_file = content / "banners.yml"
    banners_file.write_text(text, encoding="utf-8")
    expected = f"{shown_path(banners_file)}:{line}: {message}"
    check = make("check", conf)
    assert check.returncode != 0 and expected in check.stdout.splitlines(), check.stdout + check.stderr
    for settings, fatal in (("pelicanconf.py", "errors"), ("publishconf.py", "warnings")):
        result = run_pelican(content, output, settings=settings, fatal=fatal)
        assert result.returncode != 0
        assert expected in result.stdout.splitlines()
        assert "Traceback" not in result.stdout
        assert snapshot(output) == before
    assert not os.path.exists("/tmp/pwned-banners")


def test_make_banners_never_writes_terminal_escapes(site, tmp_path):
    content, conf = site
    hostile = "\x1b[2J\x1b]0;owned\x07\u202e"
    (content / "banners.yml").write_text(SITE.replace("title: Liên hệ", f'title: "{hostile.encode("unicode_escape").decode()}Liên hệ"'),
                                         encoding="utf-8")
    result = make("banners", conf)
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout
    assert "\u202e" not in result.stdout
    assert f"{shown_path(content / 'banners.yml')}:7: tiêu đề có ký tự điều khiển hoặc vô hình U+001B, U+0007, U+202E" \
        in result.stdout


def test_make_banners_table_cells_are_escaped():
    from banners.__main__ import table

    text = table([("id", "tiêu đề"), ("a", "Báo\x1b[31m đỏ\u202e")])
    assert text.splitlines()[2] == "a   Báo\\x1b[31m đỏ\\u202e"


@pytest.fixture(params=["outside", "/etc/passwd"])
def symlinked_image(request, site, tmp_path):
    content, conf = site
    outside = tmp_path / "elsewhere" / "secret.jpg"
    make_image(outside)
    target = outside if request.param == "outside" else request.param
    (content / "banners" / "a.jpg").unlink()
    (content / "banners" / "a.jpg").symlink_to(target)
    return content, conf, os.path.realpath(target)


def test_a_banner_image_symlinked_outside_content_is_refused(symlinked_image, tmp_path):
    content, conf, real = symlinked_image
    expected = [f"{shown_path(content / 'banners.yml')}:{line}: ảnh “banners/a.jpg”: là liên kết tượng trưng (symlink) "
                f"trỏ ra ngoài thư mục content/, tới {real}; hãy thay nó bằng chính tệp đó (a symlink leading outside "
                f"content/, to {real}: replace it with the file itself)" for line in (3, 8)]
    check = make("check", conf)
    assert [l for l in check.stdout.splitlines() if "banners.yml" in l] == expected
    result = run_pelican(content, tmp_path / "output")
    assert result.returncode != 0 and "Traceback" not in result.stdout
    assert [l for l in result.stdout.splitlines() if "banners.yml:" in l] == expected
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize("target", ["outside", "/etc/passwd"])
def test_banners_yml_symlinked_outside_content_is_refused(site, tmp_path, target):
    content, conf = site
    outside = tmp_path / "elsewhere.yml"
    outside.write_text(SITE, encoding="utf-8")
    target = outside if target == "outside" else target
    (content / "banners.yml").unlink()
    (content / "banners.yml").symlink_to(target)
    expected = (f"{shown_path(content / 'banners.yml')}:1: tệp trỏ ra ngoài thư mục content/ (liên kết tượng trưng?) "
                f"nên không được dùng (resolves outside content/, to {os.path.realpath(target)})")
    check = make("check", conf)
    assert expected in check.stdout.splitlines() and "root:" not in check.stdout
    result = run_pelican(content, tmp_path / "output")
    assert result.returncode != 0 and expected in result.stdout.splitlines()
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize("change,line,message", [
    ("start: 2020-02-30", 7, "start: “2020-02-30” không phải ngày hợp lệ; viết 2020-09-02 (date must be YYYY-MM-DD)"),
    ("end: 9999-12-31", 7, "end: “9999-12-31” không phải ngày hợp lệ; viết 2020-09-02 (date must be YYYY-MM-DD)"),
    ("new_tab: 2020-13-01", 7, "new_tab phải là true hoặc false (new_tab must be true or false)"),
])
def test_values_yaml_cannot_construct_are_problems_not_tracebacks(content, change, line, message):
    assert problems_of(content, GOOD + f"  {change}\n") == ([], [(line, message)])


def test_a_file_of_aliases_is_reported_in_fifty_lines(content):
    banners, found = problems_of(content, "a: &a x\n" + "".join(f"b{i}: *a\n" for i in range(5000)))
    assert banners == [] and len(found) == 50
    assert found[:2] == [(1, ANCHOR.format("a")), (2, ALIAS.format("a"))]
