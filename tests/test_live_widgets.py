"""Live widgets: feed validation (unit), rendering and bad feeds (site level)."""

import json
import shutil

import pytest
from conftest import ROOT, build, run_pelican, write_article
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


def widget_texts(site, page=SEED):
    soup = site.soup(page)
    stats = soup.select_one(".widget--stats")
    bulletin = soup.select_one(".widget--bulletin")
    views = soup.select_one(".article__views")
    return (
        [li.get_text(" ", strip=True) for li in stats.select("li")] if stats else None,
        [" ".join(bulletin.select_one(".bulletin__time").get_text().split())]
        + [li.get_text(strip=True) for li in bulletin.select("li")] if bulletin else None,
        views.get_text(" ", strip=True) if views and not views.has_attr("hidden") else None,
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
    else:
        assert bulletin is None and stats is not None


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
