"""The sanitiser's vectors are inert in a real browser, not only absent
from the HTML (issue 9, Severe 1).

One build (as `make devserver` does it: errors do not stop it, the
articles preview as drafts), one page per group of vectors. On each page
every element of the body and lead gets pointer events, the focus and a
click (synthetic, then a real mouse on the visible ones), and animations
get time to run; no dialog may open and ``window.__xss`` (which
every payload sets) must stay unset. A control page holding one payload
unsanitised proves the harness does see script that runs.
"""

import pytest
from browser import new_page, serve
from conftest import new_content, run_pelican, write_article
from test_sanitiser import VECTORS, X

GROUP_SIZE = 10
# Unsanitised pages: script that runs when the page loads, when a link is
# clicked, when an element is hovered, when one takes the focus.
CONTROLS = {
    "load": f'<img src="x" onerror="{X}">',
    "click": f'<p>Xem <a href="javascript:{X}">đây</a>.</p>',
    # what Pelican made of href="{category}javascript:a?...:0" before the fix
    "click-pelican": f'<p>Xem <a href="javascript:/a/?{X}:0">đây</a>.</p>',
    "hover": f'<p onmouseover="{X}">Đoạn văn.</p>',
    "focus": f'<p><a href="#" onfocus="{X}">đây</a></p>',
}


def groups():
    body = [v for v in VECTORS if v[1] == "body"]
    for start in range(0, len(body), GROUP_SIZE):
        yield f"nhom-{start // GROUP_SIZE + 1}", body[start:start + GROUP_SIZE], []
    yield "nhom-loi-dan", [], [v for v in VECTORS if v[1] == "summary"]


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    workdir = tmp_path_factory.mktemp("browser-sanitiser")
    content = new_content(workdir / "content")
    slugs = []
    for slug, body, summary in groups():
        header = {"Title": f"Nhóm {slug}", "Date": "2020-03-23 08:15", "Category": "Xây dựng Đảng",
                  "Summary": " ".join(v[2] for v in summary) or "Lời dẫn.", "Slug": slug}
        text = "\n\n".join(v[2] for v in body) or "Đoạn đầu."
        write_article(content / "articles", slug, header, text + "\n")
        slugs.append(slug)
    output = workdir / "output"
    result = run_pelican(content, output, fatal=None)
    assert result.returncode == 0, result.stdout
    for name, payload in CONTROLS.items():
        (output / f"control-{name}.html").write_text(
            f'<!DOCTYPE html><html><body><div class="article__body">{payload}</div></body></html>', encoding="utf-8")
    with serve(output) as url:
        yield url, slugs


SELECTOR = ".article__body *, .article__lead *"
# Links to http(s), mailto and tel cannot run script here; they are kept
# from leaving the page so every other element still gets its turn. Any
# other link (javascript:, data:...) is followed.
STAY = """() => document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href]");
    if (link && /^(https?|mailto|tel):$/.test(link.protocol)) event.preventDefault();
}, true)"""
# Every event an inline handler or an SVG animation could wait for.
POKE = """(selector) => {
    for (const element of document.querySelectorAll(selector)) {
        for (const type of ["pointerover", "pointerenter", "mouseover", "mouseenter", "mousemove",
                            "pointerdown", "mousedown", "pointerup", "mouseup", "focusin"]) {
            element.dispatchEvent(new MouseEvent(type, {bubbles: true}));
        }
        if (element.focus) element.focus();
        if (element.click) element.click();
        element.dispatchEvent(new Event("toggle"));
    }
    return document.querySelectorAll(selector).length;
}"""


def exercise(browser, url):
    """Open ``url``; every element of the article gets synthetic pointer
    events, the focus and a click, then a real mouse moves over and clicks
    each visible one; animations get time to run. Returns (dialogs,
    window.__xss)."""
    watched = new_page(browser, 1280)
    page = watched.page
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        page.goto(url, wait_until="load")
        page.evaluate(STAY)
        assert page.evaluate(POKE, SELECTOR) > 0
        for box in page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
                .map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0)
                .map((r) => [r.x + r.width / 2, r.y + r.height / 2])""", SELECTOR):
            page.mouse.move(*box)
            page.mouse.click(*box)
        page.wait_for_timeout(1500)  # SVG animations (begin/dur) and autofocus
        return dialogs, page.evaluate("window.__xss")
    finally:
        watched.context.close()


@pytest.mark.parametrize("control", sorted(CONTROLS))
def test_the_harness_sees_script_that_runs(site, browser, control):
    url, _ = site
    _dialogs, xss = exercise(browser, f"{url}/control-{control}.html")
    assert xss == 1


@pytest.mark.parametrize("group", [g[0] for g in groups()])
def test_vectors_are_inert_in_chromium(site, browser, group):
    url, slugs = site
    assert group in slugs
    dialogs, xss = exercise(browser, f"{url}/ban-nhap/{group}.html")
    assert dialogs == [] and xss is None
