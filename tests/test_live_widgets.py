"""Live widgets: feed validation (unit), rendering and bad feeds (site level)."""

import json
import shutil
from urllib.parse import unquote, urlparse

import pytest
from conftest import ROOT, build, run_pelican, write_article
from portal import view_shards
from portal.feeds import FeedError, parse_covid, parse_disease_sh, parse_visitors, region_sentence

SAMPLE_FEEDS = ROOT / "content" / "feeds"
SEED = "xay-dung-dang/ket-qua-va-mot-so-kinh-nghiem-tu-dai-hoi-diem-cap-co-so.html"


# --- unit --------------------------------------------------------------------

def test_visitors_feed_is_validated_field_by_field():
    good = {"updated": "2020-08-14T11:00:00+07:00", "online": 38, "today": 3357, "total": 2686455}
    assert parse_visitors(good)["today"] == 3357
    for field, bad in [("online", -1), ("today", "3357"), ("total", 1.5), ("online", True), ("today", None)]:
        with pytest.raises(FeedError) as error:
            parse_visitors(dict(good, **{field: bad}))
        assert error.value.field == field
    with pytest.raises(FeedError) as error:
        parse_visitors(dict(good, updated="hôm qua"))
    assert error.value.field == "updated"
    with pytest.raises(FeedError):
        parse_visitors([good])


def test_disease_sh_shapes(tmp_path):
    country = json.loads((SAMPLE_FEEDS / "disease-sh-vietnam.json").read_text())
    numbers, updated = parse_disease_sh(country)
    assert numbers == {"cases": 911, "deaths": 21, "recovered": 425}
    everything = {"updated": 1597377600000, "cases": 21067959, "deaths": 757431, "recovered": 13000000,
                  "affectedCountries": 215, "active": 1}
    assert parse_disease_sh(everything)[0]["cases"] == 21067959
    with pytest.raises(FeedError):
        parse_disease_sh([country])  # /countries without a country is a list
    with pytest.raises(FeedError) as error:
        parse_disease_sh({"country": "Vietnam", "updated": 1, "cases": 2, "deaths": -3, "recovered": 1})
    assert error.value.field == "deaths"


def test_bulletin_time_is_the_newest_and_sentences_read_right():
    covid = json.loads((SAMPLE_FEEDS / "covid.json").read_text(encoding="utf-8"))
    newer = json.loads((SAMPLE_FEEDS / "disease-sh-vietnam.json").read_text())
    newer["updated"] = 1597395600000  # 16:00 in Vietnam
    bulletin = parse_covid(covid, "", read=lambda path: newer)
    assert bulletin["updated"].timestamp() * 1000 == 1597395600000
    assert [region_sentence(r) for r in bulletin["regions"]] == [
        "Thế giới: 21.067.959 người mắc, 757.431 người tử vong.",
        "Việt Nam: 911 người mắc, 21 người tử vong (đã phục hồi 425).",
        "Bình Phước: 0 người mắc.",
    ]
    assert region_sentence({"name": "X", "recovered": 5}) == "X: đã phục hồi 5."


def test_covid_source_must_stay_in_the_folder():
    feed = {"updated": "2020-08-14T11:00:00+07:00", "regions": [{"name": "A", "source": "../secret.json"}]}
    with pytest.raises(FeedError) as error:
        parse_covid(feed, "", read=lambda p: {})
    assert error.value.field == "regions[0].source"


# --- site level -------------------------------------------------------------

@pytest.fixture
def widget_site(tiny_content):
    shutil.copytree(SAMPLE_FEEDS, tiny_content / "feeds")
    write_article(tiny_content / "articles", "ket-qua-va-mot-so-kinh-nghiem-tu-dai-hoi-diem-cap-co-so", {
        "Title": "Kết quả và một số kinh nghiệm từ đại hội điểm cấp cơ sở",
        "Date": "2020-03-26 08:15", "Category": "Xây dựng Đảng", "Author": "H. Sơn",
        "Summary": "Lời dẫn.",
    })
    return tiny_content


def frame_of(site, page, selector):
    """The document a reader without JavaScript sees in the <noscript>
    frame ``selector`` of ``page``, or None (no frame, or no such file)."""
    frame = site.soup(page).select_one(f"noscript iframe{selector}")
    if frame is None:
        return None
    path = unquote(urlparse(frame["src"]).path).lstrip("/")  # SITEURL is absolute under publishconf
    return site.soup(path) if site.exists(path) else None


def widget_texts(site, page=SEED):
    """(visitor lines, bulletin lines, view line) as a reader without
    JavaScript sees them (the bulletin in the page, the numbers in their
    frames); None for what shows no figure."""
    soup = site.soup(page)
    stats = frame_of(site, page, ".stats__frame")
    lines = [li.get_text(" ", strip=True) for li in stats.select("li")] if stats else None
    views = frame_of(site, page, ".article__views-frame")
    bulletin = soup.select_one(".widget--bulletin")
    return (
        None if lines is None or all(line.endswith("…") for line in lines) else lines,
        [" ".join(bulletin.select_one(".bulletin__time").get_text().split())]
        + [li.get_text(strip=True) for li in bulletin.select("li")] if bulletin else None,
        views.body.get_text(" ", strip=True) or None if views else None,
    )


def test_widgets_render_the_sample_feeds(widget_site, tmp_path):
    site = build(widget_site, tmp_path)
    stats, bulletin, views = widget_texts(site)
    assert stats == ["Đang online: 38", "Hôm nay: 3.357", "Lượt truy cập: 2.686.455"]
    assert bulletin == [
        "Cập nhật 11h00 ngày 14/8/2020:",
        "Thế giới: 21.067.959 người mắc, 757.431 người tử vong.",
        "Việt Nam: 911 người mắc, 21 người tử vong (đã phục hồi 425).",
        "Bình Phước: 0 người mắc.",
    ]
    assert views == "Lượt xem: 185"
    # the page itself holds no figure: only where the script and the frames find them
    page = site.soup(SEED)
    assert [s.get_text() for s in page.select("[data-stat]")] == ["…"] * 3
    line = page.select_one(".article__views")
    assert line.has_attr("hidden") and line.select_one("[data-views]").get_text() == ""
    assert line["data-views-shard"] == view_shards.shard_path(SEED) and site.exists("feeds/" + line["data-views-shard"])
    assert "185" not in site.text(SEED) and "2.686.455" not in site.text(SEED)
    published = json.loads(site.text("feeds/visitors.json"))
    assert published["total"] == 2686455
    assert site.exists("feeds/disease-sh-vietnam.json")


BAD_FEEDS = [
    ("visitors.json", None, "tệp không tồn tại"),
    ("visitors.json", "{\"online\": 38,", "JSON không hợp lệ"),
    ("visitors.json", {"updated": "2020-08-14T11:00:00+07:00", "online": "38", "today": 1, "total": 2}, "trường online"),
    ("visitors.json", {"updated": "2020-08-14T11:00:00+07:00", "online": 1, "today": -5, "total": 2}, "trường today"),
    ("disease-sh-vietnam.json", [{"country": "Vietnam"}], "regions[1].source (disease-sh-vietnam.json)"),
    ("covid.json", {"updated": "2020-08-14T11:00:00+07:00", "regions": [{"name": "A", "cases": -1}]}, "trường regions[0].cases"),
]


def _write_feed(folder, name, data):
    path = folder / "feeds" / name
    if data is None:
        path.unlink()
    else:
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize("name,data,field", BAD_FEEDS)
def test_bad_feed_warns_and_widget_is_left_out_without_history(widget_site, tmp_path, name, data, field):
    _write_feed(widget_site, name, data)
    site = build(widget_site, tmp_path)
    feed = "covid.json" if name.startswith("disease") else name
    assert f"content/feeds/{feed}:" in site.log.replace(str(widget_site.parent) + "/", "") or f"feeds/{feed}:" in site.log
    assert field in site.log
    stats, bulletin, views = widget_texts(site)
    if name == "visitors.json":
        assert stats is None and bulletin is not None and views == "Lượt xem: 185"
        assert ["…"] * 3 == [s.get_text() for s in site.soup(SEED).select(".widget--stats [data-stat]")]
        assert "chưa có số liệu để hiện (no figures shown yet)" in site.log
    else:
        assert bulletin is None and stats is not None
        assert "tạm ẩn mục này (widget left out)" in site.log


@pytest.mark.parametrize("name,data,field", BAD_FEEDS)
def test_bad_feed_keeps_last_good_values(widget_site, tmp_path, name, data, field):
    good = widget_texts(build(widget_site, tmp_path / "first"))
    _write_feed(widget_site, name, data)
    cache = tmp_path / "first" / "cache"
    result = run_pelican(widget_site, tmp_path / "first" / "output", cache=cache)
    assert result.returncode == 0, result.stdout
    assert field in result.stdout and "lần trước" in result.stdout
    from conftest import Site
    assert widget_texts(Site(tmp_path / "first" / "output")) == good


def test_strict_publish_fails_on_a_bad_feed(widget_site, tmp_path):
    _write_feed(widget_site, "visitors.json", {"updated": "2020-08-14T11:00:00+07:00", "online": -1, "today": 1, "total": 1})
    result = run_pelican(widget_site, tmp_path / "output", settings="publishconf.py", fatal="warnings")
    assert result.returncode != 0
    assert "trường online" in result.stdout
    assert "Traceback" not in result.stdout
    assert not (tmp_path / "output" / "index.html").exists()


def test_hostile_region_name_is_inert(widget_site, tmp_path):
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    _write_feed(widget_site, "covid.json", {
        "updated": "2020-08-14T11:00:00+07:00", "title": "<b>Tin</b>",
        "regions": [{"name": hostile, "cases": 1}],
    })
    site = build(widget_site, tmp_path)
    soup = site.soup(SEED)
    bulletin = soup.select_one(".widget--bulletin")
    assert bulletin.select("script, img[onerror], b") == []
    assert bulletin.select_one("li").get_text() == f"{hostile}: 1 người mắc."
    assert "<script>alert(1)" not in site.text(SEED)


def test_rebuild_snapshots_the_counters_newer_published_feed(widget_site, tmp_path):
    """In production `make stats` rewrites output/feeds every minute; a
    rebuild must show those figures, not the older ones in content/feeds."""
    site = build(widget_site, tmp_path)
    (site.output / "feeds" / "visitors.json").write_text(json.dumps(
        {"updated": "2020-08-15T09:00:00+07:00", "online": 12, "today": 845, "total": 2690001}))
    result = run_pelican(widget_site, site.output, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stdout
    stats, _, _ = widget_texts(site)
    assert stats == ["Đang online: 12", "Hôm nay: 845", "Lượt truy cập: 2.690.001"]
    assert json.loads(site.text("feeds/visitors.json"))["total"] == 2690001
    # an older published copy loses to a newer content/feeds one
    (widget_site / "feeds" / "visitors.json").write_text(json.dumps(
        {"updated": "2020-08-16T09:00:00+07:00", "online": 1, "today": 2, "total": 3}))
    assert run_pelican(widget_site, site.output, cache=tmp_path / "cache").returncode == 0
    assert widget_texts(site)[0] == ["Đang online: 1", "Hôm nay: 2", "Lượt truy cập: 3"]


def test_pages_do_not_change_when_visitors_count(widget_site, tmp_path):
    """Two builds of the same content with other visitor and view figures
    write byte-identical pages: only the feeds and their fragments differ."""
    first = build(widget_site, tmp_path / "first")
    _write_feed(widget_site, "visitors.json", {"updated": "2020-08-15T09:00:00+07:00", "online": 7, "today": 845,
                                               "total": 2690001})
    _write_feed(widget_site, "views.json", {"updated": "2020-08-15T09:00:00+07:00", "views": {SEED: 9999}})
    second = build(widget_site, tmp_path / "second")

    def pages(site):
        return {str(p.relative_to(site.output)): p.read_bytes() for p in site.output.rglob("*.html")
                if p.relative_to(site.output).parts[0] != "feeds"}

    assert len(pages(first)) > 5 and pages(first) == pages(second)
    assert widget_texts(first)[::2] == (["Đang online: 38", "Hôm nay: 3.357", "Lượt truy cập: 2.686.455"],
                                        "Lượt xem: 185")
    assert widget_texts(second)[::2] == (["Đang online: 7", "Hôm nay: 845", "Lượt truy cập: 2.690.001"],
                                         "Lượt xem: 9.999")


# --- where the numbers are published (portal.view_shards) -------------------


def test_the_shard_of_an_address_is_stable_and_named_by_the_page():
    # SHA-256, not hash(): the same on every machine, every Python, every run
    assert view_shards.shard_of(SEED) == "c6" == __import__("hashlib").sha256(SEED.encode()).hexdigest()[:2]
    assert view_shards.shard_path(SEED) == "luot-xem/c6.json"
    assert len(set(view_shards.SHARDS)) == 256 and view_shards.shard_name("luot-xem/3e.json") == "3e"
    assert view_shards.fragment_path(SEED) == f"luot-xem/c6/{SEED}"
    assert view_shards.fragment_url("tin-tuc/đại hội.html").endswith("/tin-tuc/%C4%91%E1%BA%A1i%20h%E1%BB%99i.html")


@pytest.mark.parametrize("address", ["../index.html", "a/../../index.html", "/etc/x.html", "a//b.html", "./a.html",
                                     "a\\b.html", "a.json", "a\x00.html", "a\x85.html", "", "a/"])
def test_a_key_never_names_a_file_outside_its_shard(address):
    assert view_shards.fragment_path(address) is None and view_shards.fragment_url(address) is None


def test_fragments_are_small_plain_documents():
    from bs4 import BeautifulSoup

    from portal.vietnamese import vi_number

    for number in (0, 7, 999, 1000, 185, 2686455, 10**15, 9 * 10**15 - 1):
        assert view_shards.grouped(number) == vi_number(number)
    views = BeautifulSoup(view_shards.views_fragment(2686455), "html.parser")
    assert views.body.get_text() == "Lượt xem: 2.686.455"
    assert views.select_one("meta[name=robots]")["content"] == "noindex" and views.html["lang"] == "vi"
    assert views.select("script, link, img, iframe") == [] and views.style is not None
    assert BeautifulSoup(view_shards.views_fragment(None), "html.parser").body.get_text() == ""
    stats = BeautifulSoup(view_shards.visitors_fragment({"online": 38, "today": 3357, "total": 2686455}),
                          "html.parser")
    assert [li.get_text() for li in stats.select("li")] == [
        "Đang online: 38", "Hôm nay: 3.357", "Lượt truy cập: 2.686.455"]
    waiting = BeautifulSoup(view_shards.visitors_fragment(None), "html.parser")
    assert [li.get_text() for li in waiting.select("li")] == ["Đang online: …", "Hôm nay: …", "Lượt truy cập: …"]


def test_shards_stay_a_few_kb_at_20000_articles():
    """The claim beside SHARD_DIGITS: long Vietnamese addresses, 20,000 of them."""
    import random
    import zlib

    rng = random.Random(11)
    words = "dai hoi dang bo xa dong tien ket qua va mot so kinh nghiem tu diem cap co so hoi nghi".split()
    views = {f"{rng.choice(words)}-{rng.choice(words)}/{'-'.join(rng.choices(words, k=9))}-{n}.html":
             rng.randrange(10**6) for n in range(20000)}
    shards = view_shards.render_shards(views)
    assert len(shards) == 256
    assert {k: n for data in shards.values() for k, n in json.loads(data)["views"].items()} == views
    biggest = max(shards.values(), key=len)
    assert len(biggest) < 12 * 1024 and len(zlib.compress(biggest)) < 4 * 1024
    assert all(json.loads(shards[view_shards.shard_path(a)])["views"][a] == n for a, n in list(views.items())[:50])
