"""The feed format, counter/feeds.schema.json, is the only contract between
the access-log counter and the site build. Both sides are held to it:

(a) the feeds the counter writes validate;
(b) the sample feeds in content/feeds/ validate;
(c) the build's parsers accept every valid example below, with the same
    numbers, and refuse every invalid one.

Where the build still accepts more than the schema allows, the case is an
expected failure (strict: it fails loudly once the parser is tightened, to
be moved into INVALID). What JSON Schema cannot state (digits only, not in
the future) is in the schema's description and tested as such.
"""

import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

# The build's side of the contract: its readers of the feeds.
from portal.feeds import FeedError, parse_views, parse_visitors, read_json

import hashlib

from counter import job
from live_widgets import live_files
from portal import view_shards
from test_counter import KNOWN_LOG, KNOWN_VIEWS, hit, make_registry, write

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "counter" / "feeds.schema.json").read_text(encoding="utf-8"))

# RFC 3339's calendar rules for "format": "date-time" (the schema's pattern
# gives the shape; no 30 February). jsonschema checks this format only with
# an optional package, so the check is spelled out here.
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value):
    if isinstance(value, str):
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def validator(feed):
    """A validator of ``feed`` ("visitors" or "views") against its $defs entry."""
    registry = Registry().with_resource(SCHEMA["$id"], Resource.from_contents(SCHEMA))
    return jsonschema.Draft202012Validator({"$ref": f"{SCHEMA['$id']}#/$defs/{feed}"}, registry=registry,
                                           format_checker=FORMATS)


def valid(feed, document):
    return validator(feed).is_valid(document)


def build_reads(feed, document, tmp_path):
    """What the build makes of ``document`` saved as a feed file (its whole
    reading: bounds, UTF-8, strings cleaned, then the parser)."""
    path = tmp_path / f"{feed}.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    parse = parse_visitors if feed == "visitors" else parse_views
    return parse(read_json(path))


def test_the_schema_is_a_valid_2020_12_schema():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert set(SCHEMA["$defs"]) >= {"visitors", "views", "shard", "time", "count", "counts"}


# --- (a) what the counter writes ----------------------------------------------------------


def test_the_counters_feeds_validate(tmp_path):
    log = write(tmp_path / "access.log", KNOWN_LOG + [
        hit("10.9.0.1", "2020-08-14 11:00:00", "/chuyen-huong/so-tay.html"),
        hit("10.9.0.2", "2020-08-14 11:00:00", "/tin-tuc-su-kien/đại-hội.html")])
    published = make_registry(tmp_path / "outputs.json", others={"chuyen-huong/so-tay.html": "redirect"})
    summary = job.run([str(log)], tmp_path / "feeds", tmp_path / "state.json", 2686455, published)
    assert summary.exit_code == 0
    visitors = json.loads((tmp_path / "feeds" / "visitors.json").read_text(encoding="utf-8"))
    views = json.loads((tmp_path / "feeds" / "views.json").read_text(encoding="utf-8"))
    assert views["views"] == KNOWN_VIEWS and views["clicks"] == {"chuyen-huong/so-tay.html": 1}
    validator("visitors").validate(visitors)
    validator("views").validate(views)
    assert not valid("views", visitors) and not valid("visitors", views)
    # And the build reads them as the counter meant them.
    assert build_reads("visitors", visitors, tmp_path)["total"] == visitors["total"] == 2686455 + 8
    assert build_reads("views", views, tmp_path) == KNOWN_VIEWS


def test_the_counters_shards_validate_and_are_what_the_build_publishes(tmp_path):
    """Each shard validates, holds exactly the paths the schema's rule puts
    there (SHA-256), and all of them are views.json's views; the build,
    given the same views.json, publishes the same bytes (so the counter's
    next run after a build rewrites nothing)."""
    log = write(tmp_path / "access.log", KNOWN_LOG)
    job.run([str(log)], tmp_path / "feeds", tmp_path / "state.json", None, make_registry(tmp_path / "outputs.json"))
    folder = tmp_path / "feeds"
    shards = {f"luot-xem/{path.name}": path.read_bytes() for path in (folder / "luot-xem").glob("*.json")}
    assert sorted(shards) == [f"luot-xem/{n:02x}.json" for n in range(256)]
    union = {}
    for name, data in shards.items():
        shard = json.loads(data)
        validator("shard").validate(shard)
        assert not valid("views", shard)  # no time: a shard is no views.json
        assert all(hashlib.sha256(key.encode()).hexdigest()[:2] == name[9:11] for key in shard["views"])
        union.update(shard["views"])
    assert union == KNOWN_VIEWS
    visitors = parse_visitors(read_json(folder / "visitors.json"))
    built = live_files(visitors, parse_views(read_json(folder / "views.json")), list(KNOWN_VIEWS))
    on_disk = {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*")
               if path.is_file() and path.name not in ("visitors.json", "views.json")}
    assert built == on_disk


def test_feeds_are_what_the_site_build_reads(tmp_path):
    """(Was in test_counter.py.) The counter's files, read by the build as they are."""
    log = write(tmp_path / "access.log", KNOWN_LOG)
    job.run([str(log)], tmp_path / "feeds", tmp_path / "state.json", None, make_registry(tmp_path / "outputs.json"))
    assert parse_visitors(read_json(tmp_path / "feeds" / "visitors.json"))["today"] == 8
    assert parse_views(read_json(tmp_path / "feeds" / "views.json")) == KNOWN_VIEWS


# --- (b) the sample feeds ------------------------------------------------------------------


@pytest.mark.parametrize("feed", ["visitors", "views"])
def test_the_sample_feeds_validate(feed):
    document = json.loads((ROOT / "content" / "feeds" / f"{feed}.json").read_text(encoding="utf-8"))
    validator(feed).validate(document)


# --- (c) the build's parsers against the schema --------------------------------------------

T = "2020-08-14T11:00:00+07:00"
MAX = 8999999999999999
VISITORS = {"updated": T, "online": 38, "today": 3357, "total": 2686455}
VIEWS = {"updated": T, "views": {"xay-dung-dang/ket-qua.html": 185, "tin-tuc/đại-hội.html": 3}}

VALID = [
    ("visitors", VISITORS),
    ("visitors", {**VISITORS, "online": 0, "today": 0, "total": 0}),
    ("visitors", {**VISITORS, "total": MAX}),
    ("visitors", {**VISITORS, "updated": "2020-08-14T04:00:00Z"}),
    ("visitors", {**VISITORS, "updated": "2020-08-13T23:00:00-05:00"}),
    ("visitors", {**VISITORS, "updated": "2020-08-14T11:00:00.250+07:00"}),
    ("visitors", {**VISITORS, "updated": "2024-02-29T23:59:59+07:00"}),
    ("visitors", {**VISITORS, "visits_by_hour": [1, 2]}),  # a member the build does not know yet
    ("views", VIEWS),
    ("views", {"updated": T, "views": {}}),
    ("views", {**VIEWS, "clicks": {"chuyen-huong/so-tay.html": 42}}),
    ("views", {**VIEWS, "clicks": {}}),
    ("views", {"updated": T, "views": {"a.html": 0, "b.html": MAX, "": 1, "có dấu cách.html": 2}}),
    ("views", {**VIEWS, "other": {"x": "y"}}),
]

INVALID = [
    ("visitors", []),
    ("visitors", "visitors"),
    ("visitors", {"online": 38, "today": 3357, "total": 2686455}),
    *[("visitors", {k: v for k, v in VISITORS.items() if k != name}) for name in ("online", "today", "total")],
    ("visitors", {**VISITORS, "online": -1}),
    ("visitors", {**VISITORS, "today": "3357"}),
    ("visitors", {**VISITORS, "total": MAX + 1}),
    ("visitors", {**VISITORS, "total": 10 ** 20}),
    ("visitors", {**VISITORS, "online": 1.5}),
    ("visitors", {**VISITORS, "online": True}),
    ("visitors", {**VISITORS, "online": None}),
    ("visitors", {**VISITORS, "updated": None}),
    ("visitors", {**VISITORS, "updated": 1597377600}),
    ("visitors", {**VISITORS, "updated": "hôm qua"}),
    ("visitors", {**VISITORS, "updated": "2020-13-01T11:00:00+07:00"}),
    ("visitors", {**VISITORS, "updated": "2021-02-29T11:00:00+07:00"}),
    ("visitors", {**VISITORS, "updated": "2020-08-14T24:00:00+07:00"}),
    ("views", {"updated": T}),
    ("views", {"views": VIEWS["views"]}),
    ("views", {"updated": T, "views": []}),
    ("views", {"updated": T, "views": {"a.html": -3}}),
    ("views", {"updated": T, "views": {"a.html": "185"}}),
    ("views", {"updated": T, "views": {"a.html": {"n": 1}}}),
    ("views", {"updated": T, "views": {"a.html": MAX + 1}}),
    ("views", {"updated": T, "views": {"a\u0007.html": 1}}),
    ("views", {"updated": T, "views": {"a.html": 1}, "clicks": {"b.html\u009b": 1}}),
    # ISO 8601 forms Python's fromisoformat takes but the contract does not
    ("visitors", {**VISITORS, "updated": "2020-08-14T11:00:00"}),  # no offset: the browser would guess the zone
    ("visitors", {**VISITORS, "updated": "2020-08-14 11:00:00+07:00"}),
    ("visitors", {**VISITORS, "updated": "20200814T110000+0700"}),
    ("views", {"updated": "2020-08-14", "views": {}}),
    ("views", {"updated": T, "views": {"a.html": 1}, "clicks": {"b.html": -1}}),
]

# Shards are read by live-widgets.js alone (tests/test_browser_agreement.py
# holds it to the build's reading); here the schema and the one writer.
SHARDS_VALID = [{"views": {}}, {"views": {"xay-dung-dang/ket-qua.html": 185, "tin-tuc/đại-hội.html": 3}},
                {"views": {"a.html": MAX}}]
SHARDS_INVALID = [{}, {"views": []}, {"views": {"a.html": -1}}, {"views": {"a.html": "185"}},
                  {"views": {"a.html": MAX + 1}}, {"views": {"a\u0007.html": 1}}, [], "views"]


@pytest.mark.parametrize("document", SHARDS_VALID)
def test_a_valid_shard_is_what_the_one_writer_writes(document):
    validator("shard").validate(document)
    written = json.loads(view_shards.render_shard(document["views"]))
    assert written == document and list(written["views"]) == sorted(document["views"])


@pytest.mark.parametrize("document", SHARDS_INVALID)
def test_the_schema_refuses_a_bad_shard(document):
    assert not valid("shard", document)

@pytest.mark.parametrize("feed, document", VALID)
def test_the_build_accepts_every_valid_example(feed, document, tmp_path):
    validator(feed).validate(document)
    result = build_reads(feed, document, tmp_path)
    if feed == "visitors":
        assert {k: result[k] for k in ("online", "today", "total")} == {
            k: document[k] for k in ("online", "today", "total")}
        assert result["updated"] == datetime.fromisoformat(document["updated"].replace("Z", "+00:00"))
    else:
        assert result == document["views"]


@pytest.mark.parametrize("feed, document", INVALID)
def test_the_build_refuses_every_invalid_example(feed, document, tmp_path):
    assert not valid(feed, document)
    with pytest.raises(FeedError):
        build_reads(feed, document, tmp_path)


@pytest.mark.parametrize("text, rule", [
    ('{"updated": "%s", "online": 38.0, "today": 1, "total": 1}' % T, "counts are written as digits"),
    ('{"updated": "%s", "online": 3e1, "today": 1, "total": 1}' % T, "counts are written as digits"),
    ('{"updated": "2099-01-01T00:00:00+07:00", "online": 1, "today": 1, "total": 1}', "not in the future"),
])
def test_what_json_schema_cannot_say_is_in_its_description_and_refused(text, rule, tmp_path):
    """JSON Schema treats 38.0 as the integer 38 and knows no clock: the
    schema's description states both rules, the build enforces them."""
    assert valid("visitors", json.loads(text))
    described = SCHEMA["description"] + SCHEMA["$defs"]["count"]["description"] + SCHEMA["$defs"]["time"]["description"]
    assert {"counts are written as digits": "written as digits",
            "not in the future": "no more than 5 minutes"}[rule] in described
    path = tmp_path / "visitors.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FeedError):
        parse_visitors(read_json(path))
