"""The allowlist sanitiser (issue 9, Severe 1), through `make check`,
`make html`, `make publish` and a devserver-style build of a project copy.

VECTORS is our own list of filter-evasion vectors in the style of the
OWASP XSS cheat sheet (SVG and MathML included); each becomes an article.
tests/test_browser_sanitiser.py proves the same vectors inert in Chromium.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, project_copy, write_article

# Payloads set window.__xss (or alert) when they run; the browser test
# checks neither happened.
X = "window.__xss=1"
# (id, where, Markdown, line of the first problem or None when nothing is
# removed because nothing there is markup to a browser either).
# Body vectors start on line 7 (after a 5-line header), Summary vectors are on line 4.
VECTORS = [
    ("script", "body", f"<script>{X}</script>", 7),
    ("script-uppercase", "body", f"<SCRIPT SRC=data:text/javascript,{X}></SCRIPT>", 7),
    ("img-onerror", "body", f'<img src=x onerror="{X}">', 7),
    # Markdown makes code spans of the backticks: no attribute is left to run
    ("img-backticks", "body", f"<img src=`x` onerror=`{X}`>", None),
    ("body-onload", "body", f'<body onload="{X}">', 7),
    ("svg-onload", "body", f'<svg onload="{X}"></svg>', 7),
    ("svg-animate-href", "body",
     f'<svg><a><animate attributeName="href" to="javascript:{X}"/><text x="20" y="20">bấm</text></a></svg>', 7),
    ("svg-set-href", "body",
     f'<svg><a><set attributeName="href" to="javascript:{X}"/><text x="20" y="20">bấm</text></a></svg>', 7),
    ("svg-xlink-href", "body",
     f'<svg><a xlink:href="javascript:{X}"><text x="20" y="20">bấm</text></a></svg>', 7),
    ("svg-use-data", "body",
     "<svg><use href=\"data:image/svg+xml,&lt;svg id='x' xmlns='http://www.w3.org/2000/svg'&gt;"
     f"&lt;image href='1' onerror='{X}'/&gt;&lt;/svg&gt;#x\"/></svg>", 7),
    ("svg-foreignobject", "body",
     f'<svg><foreignObject><iframe srcdoc="&lt;script&gt;parent.__xss=1&lt;/script&gt;"></iframe></foreignObject></svg>', 7),
    ("math-maction", "body",
     f'<math><maction actiontype="statusline" xlink:href="javascript:{X}">bấm<mtext>x</mtext></maction></math>', 7),
    ("math-href", "body", f'<math href="javascript:{X}"><mtext>bấm</mtext></math>', 7),
    ("math-mglyph-style", "body",
     f'<math><mtext><table><mglyph><style><img src=x onerror="{X}"></style></mglyph></table></mtext></math>', 7),
    ("iframe-srcdoc", "body", '<iframe srcdoc="&lt;script&gt;parent.__xss=1&lt;/script&gt;"></iframe>', 7),
    ("iframe-js", "body", f'<iframe src="javascript:parent.__xss=1"></iframe>', 7),
    ("object-data", "body", f'<object data="javascript:{X}"></object>', 7),
    ("embed-data", "body", '<embed src="data:text/html,&lt;script&gt;parent.__xss=1&lt;/script&gt;">', 7),
    ("meta-refresh", "body", f'<meta http-equiv="refresh" content="0;url=javascript:{X}">', 7),
    ("base-href", "body", f'<base href="javascript:{X}//">', 7),
    ("link-import", "body", '<link rel="stylesheet" href="data:text/css,*{background:red}">', 7),
    ("form-action", "body", f'<form action="javascript:{X}"><button>Gửi</button></form>', 7),
    ("button-formaction", "body", f'<button formaction="javascript:{X}">Gửi</button>', 7),
    ("input-autofocus", "body", f'<input autofocus onfocus="{X}">', 7),
    # Pelican's {tag}/{index} rewriting after the sanitiser: a quote inside a
    # title once ended the attribute early and the next value became onfocus=
    ("pelican-rewrite-title", "body",
     "Chữ <abbr title=\"q href='{tag}zz\">HĐND</abbr> it's <a title=\" tabindex=0 autofocus "
     "onfocus=self[String.fromCharCode(95,95,120,115,115)]=1 x=\">y</a> end.", None),
    ("pelican-rewrite-markdown", "body",
     "Hội đồng [nhân dân](https://ok.example \"x href='{index}\") tỉnh's UBND end.\n\n"
     "*[UBND]: tabindex=0 autofocus onfocus=self[String.fromCharCode(95,95,120,115,115)]=1 x=", None),
    ("pelican-rewrite-summary", "summary",
     "Chữ <abbr title=\"q href='{index}zz\">HĐND</abbr> it's <a title=\" tabindex=0 autofocus "
     "onfocus=self[String.fromCharCode(95,95,120,115,115)]=1 x=\">y</a> end.", None),
    ("style-url", "body", f'<div style="background:url(javascript:{X})">x</div>', 7),
    ("style-expression", "body", f'<p style="width:expression({X})">x</p>', 7),
    ("style-tag", "body", f'<style>@import "javascript:{X}"; body {{ background: red }}</style>', 7),
    ("details-ontoggle", "body", f'<details open ontoggle="{X}"><summary>x</summary></details>', 7),
    ("template", "body", f'<template><img src=x onerror="{X}"></template>', 7),
    ("noscript-mxss", "body", f'<noscript><p title="</noscript><img src=x onerror={X}>"></noscript>', 7),
    ("video-source", "body", f'<video><source onerror="{X}"></video>', 7),
    ("marquee", "body", f'<marquee onstart="{X}">x</marquee>', 7),
    ("a-data", "body", '<a href="data:text/html,&lt;script&gt;parent.__xss=1&lt;/script&gt;">bấm</a>', 7),
    ("a-vbscript", "body", '<a href="vbscript:msgbox(1)">bấm</a>', 7),
    ("a-entities", "body", f'<a href="jav&#x61;script&#58;{X}">bấm</a>', 7),
    ("a-tab-entity", "body", f'<a href="jav&#09;ascript:{X}">bấm</a>', 7),
    ("a-newline-entity", "body", f'<a href="java&#x0A;script:{X}">bấm</a>', 7),
    ("a-control-prefix", "body", f'<a href=" &#14; javascript:{X}">bấm</a>', 7),
    # the line where the tag is complete: Markdown sees no tag before it
    ("a-split-line", "body", f'<a href="java\nscript:{X}">bấm</a>', 8),
    ("a-unclosed", "body", f'<a href="javascript:{X}">bấm', 7),
    ("a-target", "body", 'Xem <a href="https://nhandan.vn" target="_blank" onmouseover="window.__xss=1">đây</a>', 7),
    ("md-link", "body", f"[bấm](javascript:{X})", 7),
    ("md-link-entity", "body", f"[bấm](jav&#x61;script:{X})", 7),
    ("md-link-angle", "body", f"[bấm](<javascript:{X}>)", 7),
    ("md-reference", "body", f"Đoạn [bấm][x].\n\n[x]: javascript:{X}", 9),
    ("md-image-data", "body", '![ảnh](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+ "c")', 7),
    ("md-image-outside", "body", '![ảnh](https://evil.example/a.png "c")', 7),
    ("md-attr-list", "body", f'## Tiêu đề {{: onclick="{X}" }}', 7),
    ("md-attr-list-image", "body", f'Ảnh ![a](anh.jpg){{: onerror="{X}" }} trong câu.', 7),
    # Pelican rewrites {category}x after the sanitiser and keeps x's scheme:
    # this became javascript:/a/?window.__xss=1:0
    ("pelican-indicator", "body", f'<a href="{{category}}javascript:a?{X}:0">bấm</a>', 7),
    ("pelican-indicator-md", "body", f"[bấm]({{category}}javascript:a?{X}:0)", 7),
    ("pelican-indicator-img", "body", '![ảnh]({static}https://evil.example/a.png "c")', 7),
    ("pseudo-tag-scheme", "body", f"<javascript:{X}>", 7),
    ("comment-trick", "body", f'<!--><img src=x onerror="{X}">-->', 7),
    ("cdata-trick", "body", f'<![CDATA[<img src=x onerror="{X}">]]>', 7),
    ("comment-only", "body", f"<!-- <script>{X}</script> -->", None),
    ("unclosed-img", "body", f'Đoạn <img src=x onerror="{X}"', None),
    ("code-span", "body", f"Mã `<script>{X}</script>` trong câu.", None),
    ("summary-link", "summary", f"Xem [đây](javascript:{X}).", 4),
    ("summary-img", "summary", f'Lời dẫn <img src=x onerror="{X}">.', 4),
    ("summary-svg", "summary", f'Lời dẫn <svg><animate onbegin="{X}" attributeName="x" dur="1s"/></svg>.', 4),
]
ACTIVE = {"script", "style", "svg", "math", "iframe", "object", "embed", "form", "meta", "base", "link",
          "template", "noscript", "details", "input", "button", "video", "marquee", "body", "animate", "set"}


def slug_of(vector_id):
    return f"vector-{vector_id}"


def write_vector(content, vector_id, where, text):
    header = {"Title": f"Bài thử {vector_id}", "Date": "2020-03-23 08:15", "Category": "Xây dựng Đảng",
              "Summary": text if where == "summary" else "Lời dẫn.", "Slug": slug_of(vector_id)}
    body = "Đoạn đầu.\n" if where == "summary" else text + "\n"
    return write_article(content / "articles" / "xay-dung-dang", vector_id, header, body)


def make_project(root):
    """A copy of the project with one ordinary article; `make` runs on it."""
    content = project_copy(root) / "content"
    write_article(content / "articles" / "xay-dung-dang", "bai-viet-binh-thuong",
                  {"Title": "Bài viết bình thường", "Date": "2020-03-20 08:00", "Category": "Xây dựng Đảng",
                   "Summary": "Lời dẫn **đậm**."},
                  "## Mục một\n\n| Cột | Số |\n|:---|---:|\n| a | 1 |\n\n> Trích dẫn.\n\n"
                  "[Nhân Dân](https://nhandan.vn), [thư](mailto:a@b.vn), [mục](/xay-dung-dang/).\n")
    return root


def make(project, *args):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", COLUMNS="200")
    return subprocess.run(["make", "-s", "-o", ".venv/.site-requirements", *args], cwd=project, env=env,
                          text=True, encoding="utf-8", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=900)


def devserver_build(project, output="output.dev"):
    """The build `make devserver` runs (not fatal), once, without serving."""
    return subprocess.run(
        [".venv/bin/python", "-m", "pelican", "content", "-o", output, "-s", "pelicanconf.py",
         "--log-handler", "plain"], cwd=project, text=True, encoding="utf-8",
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", COLUMNS="200"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)


PROBLEM = re.compile(r"^content/\S+:\d+: ")


def problem_lines(stdout):
    """The ``path:line: message`` lines (not the summaries after them)."""
    return sorted(line for line in stdout.splitlines() if PROBLEM.match(line))


def snapshot(folder):
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clean_project(tmp_path_factory):
    """A project copy whose output/ holds a good site."""
    root = make_project(tmp_path_factory.mktemp("sanitiser") / "portal")
    result = make(root, "html")
    assert result.returncode == 0, result.stdout
    return root


@pytest.fixture(scope="module")
def hostile(clean_project, tmp_path_factory):
    """The project copy with every vector added; `make check`, a devserver
    build and `make html` / `make publish` run once each."""
    root = tmp_path_factory.mktemp("hostile") / "portal"
    shutil.copytree(clean_project, root, symlinks=True)
    for vector_id, where, text, _line in VECTORS:
        write_vector(root / "content", vector_id, where, text)
    before = snapshot(root / "output")
    runs = {"check": make(root, "check"), "dev": devserver_build(root),
            "html": make(root, "html"), "publish": make(root, "publish")}
    return root, before, runs


def vector_path(vector_id):
    return f"content/articles/xay-dung-dang/{vector_id}/index.md"


def test_make_check_and_the_build_report_the_same_lines(hostile):
    """One function reports for both: the same lines, in make check and in
    the build make devserver runs (which goes on past errors)."""
    _, _, runs = hostile
    check, dev = problem_lines(runs["check"].stdout), problem_lines(runs["dev"].stdout)
    assert runs["check"].returncode != 0
    assert runs["dev"].returncode == 0, runs["dev"].stdout
    assert check == dev
    assert "Traceback" not in runs["check"].stdout + runs["dev"].stdout


@pytest.mark.parametrize("vector_id,line", [(v[0], v[3]) for v in VECTORS])
def test_each_vector_is_reported_at_its_line(hostile, vector_id, line):
    _, _, runs = hostile
    mine = [p for p in problem_lines(runs["check"].stdout) if p.startswith(vector_path(vector_id) + ":")]
    if line is None:
        assert mine == []
    else:
        assert mine and all(p.startswith(f"{vector_path(vector_id)}:{line}: ") for p in mine), mine


def test_exact_messages(hostile):
    _, _, runs = hostile
    lines = problem_lines(runs["check"].stdout)
    assert (f"{vector_path('svg-animate-href')}:7: thẻ <animate> không được phép trong bài và đã bị loại bỏ "
            "khỏi trang; hãy xóa nó (tag <animate> removed: not allowed in articles)") in lines
    assert (f"{vector_path('img-onerror')}:7: thuộc tính onerror= của thẻ <img> không được phép và đã bị "
            "loại bỏ; hãy xóa nó (attribute onerror= on <img> removed: not allowed)") in lines
    assert (f"{vector_path('md-reference')}:9: liên kết không an toàn 'javascript:window.__xss=1' đã bị "
            "loại bỏ: chỉ dùng http://, https://, mailto:, tel: hoặc đường dẫn trong trang "
            "(unsafe link scheme javascript:)") in lines
    assert (f"{vector_path('md-image-outside')}:7: ảnh 'https://evil.example/a.png' không phải ảnh của "
            "trang và đã bị loại bỏ: chỉ dùng ảnh đặt cạnh bài viết, ghi tên tệp như "
            "![Mô tả](anh.jpg \"Chú thích\") (image removed: only the site's own images are allowed)") in lines
    assert (f"{vector_path('comment-trick')}:7: đoạn HTML viết sai (thẻ hoặc chú thích <!-- --> không đóng "
            "đúng) đã bị trình lọc sửa hoặc loại bỏ; hãy viết lại đoạn đó bằng Markdown hoặc xóa nó "
            "(malformed HTML changed by the sanitiser)") in lines


@pytest.mark.parametrize("target", ["html", "publish"])
def test_make_html_and_publish_refuse_and_leave_output_as_it_was(hostile, target):
    root, before, runs = hostile
    result = runs[target]
    assert result.returncode != 0
    assert "Traceback" not in result.stdout
    printed = problem_lines(result.stdout)
    check = problem_lines(runs["check"].stdout)
    assert printed and set(printed) <= set(check)  # make html stops at the first article
    if target == "publish":
        assert printed == check  # make publish runs make check first
    assert snapshot(root / "output") == before


def test_devserver_previews_only_sanitised_drafts(hostile):
    root, _, _ = hostile
    out = root / "output.dev"
    for vector_id, _, _, line in VECTORS:
        page = out / "ban-nhap" / f"{slug_of(vector_id)}.html"
        published = out / "xay-dung-dang" / f"{slug_of(vector_id)}.html"
        if line is not None:
            assert page.exists() and not published.exists(), vector_id  # errors: draft only
        else:
            page = published
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for part in soup.select(".article__body, .article__lead"):
            for element in part.find_all(True):
                assert element.name not in ACTIVE, (vector_id, str(element))
                for name, value in element.attrs.items():
                    value = " ".join(value) if isinstance(value, list) else value
                    assert not name.startswith("on") and name != "style", (vector_id, str(element))
                    assert "__xss" not in value and "script" not in value.lower(), (vector_id, str(element))


def test_the_normal_article_keeps_its_markup(hostile):
    root, _, _ = hostile
    soup = BeautifulSoup((root / "output.dev/xay-dung-dang/bai-viet-binh-thuong.html").read_text(
        encoding="utf-8"), "html.parser")
    body = soup.select_one(".article__body")
    assert [a["href"] for a in body.find_all("a")] == ["https://nhandan.vn", "mailto:a@b.vn", "/xay-dung-dang/"]
    assert [td.get("align") for td in body.find_all("td")] == ["left", "right"]
    assert body.find("blockquote") and body.find("h2").text == "Mục một"
    assert soup.select_one(".article__lead strong").text == "đậm"


def test_sanitiser_core_table():
    """The pure core, on fragments as Markdown renders them."""
    from content_check.sanitiser import clean, removals

    assert clean('<figure class="figure"><img src="anh.jpg" alt="a" loading="lazy" decoding="async">'
                 '<figcaption>c</figcaption></figure>') == (
        '<figure class="figure"><img src="anh.jpg" alt="a" loading="lazy" decoding="async">'
        '<figcaption>c</figcaption></figure>')
    # one class outside the list removes the attribute (and is reported so)
    assert clean('<div class="gallery evil">x</div>') == '<div>x</div>'
    assert clean('<table><tr><td colspan="2" rowspan="x">1</td></tr></table>') == (
        '<table><tbody><tr><td colspan="2">1</td></tr></tbody></table>')
    assert [r.kind for r in removals('<a href="tel:0271">a</a><img src="//evil/x.png"><img src="/\\evil">')] == [
        "image", "image"]
    assert removals('<p class="lead">x</p>')[0].name == "class"


WORD_PASTE = (
    '<p align="center">Nguồn: TTXVN</p>\n\n'
    '<p>Đoạn <span style="font-size:12.0pt;font-family:Times New Roman">dán từ Word</span>, '
    '<font face="Arial">chữ cũ</font>, <u>gạch chân</u>, <s>gạch ngang</s>, '
    '<a href="https://nhandan.vn" target="_blank">Nhân Dân</a>.</p>\n'
)


def test_pasted_looks_are_warnings_and_the_article_stays_published(tiny_content, tmp_path):
    """What only changes looks (Word's style=, <font>) is removed with a
    warning: `make html` publishes the article as written, `make publish`
    (warnings fatal) stops; what articles use (align, target=_blank, <u>,
    <s>) is kept."""
    from conftest import build, run_pelican

    source = write_article(tiny_content / "articles", "bai-dan-tu-word", {
        "Title": "Bài dán từ Word", "Date": "2020-03-23 08:15", "Category": "Xây dựng Đảng"}, WORD_PASTE)
    site = build(tiny_content, tmp_path / "html")
    shown = os.path.relpath(source, ROOT)
    assert f"{shown}:7: cảnh báo: thuộc tính style= của thẻ <span> không được phép và đã bị loại bỏ; hãy xóa " \
           "nó (attribute style= on <span> removed: not allowed)" in site.log
    assert f"{shown}:7: cảnh báo: thẻ <font> không được phép trong bài và đã bị loại bỏ khỏi trang; hãy xóa nó " \
           "(tag <font> removed: not allowed in articles)" in site.log
    body = site.soup("xay-dung-dang/bai-dan-tu-word.html").select_one(".article__body")
    assert body.select_one('p[align="center"]').get_text() == "Nguồn: TTXVN"
    assert body.select_one('a[target="_blank"]')["href"] == "https://nhandan.vn"
    assert body.u.get_text() == "gạch chân" and body.s.get_text() == "gạch ngang"
    assert not body.select("[style], font") and "dán từ Word" in body.get_text()
    strict = run_pelican(tiny_content, tmp_path / "publish" / "output", fatal="warnings")
    assert strict.returncode != 0 and "Traceback" not in strict.stdout


def test_a_style_that_tries_something_is_an_error():
    from content_check.sanitiser import markup_problems

    text = 'Title: x\n\n<p style="background:url(/x.png)">a</p>\n\n<p style="color:red">b</p>\n'
    found = markup_problems("a.md", text, lambda t: (t.split("\n\n", 1)[-1],))
    assert [(p.line, p.severity) for p in found] == [(3, "error"), (5, "warning")]
