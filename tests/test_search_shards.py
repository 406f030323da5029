"""The search index in shards (plugins/site_search): how pages are split,
when a cached shard is reused, and real builds of a site over three years
edited, pruned and rebuilt, searched in headless Chromium against a clean
build of the same content."""

import gzip
import json
import shutil
from datetime import datetime

import pytest

from conftest import ROOT, build, new_content, write_article
from site_search.build import shard_list
from site_search.shards import IndexedPage, assign, is_current, manifest_bytes, shard_inputs
from test_browser_search import open_page, search_url, settle, status, titles  # noqa: F401 (fixture)


# --- the split ---------------------------------------------------------------

def article(path, year, month=1):
    return IndexedPage(path, datetime(year, month, 15, 8, 0))


def names(shards):
    return {name: [p.path for p in pages] for name, pages in shards.items()}


def test_articles_by_year_newest_first_pages_in_the_newest():
    pages = [article("a.html", 2019), article("b.html", 2021), article("c.html", 2019), IndexedPage("lien-he.html")]
    assert names(assign(pages, 10)) == {"2021": ["b.html", "lien-he.html"], "2019": ["a.html", "c.html"]}
    assert list(assign(pages, 10)) == ["2021", "2019"]
    # without articles the pages have a shard of their own
    assert names(assign([IndexedPage("gioi-thieu.html")], 10)) == {"trang": ["gioi-thieu.html"]}
    assert assign([], 10) == {}


def test_a_big_year_is_split_by_quarter_then_by_month():
    big = [article(f"q1-{i}.html", 2020, 1 + i % 3) for i in range(6)] + [article("q3.html", 2020, 8)]
    small = [article("old.html", 2019)]
    shards = assign(big + small, 4)
    assert list(shards) == ["2020-q3", "2020-03", "2020-02", "2020-01", "2019"]
    assert sum(len(p) for p in shards.values()) == 8
    # the level is the year's own: 2019 is not split because 2020 is big
    assert names(shards)["2019"] == ["old.html"]


def test_one_shard_for_comparison():
    pages = [article("a.html", 2019), article("b.html", 2021), IndexedPage("lien-he.html")]
    assert names(assign(pages, 1, sharding="single")) == {"tat-ca": ["a.html", "b.html", "lien-he.html"]}
    with pytest.raises(ValueError):
        assign(pages, 1, sharding="month")
    with pytest.raises(ValueError):
        assign(pages, 0)


def test_a_cached_shard_is_reused_only_for_the_same_inputs():
    common = {"pagefind": "1.5.2", "language": "vi", "exclude_selectors": [".breadcrumb"], "code": "abc"}
    inputs = shard_inputs({"a.html": "1", "b.html": "2"}, common)
    manifest = manifest_bytes(inputs, ["pagefind.js", "fragment/x.pf_fragment"])
    assert is_current(manifest, inputs, lambda f: True)
    assert not is_current(manifest, inputs, lambda f: f != "fragment/x.pf_fragment")  # a file lost
    assert not is_current(None, inputs, lambda f: True)
    assert not is_current(b"{not json", inputs, lambda f: True)
    for changed in [shard_inputs({"a.html": "1", "b.html": "3"}, common),  # a page edited
                    shard_inputs({"a.html": "1"}, common),  # a page deleted
                    shard_inputs({"a.html": "1", "b.html": "2"}, dict(common, code="abd")),  # our code
                    shard_inputs({"a.html": "1", "b.html": "2"}, dict(common, exclude_selectors=[]))]:
        assert not is_current(manifest, changed, lambda f: True)


# --- real builds ----------------------------------------------------------------

YEARS = {2018: 4, 2019: 4, 2020: 4}
CATEGORIES = ["Xây dựng Đảng", "Văn hóa - Xã hội"]
EDITED = "bai-2019-1"
DELETED = "bai-2018-2"


def token(year, n):
    """A word of one article only, letters alone (Pagefind splits "zk2019"
    into "zk" and "2019", and answers a word it lacks with its longest
    prefix it knows: "zk")."""
    return "zk" + "".join(chr(ord("a") + int(d)) for d in f"{year}{n}")


def write_site(content):
    """Twelve articles over three years, each with the shared word
    "trongdiem", two categories; one page."""
    for year, count in YEARS.items():
        for n in range(count):
            write_article(content / "articles", f"bai-{year}-{n}", {
                "Title": f"Tin số {n} năm {year} về công tác trọng điểm",
                "Date": f"{year}-0{n + 3}-1{n} 08:00", "Category": CATEGORIES[n % 2],
                "Summary": "Tin tổng hợp."},
                f"Nội dung trongdiem của bài {n} năm {year}. Mã: {token(year, n)}.\n")
    (content / "pages/gioi-thieu.md").write_text(
        "Title: Giới thiệu\n\nBan Tuyên giáo giới thiệu trongdiem.\n", encoding="utf-8")


def shard_state(cache):
    """Per cached shard: the folder's inode (a rebuilt shard is a new
    folder) and its manifest."""
    root = cache / "search"
    return {p.name: (p.stat().st_ino, (p / "manifest.json").read_bytes()) for p in root.iterdir()}


def fragments(site):
    """{url: fragment} of every page indexed, in every shard."""
    found = {}
    for path in site.path("pagefind").glob("*/fragment/*.pf_fragment"):
        data = json.loads(gzip.decompress(path.read_bytes())[12:])
        found[data["url"]] = data
    return found


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The same content built three times into one output and cache (first
    build, after an edit, after a deletion) and once clean."""
    work = tmp_path_factory.mktemp("shards")
    content = new_content(work / "content")
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")
    write_site(content)
    cache = work / "cache"
    first = build(content, work, cache=cache)
    state = {"first": shard_state(cache), "first_fragments": fragments(first)}

    edited = content / "articles" / EDITED / "index.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("zkcabjb", "moiviet2019"), encoding="utf-8")
    build(content, work, cache=cache)
    state["edited"], state["edited_fragments"] = shard_state(cache), fragments(first)

    shutil.rmtree(content / "articles" / DELETED)
    incremental = build(content, work, cache=cache)
    state["deleted"], state["deleted_fragments"] = shard_state(cache), fragments(incremental)

    clean = build(content, tmp_path_factory.mktemp("shards-clean"))
    return {"incremental": incremental, "clean": clean, "state": state}


def test_the_site_has_one_shard_a_year(sites):
    site = sites["incremental"]
    listed = json.loads(site.text("pagefind/shards.json"))
    assert [s["name"] for s in listed["shards"]] == ["2020", "2019", "2018"]
    assert [s["pages"] for s in listed["shards"]] == [5, 4, 3]  # the page joins 2020
    assert set(sites["state"]["first"]) == {"2020", "2019", "2018"}


def test_an_edit_rebuilds_only_its_shard(sites):
    before, after = sites["state"]["first"], sites["state"]["edited"]
    assert after["2019"] != before["2019"]
    assert after["2020"] == before["2020"] and after["2018"] == before["2018"]
    words = {url: f["content"] for url, f in sites["state"]["edited_fragments"].items()}
    page = f"/xay-dung-dang/{EDITED}.html" if f"/xay-dung-dang/{EDITED}.html" in words else f"/van-hoa-xa-hoi/{EDITED}.html"
    assert "moiviet2019" in words[page] and "zkcabjb" not in words[page]
    assert "zkcabjb" in sites["state"]["first_fragments"][page]["content"]


def test_a_deletion_rebuilds_only_its_shard_and_leaves_the_index(sites):
    before, after = sites["state"]["edited"], sites["state"]["deleted"]
    assert after["2018"] != before["2018"]
    assert after["2019"] == before["2019"] and after["2020"] == before["2020"]
    assert not any(DELETED in url for url in sites["state"]["deleted_fragments"])
    assert any(DELETED in url for url in sites["state"]["edited_fragments"])


def test_the_incremental_index_is_the_clean_one(sites):
    """After edits and a deletion, the index holds the same pages, with the
    same text, metadata and filters, in the same shards, as a clean build's
    (Pagefind's own files are not byte-stable between runs: the browser
    tests below compare answers)."""
    incremental, clean = sites["incremental"], sites["clean"]
    assert incremental.text("pagefind/shards.json") == clean.text("pagefind/shards.json")
    assert fragments(incremental) == fragments(clean)
    for shard in json.loads(clean.text("pagefind/shards.json"))["shards"]:
        urls = {f["url"] for f in fragments_of(incremental, shard["name"])}
        assert urls == {f["url"] for f in fragments_of(clean, shard["name"])} and len(urls) == shard["pages"]
    registry = json.loads((incremental.output.parent / "cache" / "outputs.json").read_text(encoding="utf-8"))
    recorded = {k for k, v in registry["files"].items() if v["kind"] == "search"}
    assert recorded == {f"pagefind/{k}" for k in tree(incremental.path("pagefind"))}


def fragments_of(site, shard):
    return [json.loads(gzip.decompress(p.read_bytes())[12:])
            for p in site.path(f"pagefind/{shard}/fragment").glob("*.pf_fragment")]


def test_shard_list_names_each_shard_and_its_pages():
    from types import SimpleNamespace

    listed = json.loads(shard_list([SimpleNamespace(name="2020", pages=[1, 2]), SimpleNamespace(name="2019", pages=[1])]))
    assert listed["version"] == 1 and listed["shards"] == [{"name": "2020", "pages": 2}, {"name": "2019", "pages": 1}]


# --- in the browser ----------------------------------------------------------------

@pytest.fixture(scope="module")
def urls(sites):
    from browser import serve

    with serve(sites["incremental"].output) as incremental, serve(sites["clean"].output) as clean:
        yield {"incremental": incremental, "clean": clean}


QUERIES = ["trongdiem", "trọng điểm", "moiviet2019", "zkcabjb", "zkcabic", "zkcacad", "Giới thiệu",
           "cong tac", "qwxyz"]


@pytest.mark.parametrize("query", QUERIES)
def test_incremental_and_clean_indexes_answer_alike(open_page, urls, query):  # noqa: F811
    found = {name: titles(search_url(open_page(), url, query)) for name, url in urls.items()}
    assert found["incremental"] == found["clean"]


def test_edited_and_deleted_text_in_the_browser(open_page, urls):  # noqa: F811
    assert titles(search_url(open_page(), urls["incremental"], "moiviet2019")) == ["Tin số 1 năm 2019 về công tác trọng điểm"]
    page = search_url(open_page(), urls["incremental"], "zkcabjb")
    assert status(page) == "Không tìm thấy kết quả nào cho «zkcabjb»."
    page = search_url(open_page(), urls["incremental"], "zkcabic")
    assert status(page) == "Không tìm thấy kết quả nào cho «zkcabic»."
    assert titles(search_url(open_page(), urls["incremental"], "zkcabid")) == ["Tin số 3 năm 2018 về công tác trọng điểm"]


def test_results_from_every_shard_paged_and_filtered(open_page, urls):  # noqa: F811
    watched = open_page()
    page = search_url(watched, urls["incremental"], "trongdiem")
    assert page.locator(".search-result").count() == 10
    assert status(page) == "Tìm thấy 12 kết quả cho «trongdiem»."  # 11 articles and the page
    everything = titles(page)  # "Xem thêm" pressed until the end
    assert len(everything) == 12 and "Giới thiệu" in everything
    years = {t.rsplit(" năm ", 1)[1][:4] for t in everything if " năm " in t}
    assert years == {"2018", "2019", "2020"}
    # a year filter keeps that year's shard's pages only
    page.select_option("#loc-nam", "2019")
    page.wait_for_function("new URLSearchParams(location.search).get('nam') === '2019'")
    settle(page)
    by_year = titles(page)
    assert len(by_year) == 4 and all("năm 2019" in t for t in by_year)
    # a category across the three shards
    page = search_url(open_page(), urls["incremental"], "trongdiem", **{"chuyen-muc": "Văn hóa - Xã hội"})
    narrowed = titles(page)
    assert {t.rsplit(" năm ", 1)[1][:4] for t in narrowed} == {"2018", "2019", "2020"}
    assert set(page.locator(".search-result__category").all_text_contents()) == {"Văn hóa - Xã hội"}
    page = search_url(open_page(), urls["incremental"], "trongdiem", nam="2017")
    assert status(page) == "Không tìm thấy kết quả nào cho «trongdiem» với bộ lọc đã chọn."


def test_a_diacritic_query_ranks_the_exact_spelling_first_across_shards(open_page, urls):  # noqa: F811
    plain = titles(search_url(open_page(), urls["incremental"], "trong diem"))
    marked = titles(search_url(open_page(), urls["incremental"], "trọng điểm"))
    assert set(plain) == set(marked) and len(marked) == 11  # in every title; the page does not spell it


# --- what is hashed and indexed of a page ---------------------------------------

PAGE = ('<!DOCTYPE html><html lang="vi"><head><title>T</title>'
        '<meta data-pagefind-filter="year[content]" content="2020"><meta name="x" content="y"></head>'
        '<body><nav>Menu</nav><article data-pagefind-body><h1>Tiêu đề</h1><article>lồng</article>'
        '<p>Chữ</p></article><aside>Các tin khác: {related}</aside></body></html>')


def test_only_what_pagefind_indexes_is_kept():
    from site_search.indexer import indexed_part

    part = indexed_part(PAGE.format(related="A").encode()).decode()
    assert part.startswith('<!DOCTYPE html><html lang="vi"><head>')
    assert '<meta data-pagefind-filter="year[content]" content="2020">' in part
    assert "<article>lồng</article><p>Chữ</p></article></body>" in part  # nested, to its own end
    assert "Menu" not in part and "Các tin khác" not in part and 'name="x"' not in part
    # another article in the related list changes nothing that is indexed
    assert indexed_part(PAGE.format(related="B").encode()) == indexed_part(PAGE.format(related="A").encode())
    assert indexed_part(b"<html><body><p>no marker</p></body></html>") is None


def test_an_unclosed_body_is_an_error():
    from site_search.indexer import SearchIndexError, indexed_part

    with pytest.raises(SearchIndexError, match="not closed"):
        indexed_part(b"<html><body><main data-pagefind-body><p>x</p></body></html>")
