"""Site search (plugins/site_search): the đ→d fold, what the built pages give
Pagefind, and what Pagefind put in the index of the sample site."""

import gzip
import json
import re
import unicodedata
from types import SimpleNamespace

import pytest

from conftest import ROOT, build, run_pelican, write_article
from site_search.build import update
from site_search.shards import IndexedPage
from site_search import (
    DEFAULT_EXCLUDE_SELECTORS,
    SearchIndexError,
    _index,
    d_words,
    fold_d,
    html_to_text,
    pagefind_command,
    run_pagefind,
    search_fold,
)

DRAFT_TITLE = "Công an Bình Long đẩy mạnh phong trào toàn dân bảo vệ an ninh Tổ quốc"
SEED = "xay-dung-dang/ket-qua-va-mot-so-kinh-nghiem-tu-dai-hoi-diem-cap-co-so.html"


def nfd(text):
    return unicodedata.normalize("NFD", text)


# --- the fold ---------------------------------------------------------------

def test_fold_d_changes_only_d_with_stroke():
    assert fold_d("Đại hội Đảng bộ xã Đồng Tiến") == "Dại hội Dảng bộ xã Dồng Tiến"
    assert fold_d("Bầu trực tiếp bí thư") == "Bầu trực tiếp bí thư"
    assert fold_d("") == "" and fold_d(None) == ""


def test_fold_d_reads_nfd_like_nfc():
    assert fold_d(nfd("Đảng bộ")) == fold_d("Đảng bộ") == "Dảng bộ"
    assert unicodedata.is_normalized("NFC", fold_d(nfd("Đồng Phú")))


def test_d_words_are_folded_once_each_in_order():
    text = "Đại hội đại biểu Đảng bộ huyện, đảng viên và Đại hội đoàn"
    assert d_words(text) == ["dại", "dảng", "doàn"]
    assert d_words("Bầu trực tiếp bí thư") == []
    # NFD typing gives the same words
    assert d_words(nfd(text)) == d_words(text)


def test_search_fold_reads_html_and_several_parts():
    lead = "<p>Đại hội Đảng bộ xã <strong>Đồng&nbsp;Tiến</strong> &amp; Đắk Ơ</p>"
    caption = "Quang cảnh đại hội điểm"
    assert search_fold(lead, "<figure><figcaption>Đoàn viên</figcaption></figure>", caption) == (
        "dại dảng dồng dắk doàn diểm"
    )
    assert search_fold("<p>Bầu trực tiếp</p>") == ""
    assert search_fold(None, "") == ""
    assert html_to_text("<p>a&lt;b</p>").strip() == "a<b"


def test_search_js_folds_like_python():
    """search.js carries its own copy of the fold; keep the two in step."""
    js = (ROOT / "theme/static/js/search.js").read_text(encoding="utf-8")
    assert "s.replace(/đ/g, 'd').replace(/Đ/g, 'D')" in js
    assert "normalize('NFC')" in js
    code = js.split("*/", 1)[1]  # past the header comment
    assert "innerHTML" not in code and "insertAdjacentHTML" not in code and "outerHTML" not in code


def test_pagefind_command():
    command = pagefind_command("/site", "/cache/2020/bundle", DEFAULT_EXCLUDE_SELECTORS)
    assert command[1:3] == ["-m", "pagefind"]
    assert command[command.index("--site") + 1] == "/site"
    assert command[command.index("--output-path") + 1] == "/cache/2020/bundle"
    assert command[command.index("--force-language") + 1] == "vi"
    excluded = [command[i + 1] for i, a in enumerate(command) if a == "--exclude-selectors"]
    assert excluded == DEFAULT_EXCLUDE_SELECTORS


def test_a_page_without_the_marker_is_never_indexed(tmp_path):
    """Pagefind would index a page without data-pagefind-body whole (menus,
    sidebar): such a page is left out, and with nothing else, no index."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site/index.html").write_text("<html><body><h1>Trang chủ</h1></body></html>", encoding="utf-8")
    pages = [IndexedPage("index.html")]
    assert update(tmp_path / "site", pages, tmp_path / "cache", []) is None
    assert not (tmp_path / "cache").exists()


def test_pagefind_failure_is_a_search_index_error(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site/a.html").write_text("<html><body><main data-pagefind-body>Chữ</main></body></html>",
                                          encoding="utf-8")
    with pytest.raises(SearchIndexError, match="Pagefind failed"):
        run_pagefind(tmp_path / "site", ["a.html"], tmp_path / "work/bundle", ["[[["])
    assert not (tmp_path / "work/site").exists()  # the folder of links is gone


def test_a_site_without_indexable_page_gets_no_index(tmp_path):
    """A run that found no published article or page publishes no index
    (and drops one a tree started from the published site would hold)."""
    (tmp_path / "pagefind/2019").mkdir(parents=True)
    (tmp_path / "pagefind/2019/pagefind.js").write_text("", encoding="utf-8")
    from portal.settings import fill_defaults

    settings = fill_defaults({"CACHE_PATH": str(tmp_path / "cache")})
    settings.update({"SEARCH_SHARD_MAX_PAGES": 1000, "SEARCH_SHARDING": "year", "SEARCH_WORKERS": 1})
    _index(SimpleNamespace(settings=settings, output_path=str(tmp_path)))
    assert not (tmp_path / "pagefind").exists()


def test_make_publish_of_a_site_with_nothing_to_index_says_so(tiny_content, tmp_path):
    import shutil
    shutil.copytree(ROOT / "content" / "feeds", tiny_content / "feeds")
    result = run_pelican(tiny_content, tmp_path / "output", settings="publishconf.py", fatal="warnings")
    assert result.returncode == 1, result.stdout
    assert "Chưa có bài viết hay trang nào để lập chỉ mục tìm kiếm" in result.stdout
    assert "Traceback" not in result.stdout
    assert not (tmp_path / "output").exists()


def test_pagefind_failure_fails_the_build_and_keeps_the_last_output(tiny_content, tmp_path):
    header = {"Title": "Đại hội Đảng bộ xã Đồng Tiến", "Date": "2020-03-23 08:15",
              "Category": "Xây dựng Đảng", "Summary": "Đại hội điểm."}
    write_article(tiny_content / "articles", "bai", header, "Đồng chí Bí thư được bầu trực tiếp.\n")
    good = build(tiny_content, tmp_path)
    assert good.exists("pagefind/2020/pagefind.js")
    entry = good.text("pagefind/2020/pagefind-entry.json")
    shards = good.text("pagefind/shards.json")
    # an invalid selector makes Pagefind itself fail
    result = run_pelican(tiny_content, good.output, cache=tmp_path / "cache",
                         extra=["-e", 'SEARCH_EXCLUDE_SELECTORS=["[[["]'])
    assert result.returncode != 0
    assert "Pagefind failed" in result.stdout
    assert good.text("pagefind/2020/pagefind-entry.json") == entry
    assert good.text("pagefind/shards.json") == shards
    assert good.exists("index.html")


# --- the sample site ---------------------------------------------------------

def read_fragments(site):
    """Every page Pagefind indexed, in every shard, as stored for the browser."""
    pages = []
    for path in sorted(site.path("pagefind").glob("*/fragment/*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd")
        pages.append(json.loads(data[12:]))
    return pages


@pytest.fixture(scope="module")
def fragments(sample_site):
    return read_fragments(sample_site)


def published(sample_site):
    """URLs of the published articles and pages, from the sitemap."""
    locs = re.findall(r"<loc>([^<]+)</loc>", sample_site.text("sitemap.xml"))
    urls = [loc.split("binhphuoc.gov.vn", 1)[1] for loc in locs]
    return {u for u in urls if u.endswith(".html") and u != "/404.html"}


def test_index_holds_every_article_and_page_and_no_draft(sample_site, fragments):
    urls = {f["url"] for f in fragments}
    assert urls == published(sample_site)
    assert len(urls) == 24  # 22 articles and 2 pages
    assert "/gioi-thieu.html" in urls and "/lien-he.html" in urls
    assert not any("ban-nhap" in u for u in urls)
    assert DRAFT_TITLE not in {f["meta"]["title"] for f in fragments}
    shards = json.loads(sample_site.text("pagefind/shards.json"))["shards"]
    assert shards == [{"name": "2020", "pages": 24}]  # the static pages join the newest year
    for shard in shards:
        entry = json.loads(sample_site.text(f"pagefind/{shard['name']}/pagefind-entry.json"))
        assert entry["languages"]["vi"]["page_count"] == shard["pages"]
    # only what the search page loads is published (no Pagefind UI, worker or playground)
    assert sorted(p.name for p in sample_site.path("pagefind/2020").iterdir()) == sorted(
        ["filter", "fragment", "index", "pagefind-entry.json", "pagefind.js", "wasm.unknown.pagefind"]
        + [p.name for p in sample_site.path("pagefind/2020").glob("*.pf_meta")])


def test_draft_page_carries_nothing_for_pagefind(sample_site):
    drafts = list(sample_site.path("ban-nhap").glob("*.html"))
    assert drafts, "the development build previews the draft"
    for path in drafts:
        html = path.read_text(encoding="utf-8")
        assert "data-pagefind-body" not in html
        assert "data-pagefind-meta" not in html and "data-pagefind-filter" not in html


def test_index_holds_only_what_readers_read(sample_site, fragments):
    soup = sample_site.soup(SEED)
    seed = next(f for f in fragments if f["url"] == "/" + SEED)
    text = seed["content"]
    body = soup.select_one("[data-pagefind-body]")
    # title, lead, body and captions
    assert text.startswith(soup.h1.get_text(strip=True))
    assert soup.select_one(".article__lead").get_text(" ", strip=True)[:60] in text
    for caption in soup.select("figcaption"):
        assert caption.get_text(" ", strip=True) in text
    # not the chrome around it, nor the parts of the article that are not text
    for selector in [".main-menu", ".sidebar", ".site-footer", ".block--related", ".comments", ".breadcrumb",
                     ".article__date", ".article__byline", ".article__extras", ".skip-link"]:
        for element in soup.select(selector):
            inside = body in element.parents
            ignored = element.find_parent(attrs={"data-pagefind-ignore": True}) or element.has_attr(
                "data-pagefind-ignore") or selector in DEFAULT_EXCLUDE_SELECTORS
            assert not inside or ignored, selector
    for never in ["Trang chủ ›", "Các tin khác", "Bình luận", "Cơ quan chủ quản", "Liên kết website",
                  "Chủ đề:", "Thứ Năm, 26/03/2020", "Bỏ qua menu"]:
        assert all(never not in f["content"] for f in fragments), never


def test_exclusions_match_the_theme(sample_site):
    """The selectors the plugin excludes exist inside the article body."""
    body = sample_site.soup(SEED).select_one("[data-pagefind-body]")
    for selector in DEFAULT_EXCLUDE_SELECTORS:
        assert body.select(selector), selector


def test_article_head_carries_filters_and_folded_words(sample_site, fragments):
    head = sample_site.soup(SEED).head
    filters = {m["data-pagefind-filter"]: m["content"] for m in head.select("meta[data-pagefind-filter]")}
    assert filters == {"category[content]": "Xây dựng Đảng", "year[content]": "2020", "date[content]": "26/03/2020"}
    meta = {m["data-pagefind-meta"]: m["content"] for m in head.select("meta[data-pagefind-meta]")}
    assert meta["fold_title[content]"] == "Kết quả và một số kinh nghiệm từ dại hội diểm cấp cơ sở"
    fold = meta["fold[content]"].split()
    assert {"dại", "dảng", "dồng", "dbqh"} <= set(fold)
    assert all("đ" not in w and "Đ" not in w for w in fold)
    assert len(fold) == len(set(fold))
    # nothing that is not text reaches the searchable metadata
    seed = next(f for f in fragments if f["url"] == "/" + SEED)
    assert set(seed["meta"]) == {"title", "fold_title", "fold", "image", "image_alt"}
    assert seed["meta"]["image"] == "" and seed["meta"]["image_alt"] == ""
    assert seed["filters"] == {"category": ["Xây dựng Đảng"], "year": ["2020"], "date": ["26/03/2020"]}


def test_pages_have_no_category_or_date(fragments):
    page = next(f for f in fragments if f["url"] == "/lien-he.html")
    assert page["filters"] == {}
    assert page["meta"]["title"] == "Liên hệ"


def indexed_text(soup):
    """The text Pagefind indexes from a built page: data-pagefind-body less
    what is ignored or excluded."""
    body = soup.select_one("[data-pagefind-body]")
    for element in body.select("[data-pagefind-ignore], " + ", ".join(DEFAULT_EXCLUDE_SELECTORS)):
        element.decompose()
    return body.get_text(" ")


def test_every_d_word_indexed_has_its_folded_copy(sample_site, fragments):
    for f in fragments:
        soup = sample_site.soup(f["url"].lstrip("/"))
        words = set(f["meta"].get("fold", "").split()) | set(f["meta"].get("fold_title", "").lower().split())
        for word in d_words(indexed_text(soup)):
            assert word in words, (f["url"], word)
        # and the metadata adds nothing that is not there
        assert set(f["meta"].get("fold", "").split()) <= set(d_words(indexed_text(soup)))


def test_search_page(sample_site):
    soup = sample_site.soup("tim-kiem/index.html")
    assert soup.find("html")["lang"] == "vi"
    form = soup.select_one("form#tim-kiem-form")
    assert form["action"] == "/tim-kiem/" and form["method"] == "get"
    assert form.select_one("input#tu-khoa")["name"] == "q"
    assert soup.select_one("label[for=tu-khoa]").get_text() == "Từ khóa"
    categories = [o.get_text() for o in form.select("#loc-chuyen-muc option")]
    assert categories == ["Tất cả chuyên mục", "Tin tức - Sự kiện", "Xây dựng Đảng", "Học tập và làm theo Bác",
                          "Văn hóa - Xã hội", "Quốc phòng - An ninh"]
    assert [o.get_text() for o in form.select("#loc-nam option")] == ["Tất cả các năm", "2020"]
    assert "cần JavaScript" in soup.noscript.get_text()
    script = soup.select_one("script[data-search-shards]")
    assert script["data-search-shards"] == "/pagefind/shards.json" and script["src"] == "/theme/js/search.js"
    assert soup.select_one('link[href="/theme/css/search.css"]')
    assert soup.select_one("[role=status][aria-live=polite]")
    assert "data-pagefind-body" not in sample_site.text("tim-kiem/index.html")
    assert sample_site.exists("theme/css/search.css") and sample_site.exists("theme/js/search.js")


def test_sidebar_box_submits_to_the_search_page(sample_site):
    form = sample_site.soup(SEED).select_one(".sidebar form[role=search]")
    assert form["action"] == "/tim-kiem/" and form.select_one("input")["name"] == "q"
