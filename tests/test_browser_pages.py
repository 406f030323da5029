"""The home page and the seed article in headless Chromium, phone and desktop."""

import pytest

from browser import new_page, screenshot

SEED = "/xay-dung-dang/ket-qua-va-mot-so-kinh-nghiem-tu-dai-hoi-diem-cap-co-so.html"


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("path,name", [("/", "home"), (SEED, "seed-article")])
def test_page_renders_cleanly(browser, base_url, path, name, width):
    watched = new_page(browser, width)
    page = watched.page
    response = page.goto(base_url + path, wait_until="load")
    assert response.status == 200
    # every image loads (lazy ones too, once scrolled into view)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    broken = page.evaluate(
        "[...document.images].filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"
    )
    assert broken == []
    screenshot(page, f"{name}-{width}")
    assert watched.console_errors == []
    assert watched.outside_requests == []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"horizontal scrolling of {overflow}px at {width}px"
    sidebar = page.locator(".sidebar").bounding_box()
    main = page.locator(".main").bounding_box()
    if width >= 900:
        assert sidebar["x"] > main["x"] + main["width"] - 1, "sidebar sits right of the content"
    else:
        assert sidebar["y"] >= main["y"] + main["height"] - 1, "sidebar goes below the content"
    watched.context.close()


def test_seed_article_prints_without_chrome(browser, base_url):
    watched = new_page(browser, 1280)
    page = watched.page
    page.goto(base_url + SEED)
    page.emulate_media(media="print")
    assert page.locator(".sidebar").is_hidden()
    assert page.locator(".main-menu").is_hidden()
    assert page.locator(".article__title").is_visible()
    watched.context.close()
