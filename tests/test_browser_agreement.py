"""The browser and the build compute the same things: the real
theme/static/js/live-widgets.js and search.js run in headless Chromium, the
Python that renders the same text at build time runs here, on the same
table of cases, and every case where the two differ is listed.

live-widgets.js is run from its source in a function scope, with a
document and a fetch() of the test's own, and hands back its inner
functions (num, when, line, clean, ok) from a ``return`` put before its
closing ``})(document);``; search.js exposes its query fold as
``window.portalSearch``. The page is in Paris time: the script must not
depend on the reader's clock zone.

Each test also runs the whole widget script on feeds (fetch answered by
the test) against the build's reading of the same files, so what the
browser refuses or accepts is compared too (the browser gets what the
build publishes of them: views.json's views in their shards, never
views.json itself). Known differences are listed
in KNOWN with their reason; one that stops differing fails the test, so
the list stays true.
"""

import datetime
import json
import unicodedata

import pytest
from browser import Watched
from conftest import ROOT
from portal.feeds import (FeedError, clean_strings, decode_json, is_count, parse_covid, parse_views, parse_visitors,
                          read_json, region_sentence)
from portal import view_shards
from portal.vietnamese import vi_bulletin_time, vi_number
from site_search import fold_d

LIVE = ROOT / "theme/static/js/live-widgets.js"
SEARCH = ROOT / "theme/static/js/search.js"
FEEDS = "/feeds/"


def nfd(text):
    return unicodedata.normalize("NFD", text)


# --- the cases ------------------------------------------------------------------

NUMBERS = [0, 1, 7, 9, 10, 99, 100, 999, 1000, 1001, 9999, 10000, 12345, 99999, 100000, 999999, 1000000,
           3357, 2686455, 21067959, 757431, 10**9, 2**31 - 1, 2**31, 2**32, 123456789012, 10**15,
           2**53 - 1 - 10**14, 9 * 10**15 - 1,
           # num() is only given what ok() admits, but it formats these the same too
           -1, -12, -123, -1234, -1000000, -2686455]

# JSON values as a feed writes them: a count, or a value both sides refuse
COUNTS = ["0", "-0", "1", "38", "2686455", "8999999999999999", "9000000000000000", "9007199254740993",
          "12345678901234567890", "-1", "-2686455", "1.5", "-0.5", "true", "false", "null", '"12"', '"١٢"',
          "[]", "{}", "[1]", "3.0", "1e3", "1E2", "0.0", "-0.0", "1e400"]

# moments (UTC, ISO 8601) for the bulletin's "11h00 ngày 14/8/2020"
TIMES = [
    "2020-08-14T04:00:00Z",       # 11h00 in Vietnam
    "2020-08-14T05:00:00Z",       # noon
    "2020-08-14T17:00:00Z",       # midnight in Vietnam: the next day already
    "2020-08-14T16:59:59.999Z",   # the last millisecond of 14/8 in Vietnam
    "2020-08-14T00:00:00Z",       # midnight UTC: 07h00 in Vietnam
    "2020-08-13T23:59:59.999Z",   # the day before in UTC, 14/8 in Vietnam
    "2020-08-14T16:00:00Z", "2020-08-14T16:01:00Z", "2020-08-14T03:09:00Z",
    "2020-12-31T16:59:00Z", "2020-12-31T17:00:00Z",   # New Year in Vietnam
    "2020-02-28T17:00:00Z", "2020-02-29T16:59:00Z", "2021-02-28T17:00:00Z",   # 29/2
    "2000-01-01T00:00:00Z", "2019-12-31T17:00:00Z", "2038-01-19T03:14:08Z",
    "1975-06-12T16:00:00Z",       # Vietnam on UTC+7 from here (tzdata)
    "2099-12-31T16:59:59Z", "9999-12-31T16:59:59.999Z",
    "1970-01-01T00:00:00.001Z",   # UTC+8 then: see KNOWN
]

# regions as covid.json writes them; both sides clean the strings first
REGIONS = [
    '{"name": "Thế giới", "cases": 21067959, "deaths": 757431}',
    '{"name": "Việt Nam", "cases": 911, "deaths": 21, "recovered": 425}',
    '{"name": "Bình Phước", "cases": 0}',
    json.dumps({"name": nfd("Bình Phước"), "cases": 0}),
    '{"name": "Binh Phuoc", "deaths": 0}',
    '{"name": "Đắk Lắk", "recovered": 12}',
    '{"name": "Đồng Nai", "cases": 1, "recovered": 1}',
    '{"name": "Hà Nội", "deaths": 5, "recovered": 7}',
    '{"name": "TP. Hồ Chí Minh", "cases": 8999999999999999, "deaths": 0, "recovered": 0}',
    '{"name": "Bà Rịa – Vũng Tàu", "deaths": 1000, "cases": 1}',
    json.dumps({"name": nfd("Thừa Thiên Huế"), "recovered": 1000000}, ensure_ascii=False),
    '{"name": "  Thừa Thiên Huế \\u3000", "cases": 1000000}',
    '{"name": "\\u00a0Cà Mau\\u00a0\\u2009", "cases": 1}',
    '{"name": "\\u1680\\u202f\\u205fKiên Giang", "cases": 2}',
    '{"name": "<img src=x onerror=alert(1)>", "cases": 1}',
    '{"name": "Kon\\u200bTum\\u200d", "cases": 2}',
    '{"name": "Bình\\u202ePhước", "cases": 1234}',
    '{"name": "\\u2066Sóc Trăng\\u2069", "cases": 3}',
    '{"name": "Lào\\u00adCai\\ufeff", "cases": 3}',
    '{"name": "\\udb40\\udc41Hậu Giang", "cases": 3}',
    '{"name": "😀 Điện Biên", "cases": 3}',
    '{"name": "\\u200b", "cases": 1}',
    '{"name": "", "cases": 1}',
    '{"name": "   ", "cases": 1}',
    '{"name": "a\\u001bb", "cases": 1}',
    '{"name": "Huế\\u0085", "cases": 1}',
    '{"name": "Huế\\u007f", "cases": 1}',
    '{"name": "Huế\\ud800", "cases": 1}',
    '{"name": 5, "cases": 1}',
    '{"cases": 1}',
    '{"name": "Huế"}',
    '{"name": "Huế", "note": "không có số"}',
    '{"name": "Huế", "cases": -1}',
    '{"name": "Huế", "cases": "5"}',
    '{"name": "Huế", "cases": null}',
    '{"name": "Huế", "cases": true}',
    '{"name": "Huế", "cases": 1, "deaths": 1.5}',
    '{"name": "Huế", "cases": 9000000000000000}',
    '{"name": "Huế", "cases": 1, "ghi chú": "thêm"}',
    '{"name": "Huế", "cases": 3.0}',
]

# whole feeds (any JSON) through the cleaning of every string, keys too
STRINGS = [
    '"Bình Phước"', json.dumps(nfd("Bình Phước")), '"\\u202e1.234"', '"1.234\\u202c"',
    '"a\\u200bb\\u200cc\\u200dd\\u200ee\\u200ff"', '"\\ufeffBOM"', '"x\\u2028y\\u2029z"', '"\\u00adsoft"',
    '"\\u061cArabic mark"', '"\\u180eMongolian"', '"\\u2060\\u2061\\u2064\\u206f"', '"\\ufe0fselector"',
    '"\\u3164\\uffa0filler"', '"\\ufff9\\ufffb"', '"\\udb40\\udc41\\udb40\\udc7f"', '"\\udb43\\udfff"',
    '"\\ud83d\\ude00"', '"\\ud834\\udd73musical"', '"Đđd\\u0335"', '"\\u00a0\\u3000"', '""',
    '"a\\u0000b"', '"\\u0009tab"', '"line\\nend"', '"\\u007f"', '"\\u0080"', '"\\u009f"', '"\\ud800"',
    '"\\udc00x"', '"\\udbff\\udbff"', '"\\u00a0ok\\u00ad"',
    '{"k\\u202e": ["x\\u200by"]}', '{"__proto__": {"cases": 1}}', '{"constructor": "x", "toString": 1}',
    '[1, true, null, 2.5, "\\u2066a\\u2069"]', '{"a\\u200b": 1, "a": 2}', '{"": ""}',
    '{"regions": [{"name": "Bình\\u202ePhước", "cases": 1}]}', '{"k": {"k\\u0007": 1}}',
    '{"views": {"xay-dung-dang/bai\\u200b.html": 3}}', '{"1\\u200b": "x", "1": "y"}',
]

# search queries (already trimmed, single-spaced: clean() also does that)
QUERIES = [
    "Đại hội Đảng bộ xã Đồng Tiến", "đại hội", "ĐẠI HỘI ĐẢNG", "dai hoi", "Đắk Lắk", "Điện Biên Phủ",
    "đ", "Đ", "dđĐD", "Quốc phòng - An ninh", "Học tập và làm theo Bác", "Văn hóa - Xã hội",
    nfd("Đại hội Đảng bộ"), nfd("Bình Phước"), nfd("Đồng Xoài"), nfd("Phước Long"),
    "Phu\u031bo\u031b\u0301c", "D\u0323", "d\u0335 D\u0335", "\u0111\u0110", "ð Ɖ ɖ đ",
    "<script>đ</script>", "ǲ", "Ⅾ", "đ\u0300", "đ\u0301ại", "",
]

# whole feeds: the build's reading against the script's, in a page
COVID_OK = {"updated": "2020-08-14T11:00:00+07:00", "title": "Cập nhật virus nCoV",
            "regions": [{"name": "Thế giới", "cases": 21067959, "deaths": 757431},
                        {"name": "Bình Phước", "cases": 0}]}
DISEASE_SH = (ROOT / "content/feeds/disease-sh-vietnam.json").read_text(encoding="utf-8")
VISITORS_OK = {"updated": "2020-08-14T11:00:00+07:00", "online": 38, "today": 3357, "total": 2686455}
VIEWS_URL = "xay-dung-dang/bai.html"
# an address in VIEWS_URL's shard, listed before it there
NEIGHBOUR = next(name for name in (f"a-{n}.html" for n in range(10**5))
                 if view_shards.shard_of(name) == view_shards.shard_of(VIEWS_URL))


def _covid(**change):
    return json.dumps(dict(COVID_OK, **change), ensure_ascii=False)


def _disease_sh(**change):
    data = json.loads(DISEASE_SH)
    data.update(change)
    return json.dumps({k: v for k, v in data.items() if v is not None})


WITH_SOURCE = [{"name": "Việt Nam", "source": "vn.json"}, {"name": "Bình Phước", "cases": 0}]
PIPELINES = {
    "sample feeds": {name: (ROOT / "content/feeds" / name).read_text(encoding="utf-8")
                     for name in ("covid.json", "disease-sh-vietnam.json", "visitors.json", "views.json")},
    "offset +07:00 at midnight": {"covid.json": _covid(updated="2020-08-15T00:00:00+07:00")},
    "UTC time, Z": {"covid.json": _covid(updated="2020-08-14T17:00:00Z")},
    "offset +00:00": {"covid.json": _covid(updated="2020-08-14T16:59:00+00:00")},
    "fractional seconds": {"covid.json": _covid(updated="2020-08-14T11:59:59.999+07:00")},
    "naive time": {"covid.json": _covid(updated="2020-08-14T11:00:00")},
    "date only": {"covid.json": _covid(updated="2020-08-14")},
    "space for T": {"covid.json": _covid(updated="2020-08-14 11:00:00+07:00")},
    "time in the future": {"covid.json": _covid(updated="2099-01-01T00:00:00+07:00")},
    "not a time": {"covid.json": _covid(updated="hôm qua")},
    "disease.sh newer than covid.json": {
        "covid.json": _covid(regions=WITH_SOURCE), "vn.json": _disease_sh(updated=1597395600000)},
    "disease.sh older than covid.json": {
        "covid.json": _covid(regions=WITH_SOURCE), "vn.json": _disease_sh(updated=1597300000000)},
    "disease.sh without recovered": {
        "covid.json": _covid(regions=WITH_SOURCE), "vn.json": _disease_sh(recovered=None)},
    "disease.sh of another shape": {
        "covid.json": _covid(regions=WITH_SOURCE), "vn.json": _disease_sh(country=None)},
    "disease.sh source missing": {"covid.json": _covid(regions=WITH_SOURCE)},
    "a bad region number": {"covid.json": _covid(regions=[{"name": "Huế", "cases": -5}])},
    "bidi and invisible name": {"covid.json": _covid(regions=[{"name": "\u2067Bình\u202e Phước\u200b", "cases": 1234}])},
    "control character in title": {"covid.json": _covid(title="Cập nhật\u001b[2J")},
    "visitors": {"visitors.json": json.dumps(VISITORS_OK)},
    "visitors big": {"visitors.json": json.dumps(dict(VISITORS_OK, online=0, total=8999999999999999))},
    "visitors, one bad count": {"visitors.json": json.dumps(dict(VISITORS_OK, today=-1))},
    "visitors, updated not a time": {"visitors.json": json.dumps(dict(VISITORS_OK, updated="hôm nay"))},
    "visitors, bidi in a key": {"visitors.json": json.dumps(dict(VISITORS_OK, **{"to\u200bday": 5}))},
    "views": {"views.json": json.dumps({"updated": "2020-08-14T11:00:00+07:00", "views": {VIEWS_URL: 1850}})},
    "views, the shard holds other pages": {"views.json": json.dumps(
        {"updated": "2020-08-14T11:00:00+07:00", "views": {VIEWS_URL: 1850, NEIGHBOUR: 7, "khac.html": 9}})},
    "views, a bad count elsewhere": {"views.json": json.dumps(
        {"updated": "2020-08-14T11:00:00+07:00", "views": {VIEWS_URL: 1850, "khac.html": -1}})},
}

# (table, case) -> why the browser and the build differ there, on purpose or
# until someone decides; each must still differ (else remove it here)
INTEGRAL_FLOAT = ("JSON has one number type: the browser cannot tell 3.0 from 3 and shows it; "
                  "the build refuses a count written with a decimal point or exponent")
KNOWN = {
    **{("count", text): INTEGRAL_FLOAT for text in ("3.0", "1e3", "1E2", "0.0", "-0.0")},
    ("region", '{"name": "Huế", "cases": 3.0}'): INTEGRAL_FLOAT,
    ("time", "1970-01-01T00:00:00.001Z"): "Vietnam was on UTC+8 until 13/6/1975 (tzdata); the script "
                                           "assumes +7, and bulletins are from 2020 on",
    ("clean", '{"1\\u200b": "x", "1": "y"}'): "a JS object lists integer-like keys first, so of two keys "
                                              "that clean to the same one another value wins; no feed has such keys",
    ("feeds", "naive time"): "the build refuses a time without offset (Date.parse would read it as the "
                             "reader's local time), so it never publishes one; the script reads what it is given",
    ("feeds", "space for T"): "the build takes only the contract's form (2020-08-14T11:00:00+07:00); "
                              "Date.parse also takes a space for the T",
    ("feeds", "date only"): "the build refuses a date without time and offset; Date.parse reads midnight UTC",
    ("feeds", "time in the future"): "the build refuses a feed dated ahead of its clock; the script has no clock check",
    ("feeds", "disease.sh of another shape"): "the build wants disease.sh's country/affectedCountries; the "
                                              "script reads any object with the numbers",
    ("feeds", "visitors, one bad count"): "the build refuses the whole feed; the script skips only the bad "
                                          "number and shows the others",
    ("feeds", "visitors, updated not a time"): "the script does not read the visitors' time; the build "
                                               "refuses the feed",
}


# --- the browser side ------------------------------------------------------------

HARNESS = """async ({live, search, base, tables}) => {
  const settle = async () => { for (let i = 0; i < 40; i++) await new Promise(r => setTimeout(r, 0)); };
  const trailer = '})(document);', at = live.lastIndexOf(trailer);
  if (at < 0 || live.slice(at + trailer.length).trim()) throw new Error('live-widgets.js must end with ' + trailer);
  const body = 'var api = ' + live.slice(0, at) +
    '\\nreturn {num: num, when: when, line: line, clean: clean, ok: ok};\\n' + live.slice(at) + '\\nreturn api;';
  const script = new Function('document', 'fetch', 'setInterval', body);
  // the markup the widgets' partials render (the build's text replaced by a mark)
  const MARKUP = '<ul><li><strong data-stat="online">-</strong></li><li><strong data-stat="today">-</strong></li>' +
    '<li><strong data-stat="total">-</strong></li></ul><p data-views-url="VIEWS" data-views-shard="SHARD" hidden><span data-views>-</span></p>' +
    '<section data-bulletin><span data-bulletin-time>-</span><ul><li>-</li></ul></section>';
  function widgets(files) {
    const root = document.createElement('div');
    root.innerHTML = MARKUP.replace('VIEWS', tables.viewsUrl).replace('SHARD', tables.viewsShard);
    const doc = {
      currentScript: {getAttribute: n => n === 'data-feeds' ? base : null},
      querySelector: q => root.querySelector(q), querySelectorAll: q => root.querySelectorAll(q),
      createElement: t => document.createElement(t),
    };
    const fetchStub = url => Promise.resolve(url.startsWith(base) && Object.hasOwn(files, url.slice(base.length))
      ? new Response(files[url.slice(base.length)], {headers: {'Content-Type': 'application/json'}})
      : new Response('', {status: 404}));
    return {api: script(doc, fetchStub, () => 0), root};
  }
  const attempt = f => { try { return f(); } catch (e) { return null; } };
  const {api} = widgets({});
  const ns = {};
  new Function('window', 'document', search)(ns, {currentScript: null, getElementById: () => null});
  const out = {
    number: tables.number.map(api.num),
    count: tables.count.map(t => attempt(() => api.ok(JSON.parse(t)))),
    time: tables.time.map(t => api.when(Date.parse(t))),
    region: tables.region.map(t => attempt(() => api.line(api.clean(JSON.parse(t))))),
    clean: tables.clean.map(t => attempt(() => JSON.stringify(api.clean(JSON.parse(t))))),
    fold: tables.fold.map(q => ns.portalSearch.foldD(ns.portalSearch.clean(q))),
    feeds: [],
  };
  const text = (root, q) => { const e = root.querySelector(q); return e.textContent === '-' ? null : e.textContent; };
  const roots = tables.feeds.map(files => widgets(files).root);
  await settle();
  for (const root of roots) {
    const bulletin = text(root, '[data-bulletin-time]');
    const views = root.querySelector('[data-views-url]');
    out.feeds.push({
      bulletin: bulletin && {time: bulletin, lines: [...root.querySelectorAll('[data-bulletin] li')].map(li => li.textContent)},
      stats: Object.fromEntries(['online', 'today', 'total'].map(k => [k, text(root, '[data-stat="' + k + '"]')])),
      views: views.hidden ? null : text(views, '[data-views]'),
    });
  }
  return out;
}"""


def published(files):
    """What the browser finds of ``files`` once built: views.json's views
    in their shards (the script never fetches views.json), and none when
    the build refuses views.json."""
    files = dict(files)
    views = files.pop("views.json", None)
    if views is not None:
        try:
            files.update(view_shards.render_shards(parse_views(clean_strings(decode_json(views)))))
        except FeedError:
            pass
    return {name: data.decode("utf-8") if isinstance(data, bytes) else data for name, data in files.items()}


def browser_side(page, live, search):
    tables = {"number": NUMBERS, "count": COUNTS, "time": TIMES, "region": REGIONS, "clean": STRINGS,
              "fold": QUERIES, "feeds": [published(files) for files in PIPELINES.values()], "viewsUrl": VIEWS_URL,
              "viewsShard": view_shards.shard_path(VIEWS_URL)}
    return page.evaluate(HARNESS, {"live": live, "search": search, "base": FEEDS, "tables": tables})


# --- the build side --------------------------------------------------------------

def _refused(compute):
    try:
        return compute()
    except FeedError:
        return None


def _count(text):
    try:
        return is_count(decode_json(text))
    except FeedError:
        return False


def _moment(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _region(text):
    regions = clean_strings(decode_json(text))
    covid = parse_covid(dict(COVID_OK, regions=[regions]), "feeds", read=None)
    return region_sentence(covid["regions"][0])


def _clean(text):
    return clean_strings(decode_json(text))


def _feeds(files, folder):
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")

    def load(name, parse):
        return _refused(lambda: parse(read_json(str(folder / name)))) if name in files else None

    covid = load("covid.json", lambda data: parse_covid(data, str(folder)))
    visitors = load("visitors.json", parse_visitors)
    views = load("views.json", parse_views)
    return {
        "bulletin": covid and {"time": vi_bulletin_time(covid["updated"]),
                               "lines": [region_sentence(r) for r in covid["regions"]]},
        "stats": {k: vi_number(visitors[k]) if visitors else None for k in ("online", "today", "total")},
        "views": vi_number(views[VIEWS_URL]) if views and VIEWS_URL in views else None,
    }


def build_side(tmp_path):
    return {
        "number": [vi_number(n) for n in NUMBERS],
        "count": [_count(t) for t in COUNTS],
        "time": [vi_bulletin_time(_moment(t)) for t in TIMES],
        "region": [_refused(lambda: _region(t)) for t in REGIONS],
        "clean": [_refused(lambda: _clean(t)) for t in STRINGS],
        "fold": [fold_d(q) for q in QUERIES],
        "feeds": [_feeds(files, tmp_path / f"feeds-{i}") for i, files in enumerate(PIPELINES.values())],
    }


CASES = {"number": NUMBERS, "count": COUNTS, "time": TIMES, "region": REGIONS, "clean": STRINGS,
         "fold": QUERIES, "feeds": list(PIPELINES)}


def differences(table, python, browser):
    """``[(case, python's, browser's)]`` where the two differ."""
    answers = browser[table]
    if table == "clean":  # the browser's answer is JSON text
        answers = [None if b is None else json.loads(b) for b in answers]
    return [(case, p, b) for case, p, b in zip(CASES[table], python[table], answers, strict=True) if p != b]


def report(table, found):
    return "\n".join(f"  {table}: {case!r}: build {p!r}, browser {b!r}" for case, p, b in found)


# --- fixtures and tests ------------------------------------------------------------

@pytest.fixture(scope="module")
def page(browser):
    """A blank page in a reader's browser abroad (Paris time)."""
    context = browser.new_context(locale="vi-VN", timezone_id="Europe/Paris")
    watched = Watched(context)
    yield watched
    assert watched.console_errors == [] and watched.outside_requests == []
    context.close()


@pytest.fixture(scope="module")
def python(tmp_path_factory):
    return build_side(tmp_path_factory.mktemp("agreement"))


@pytest.fixture(scope="module")
def js(page):
    return browser_side(page.page, LIVE.read_text(encoding="utf-8"), SEARCH.read_text(encoding="utf-8"))


@pytest.mark.parametrize("table", list(CASES))
def test_browser_and_build_agree(table, python, js):
    found = differences(table, python, js)
    unexpected = [d for d in found if (table, d[0]) not in KNOWN]
    healed = [case for (t, case) in KNOWN if t == table and case not in [d[0] for d in found]]
    assert not unexpected, f"the browser and the build differ on {len(unexpected)} case(s):\n" + report(
        table, unexpected)
    assert not healed, f"listed in KNOWN but now the same, remove from KNOWN: {healed}"


def test_the_cases_reach_the_script(python, js):
    """Guards against a harness that compares nothing: the sample feeds
    update every widget, as the build renders them."""
    sample = js["feeds"][list(PIPELINES).index("sample feeds")]
    assert sample["bulletin"]["time"] == "11h00 ngày 14/8/2020"
    assert sample["bulletin"]["lines"][1] == "Việt Nam: 911 người mắc, 21 người tử vong (đã phục hồi 425)."
    assert sample["stats"] == {"online": "38", "today": "3.357", "total": "2.686.455"}
    assert js["feeds"][list(PIPELINES).index("views, the shard holds other pages")]["views"] == "1.850"
    assert js["fold"][0] == "Dại hội Dảng bộ xã Dồng Tiến"
    assert sum(r is None for r in js["region"]) > 10 and sum(r is not None for r in js["region"]) > 10


# A script changed by hand in each of its copies of the Python: the test
# above must see every one (string, replacement, table that catches it).
MUTANTS = {
    "num: comma for thousands": (LIVE, "'.'); }", "','); }", "number"),
    "num: no separator below a million": (LIVE, "(\\d{3})+(?!\\d)", "(\\d{3}){2,}(?!\\d)", "number"),
    "ok: negatives admitted": (LIVE, "v >= 0 &&", "v >= -9e15 &&", "count"),
    "ok: a larger bound": (LIVE, "v < 9e15", "v < 9.1e15", "count"),
    "when: UTC+8": (LIVE, "ms + 252e5", "ms + 288e5", "time"),
    "when: no zero before the hour": (LIVE, "(h < 10 ? '0' : '') + h", "h", "time"),
    "when: month from zero": (LIVE, "(t.getUTCMonth() + 1)", "t.getUTCMonth()", "time"),
    "line: other words": (LIVE, "' người tử vong'", "' ca tử vong'", "region"),
    "line: recovered outside brackets": (LIVE, "t + ' (' + n + ')'", "t + ', ' + n", "region"),
    "line: name not trimmed": (LIVE, "r.name.trim()", "r.name", "region"),
    "clean: U+202E kept": (LIVE, "\\u2028-\\u202e", "\\u2028-\\u202d", "clean"),
    "clean: DEL allowed": (LIVE, "/[\\0-\\x1f\\x7f-\\x9f]/", "/[\\0-\\x1f\\x80-\\x9f]/", "clean"),
    "clean: keys left alone": (LIVE, "o[clean(k)]", "o[k]", "clean"),
    "views: the whole views.json again": (LIVE, "get(p.dataset.viewsShard)", "get('views.json')", "feeds"),
    "views: another page's count": (LIVE, "v.views[p.dataset.viewsUrl]", "v.views[Object.keys(v.views)[0]]",
                                    "feeds"),
    "search: Đ kept": (SEARCH, ".replace(/Đ/g, 'D')", "", "fold"),
    "search: no NFC": (SEARCH, "(q || '').normalize('NFC')", "(q || '')", "fold"),
}


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_a_drifted_script_is_caught(mutant, page, python):
    path, old, new, table = MUTANTS[mutant]
    sources = {LIVE: LIVE.read_text(encoding="utf-8"), SEARCH: SEARCH.read_text(encoding="utf-8")}
    assert sources[path].count(old) == 1, f"{path.name} no longer holds {old!r}: update this mutant"
    sources[path] = sources[path].replace(old, new)
    found = differences(table, python, browser_side(page.page, sources[LIVE], sources[SEARCH]))
    assert [d for d in found if (table, d[0]) not in KNOWN], f"{mutant}: not caught"
