"""Hostile and broken feeds: bounded decoding, invisible characters, the
last-good cache, files outside content/ (issue 9, part D)."""

import json
import os
import shutil
import unicodedata

import pytest
from conftest import ROOT, Site, build, run_pelican, write_article
from test_live_widgets import widget_texts
from live_widgets import read_cache
from portal.feeds import (MAX_COUNT, MAX_FEED_BYTES, FeedError, parse_covid, parse_disease_sh, parse_time,
                                parse_visitors, read_json)
from portal import view_shards
from portal.safe_text import CONTROL, INVISIBLE, shown

SAMPLE_FEEDS = ROOT / "content" / "feeds"
SEED = "xay-dung-dang/ket-qua.html"
GOOD_VISITORS = '{"updated": "2020-08-14T11:00:00+07:00",\n"online": 38,\n"today": 3357,\n"total": 2686455}\n'


def shown_path(path):
    """A path as the build prints it (relative to the project, where make runs)."""
    return os.path.relpath(path, ROOT)


# --- unit: one typed error with a line per hostile file ----------------------------

HOSTILE_FILES = [
    # (bytes, line, message)
    (b'{"updated": "x",\n"online": 1,\n"today": "\xff\xfe"}', 3,
     "tệp không phải UTF-8: hãy lưu lại với mã UTF-8 (not UTF-8: invalid start byte)"),
    (b'{"updated": "x",\n"online": 1\x00}', 2, "tệp chứa ký tự điều khiển U+0000; hãy xóa nó (control character)"),
    (b'{\n\n"title": "\x1b[2J"}', 3, "tệp chứa ký tự điều khiển U+001B; hãy xóa nó (control character)"),
    (b'{"a": "\xc2\x85"}', 1, "tệp chứa ký tự điều khiển U+0085; hãy xóa nó (control character)"),
    (b"[" * 100_000 + b"]" * 100_000, 1, "JSON lồng nhau quá 16 tầng (nested deeper than 16)"),
    (b'{\n"a": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}', 2, "JSON lồng nhau quá 16 tầng (nested deeper than 16)"),
    (b'{"updated": "x",\n\n"total": ' + b"9" * 5000 + b"}", 3, "số có 5000 chữ số, quá lớn (number too long)"),
    (b'{"online": -' + b"1" * 17 + b"}", 1, "số có 17 chữ số, quá lớn (number too long)"),
    (b'{"online":\n NaN}', 2, "“NaN” không phải số JSON hợp lệ (not valid JSON)"),
    (b'{"online":\n Infinity}', 2, "“Infinity” không phải số JSON hợp lệ (not valid JSON)"),
    (b'{"online": 1,\n', 2, "JSON không hợp lệ: Expecting property name enclosed in double quotes (invalid JSON)"),
    # a string never closed, full of escaped quotes: the nesting scan is linear
    # (it once rescanned from every quote: 600 KB took hours)
    (b'{"title":\n"' + b'\\"' * 300_000, 2, "JSON không hợp lệ: Unterminated string starting at (invalid JSON)"),
]


@pytest.mark.parametrize("data,line,message", HOSTILE_FILES)
def test_hostile_file_is_one_typed_error_with_its_line(tmp_path, data, line, message):
    path = tmp_path / "feed.json"
    path.write_bytes(data)
    with pytest.raises(FeedError) as error:
        read_json(path)
    assert (error.value.line, error.value.field, error.value.message) == (line, None, message)


def test_brackets_inside_strings_are_not_nesting_and_a_bom_is_allowed(tmp_path):
    path = tmp_path / "feed.json"
    text = json.dumps({"title": "[" * 50 + "{" * 50 + '\\"]', "n": [[1]]})
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert read_json(path)["n"] == [[1]]


def test_huge_file_and_not_a_file(tmp_path):
    huge = tmp_path / "huge.json"
    huge.write_bytes(b'{"a": "' + b"x" * MAX_FEED_BYTES + b'"}')
    with pytest.raises(FeedError) as error:
        read_json(huge)
    assert error.value.message == "tệp lớn hơn 8192 KB (file larger than 8192 KB)"
    os.mkfifo(tmp_path / "pipe.json")  # opening a pipe would block the build forever
    for path, message in ((tmp_path, "không phải tệp thông thường (not a regular file)"),
                          (tmp_path / "pipe.json", "không phải tệp thông thường (not a regular file)"),
                          (tmp_path / "none.json", "tệp không tồn tại (file not found)")):
        with pytest.raises(FeedError) as error:
            read_json(path)
        assert error.value.message == message


@pytest.mark.parametrize("text,field,code", [
    ('{"title": "a\\u001b[31mb"}', "title", "U+001B"),
    ('{"regions": [{"name": "x\\ny"}]}', "regions[0].name", "U+000A"),
    ('{"views": {"a\\u0000.html": 1}}', "views.a\x00.html", "U+0000"),
    ('{"regions": [{"name": "\\ud800"}]}', "regions[0].name", "U+D800"),
    ('["\\u009b"]', "[0]", "U+009B"),
])
def test_control_characters_in_strings_refuse_the_feed_naming_the_field(tmp_path, text, field, code):
    path = tmp_path / "feed.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FeedError) as error:
        read_json(path)
    assert error.value.field == field
    assert error.value.message == f"chứa ký tự điều khiển {code}; hãy xóa nó (control character in text)"


def test_invisible_characters_are_removed_from_every_string_and_noted(tmp_path):
    path = tmp_path / "covid.json"
    path.write_text(json.dumps({"title": "Tin\u200b", "regions": [{"name": "A\u202e1.234\u202c", "cases": 1}],
                                "k\u2066": "v"}), encoding="utf-8")
    notes = []
    data = read_json(path, notes=notes)
    assert data == {"title": "Tin", "regions": [{"name": "A1.234", "cases": 1}], "k": "v"}
    assert notes == [(path, "title", ["\u200b"]), (path, "regions[0].name", ["\u202e", "\u202c"]),
                     (path, "k\u2066", ["\u2066"])]


def test_numbers_and_times_out_of_range_are_field_errors():
    good = {"updated": "2020-08-14T11:00:00+07:00", "online": MAX_COUNT - 1, "today": 0, "total": 0}
    assert parse_visitors(good)["online"] == MAX_COUNT - 1
    with pytest.raises(FeedError) as error:
        parse_visitors(dict(good, online=MAX_COUNT))  # live-widgets.js would not show it either
    assert error.value.field == "online"
    with pytest.raises(FeedError) as error:
        parse_time("9999-12-31T23:59:59-12:00")  # past year 9999 in Vietnam time
    assert error.value.field == "updated"
    with pytest.raises(FeedError) as error:
        parse_disease_sh({"country": "Vietnam", "updated": MAX_COUNT - 1, "cases": 1, "deaths": 1, "recovered": 1})
    assert (error.value.field, error.value.message) == (
        "updated", "thời điểm (mili giây) quá xa (epoch milliseconds out of range)")


def test_a_source_file_problem_names_the_source_and_its_line(tmp_path):
    (tmp_path / "vn.json").write_bytes(b'{"country": "Vietnam",\n"cases": \x01}')
    feed = {"updated": "2020-08-14T11:00:00+07:00", "regions": [{"name": "VN", "source": "vn.json"}]}
    with pytest.raises(FeedError) as error:
        parse_covid(feed, str(tmp_path), read=read_json)
    assert error.value.field == "regions[0].source (vn.json:2)"


def test_shown_makes_terminal_controls_visible():
    assert shown("Báo\x1b[2J\x07 \u202eX\r\ud800") == "Báo\\x1b[2J\\x07 \\u202eX\\x0d\\ud800"


def test_invisible_table_covers_every_format_character_of_this_python():
    """A newer Unicode may add format characters: this tells when the table
    (and its copy in live-widgets.js) needs them."""
    missing = [f"U+{c:04X}" for c in range(0x110000)
               if unicodedata.category(chr(c)) in ("Cf", "Zl", "Zp") and not INVISIBLE.match(chr(c))]
    assert missing == []


# --- site level --------------------------------------------------------------

@pytest.fixture
def widget_site(tiny_content):
    shutil.copytree(SAMPLE_FEEDS, tiny_content / "feeds")
    views = json.loads((tiny_content / "feeds" / "views.json").read_text(encoding="utf-8"))
    views["views"] = {SEED: 185}
    (tiny_content / "feeds" / "views.json").write_text(json.dumps(views), encoding="utf-8")
    (tiny_content / "feeds" / "visitors.json").write_text(GOOD_VISITORS, encoding="utf-8")
    write_article(tiny_content / "articles", "ket-qua", {
        "Title": "Kết quả", "Slug": "ket-qua", "Date": "2020-03-26 08:15",
        "Category": "Xây dựng Đảng", "Summary": "Lời dẫn."})
    return tiny_content


def stats_of(site):
    """The visitor statistics a reader sees without JavaScript (the page has none)."""
    return widget_texts(site, SEED)[0]


def bulletin_of(site):
    box = site.soup(SEED).select_one(".widget--bulletin")
    return [li.get_text() for li in box.select("li")] if box else None


def problem_lines(log, path):
    return [line for line in log.splitlines() if line.startswith(shown_path(path))]


@pytest.mark.parametrize("data,line,message", [case for case in HOSTILE_FILES if case[1] > 1][:4] + [
    (b"[" * 100_000 + b"]" * 100_000, 1, "JSON lồng nhau quá 16 tầng (nested deeper than 16)"),
    (b'{"updated": "2020-08-14T11:00:00+07:00", "online": 1, "today": 1,\n"total": ' + b"7" * 5000 + b"}", 2,
     "số có 5000 chữ số, quá lớn (number too long)"),
])
def test_make_html_warns_once_and_keeps_the_last_good_values(widget_site, tmp_path, data, line, message):
    first = build(widget_site, tmp_path)
    good = stats_of(first)
    assert good == ["Đang online: 38", "Hôm nay: 3.357", "Lượt truy cập: 2.686.455"]
    feed = widget_site / "feeds" / "visitors.json"
    feed.write_bytes(data)
    result = run_pelican(widget_site, first.output, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout
    assert problem_lines(result.stdout, feed) == [
        f"{shown_path(feed)}:{line}: cảnh báo: {message}; dùng số liệu hợp lệ lần trước (keeping the last good values). "
        "Hãy sửa tệp này (fix this file)."]
    assert stats_of(first) == good
    assert json.loads(first.text("feeds/visitors.json"))["total"] == 2686455
    strict = run_pelican(widget_site, tmp_path / "strict", settings="publishconf.py", fatal="warnings",
                         cache=tmp_path / "cache")
    assert strict.returncode != 0 and "Traceback" not in strict.stdout
    assert not (tmp_path / "strict" / "index.html").exists()


def test_a_hostile_published_copy_is_named_and_ignored(widget_site, tmp_path):
    site = build(widget_site, tmp_path)
    live = site.output / "feeds" / "visitors.json"
    live.write_bytes(b'{"updated": "2099-01-01T00:00:00+07:00",\n"online": ' + b"[" * 50_000)
    result = run_pelican(widget_site, site.output, cache=tmp_path / "cache")
    assert result.returncode == 0 and "Traceback" not in result.stdout
    assert problem_lines(result.stdout, live) == [
        f"{shown_path(live)}:2: cảnh báo: JSON lồng nhau quá 16 tầng (nested deeper than 16); bản do bộ đếm ghi bị bỏ qua "
        "đến lần chạy make stats sau (the counter's published copy is ignored until make stats rewrites it)."]
    assert stats_of(site) == ["Đang online: 38", "Hôm nay: 3.357", "Lượt truy cập: 2.686.455"]


BIDI_NAME = "B\u00ecnh Ph\u01b0\u1edbc \u202e1.234\u202c\u200b\u2066x\u2069\u061c\u200e"


def test_bidi_controls_in_a_region_name_are_removed_with_a_warning(widget_site, tmp_path):
    covid = widget_site / "feeds" / "covid.json"
    covid.write_text(json.dumps({"updated": "2020-08-14T11:00:00+07:00", "title": "Tin\u202e",
                                 "regions": [{"name": BIDI_NAME, "cases": 1234}]}), encoding="utf-8")
    site = build(widget_site, tmp_path)
    assert bulletin_of(site) == ["Bình Phước 1.234x: 1.234 người mắc."]
    assert site.soup(SEED).select_one(".widget--bulletin h2").get_text() == "Tin"
    assert problem_lines(site.log, covid) == sorted([  # the reporter sorts by path, line, message
        f"{shown_path(covid)}: cảnh báo: trường title: đã bỏ ký tự vô hình/điều khiển hướng chữ U+202E (chúng có thể làm "
        "chữ số hiện ngược, “1.234” thành “432.1”); hãy xóa chúng khỏi tệp (invisible or bidi control characters "
        "removed)",
        f"{shown_path(covid)}: cảnh báo: trường regions[0].name: đã bỏ ký tự vô hình/điều khiển hướng chữ U+202E, U+202C, "
        "U+200B, U+2066, U+2069, U+061C, U+200E (chúng có thể làm chữ số hiện ngược, “1.234” thành “432.1”); "
        "hãy xóa chúng khỏi tệp (invisible or bidi control characters removed)",
    ])
    published = json.loads(site.text("feeds/covid.json"))
    assert published["regions"][0]["name"] == "Bình Phước 1.234x"
    assert not INVISIBLE.search(site.text(SEED))


@pytest.mark.parametrize("cache_bytes", [
    b"", b'{"visitors": {"raw": {"updated": "2020-08-1', b"not json", b"\xff\xfe{}", b"[1, 2]",
    b'{"visitors": {"raw": {"online": -1}}}', b'{"covid": {"raw": {"updated": "2020-08-14T11:00:00+07:00", '
    b'"regions": [{"name": "A", "source": "gone.json"}]}, "sources": {}}}', b'{"x": 1}',
    b'{"views": {"raw": {"updated": "2020-08-14T11:00:00+07:00", "views": {}}, "sources": []}}',
])
def test_a_broken_cache_is_discarded_with_one_line_and_rebuilt(widget_site, tmp_path, cache_bytes):
    """Strict build, a missing feed, and a broken cache: the widget is left
    out exactly as with no cache at all, and the cache is whole again after."""
    (widget_site / "feeds" / "visitors.json").unlink()
    clean = build(widget_site, tmp_path / "clean", fatal=None)
    cache_file = tmp_path / "cache" / "live-widgets.json"
    cache_file.parent.mkdir()
    cache_file.write_bytes(cache_bytes)
    result = run_pelican(widget_site, tmp_path / "output", cache=tmp_path / "cache", fatal=None)
    assert result.returncode == 0 and "Traceback" not in result.stdout
    [line] = problem_lines(result.stdout, cache_file)
    assert line.startswith(f"{shown_path(cache_file)}:")
    assert line.endswith("bộ nhớ đệm hỏng, đã bỏ và sẽ tạo lại (unreadable cache discarded and rebuilt)")
    assert (tmp_path / "output" / SEED).read_bytes() == (clean.output / SEED).read_bytes()
    assert set(read_cache(cache_file)) == {"views", "covid"}
    again = run_pelican(widget_site, tmp_path / "output", cache=tmp_path / "cache", fatal=None)
    assert problem_lines(again.stdout, cache_file) == []


def test_a_broken_cache_does_not_fail_make_publish(widget_site, tmp_path):
    cache_file = tmp_path / "cache" / "live-widgets.json"
    cache_file.parent.mkdir()
    cache_file.write_bytes(b'{"visitors": {"raw"')
    result = run_pelican(widget_site, tmp_path / "output", settings="publishconf.py", fatal="warnings",
                         cache=tmp_path / "cache")
    assert result.returncode == 0, result.stdout
    assert stats_of(Site(tmp_path / "output")) == ["Đang online: 38", "Hôm nay: 3.357", "Lượt truy cập: 2.686.455"]


@pytest.fixture
def outside_feed(tmp_path):
    """A perfectly valid feed, outside content/: valid is not enough."""
    path = tmp_path / "elsewhere" / "visitors.json"
    path.parent.mkdir()
    path.write_text(GOOD_VISITORS.replace("2686455", "999"), encoding="utf-8")
    return path


@pytest.mark.parametrize("target", ["outside", "/etc/passwd"])
def test_a_feed_symlinked_outside_content_is_refused(widget_site, tmp_path, outside_feed, target):
    target = outside_feed if target == "outside" else target
    feed = widget_site / "feeds" / "visitors.json"
    feed.unlink()
    feed.symlink_to(target)
    site = build(widget_site, tmp_path)
    assert problem_lines(site.log, feed) == [
        f"{shown_path(feed)}: cảnh báo: tệp trỏ ra ngoài thư mục content/ (liên kết tượng trưng?) nên không được dùng "
        f"(resolves outside content/, to {os.path.realpath(target)}); chưa có số liệu để hiện (no figures shown yet). "
        "Hãy sửa tệp này (fix this file)."]
    assert stats_of(site) is None
    assert not site.exists("feeds/visitors.json")
    assert "999" not in site.text(SEED) and "root:" not in site.text(SEED)


def test_a_covid_source_symlinked_outside_content_is_refused(widget_site, tmp_path):
    outside = tmp_path / "vn.json"
    shutil.copy(SAMPLE_FEEDS / "disease-sh-vietnam.json", outside)
    source = widget_site / "feeds" / "disease-sh-vietnam.json"
    source.unlink()
    source.symlink_to(outside)
    site = build(widget_site, tmp_path)
    covid = widget_site / "feeds" / "covid.json"
    [line] = problem_lines(site.log, covid)
    assert line.startswith(f"{shown_path(covid)}: cảnh báo: trường regions[1].source (disease-sh-vietnam.json): tệp trỏ ra "
                           "ngoài thư mục content/")
    assert bulletin_of(site) is None and not site.exists("feeds/disease-sh-vietnam.json")


def test_python_and_browser_agree_on_invisible_and_control_characters(browser):
    """Every code point through live-widgets.js's own clean() and through
    safe_text's expressions, in Chromium: the page and the build agree."""
    from browser import new_page

    script = (ROOT / "theme/static/js/live-widgets.js").read_text(encoding="utf-8")
    clean = script[script.index("  var hide = "):script.index("  function num(")]
    watched = new_page(browser, 800)
    js = watched.page.evaluate(f"""() => {{
        {clean}
        const refused = [], hidden = [], odd = [];
        for (let c = 0; c < 0x110000; c++) {{
            if (c >= 0xd800 && c < 0xe000) continue;
            const s = String.fromCodePoint(c);
            let out;
            try {{ out = clean('a' + s + 'b'); }} catch (e) {{ refused.push(c); continue; }}
            if (out === 'ab') hidden.push(c); else if (out !== 'a' + s + 'b') odd.push(c);
        }}
        const refuses = v => {{ try {{ clean(v); return false; }} catch (e) {{ return true; }} }};
        const keyed = clean(JSON.parse('{{"__proto__": {{"cases": 1}}, "k\\u202e": ["x\\u200by"]}}'));
        return {{refused, hidden, odd,
                 lone: [refuses('a\\ud800b'), refuses('\\udc00'), refuses({{k: ['\\ud800']}}),
                        refuses('\\ud83d\\ude00'), refuses({{k: ['a\\u001bb']}})],
                 keyed: [Object.keys(keyed), keyed.k, 'cases' in keyed]}};
    }}""")
    watched.context.close()
    python_refused = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000 and CONTROL.match(chr(c))]
    python_hidden = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000 and INVISIBLE.match(chr(c))]
    assert js["refused"] == python_refused
    assert js["hidden"] == python_hidden
    assert js["odd"] == []
    assert js["lone"] == [True, True, True, False, True]
    assert js["keyed"] == [["__proto__", "k"], ["xy"], False]


def test_browser_renders_a_bidi_name_as_the_build_does(browser, widget_site, tmp_path):
    from browser import new_page, serve

    site = build(widget_site, tmp_path)
    covid = json.loads(site.text("feeds/covid.json"))
    covid["regions"][2]["name"] = BIDI_NAME
    covid["regions"][2]["cases"] = 1234
    (widget_site / "feeds" / "covid.json").write_text(json.dumps(covid), encoding="utf-8")
    rebuilt = build(widget_site, tmp_path / "rebuilt")
    # the published copy as the counter's operator might leave it: invisible characters back in
    (site.output / "feeds" / "covid.json").write_text(json.dumps(covid), encoding="utf-8")
    with serve(site.output) as base:
        watched = new_page(browser, 1280)
        watched.page.goto(base + "/" + SEED)
        watched.page.wait_for_function(
            "[...document.querySelectorAll('.bulletin__regions li')].some(li => li.textContent.includes('1.234'))")
        lines = watched.page.locator(".bulletin__regions li").all_text_contents()
        assert watched.console_errors == []
        watched.context.close()
    assert lines == bulletin_of(rebuilt)
    assert lines[2] == "Bình Phước 1.234x: 1.234 người mắc."


def test_browser_keeps_the_snapshot_when_a_feed_holds_a_control_character(browser, widget_site, tmp_path):
    from browser import new_page, serve

    site = build(widget_site, tmp_path)
    covid = json.loads(site.text("feeds/covid.json"))
    covid["regions"][2].update(name="Bình Phước\u001b[2J", cases=77)
    (site.output / "feeds" / "covid.json").write_text(json.dumps(covid), encoding="utf-8")
    # the article's shard, as a broken counter might leave it: refused whole, the line stays hidden
    shard = site.output / "feeds" / view_shards.shard_path(SEED)
    shard.write_text(json.dumps({"views": {SEED: 999, "x\u0000": 1}}), encoding="utf-8")
    with serve(site.output) as base:
        watched = new_page(browser, 1280)
        page = watched.page
        page.goto(base + "/" + SEED)
        page.wait_for_load_state("networkidle")
        assert page.locator(".bulletin__regions li").all_text_contents() == bulletin_of(site)
        assert page.locator(".article__views").is_hidden()
        assert watched.console_errors == []
        watched.context.close()
    # and the build refuses the same files, naming the field
    result = run_pelican(widget_site, site.output, cache=tmp_path / "cache")
    assert "trường regions[2].name: chứa ký tự điều khiển U+001B; hãy xóa nó (control character in text)" \
        in result.stdout
    assert "Traceback" not in result.stdout


def test_a_feed_dated_in_the_future_is_refused(tiny_content, tmp_path):
    """A copy dated 2099 would be "newest" at every build for ever."""
    import shutil

    from portal.feeds import FeedError, parse_visitors

    with pytest.raises(FeedError) as raised:
        parse_visitors({"updated": "2099-01-01T00:00:00+07:00", "online": 1, "today": 1, "total": 1})
    assert raised.value.field == "updated"
    assert raised.value.message == ("thời gian 01/01/2099 00:00 ở tương lai; kiểm tra đồng hồ của máy ghi tệp "
                                    "này (time in the future: check the clock of the machine that wrote this feed)")
    shutil.copytree(SAMPLE_FEEDS, tiny_content / "feeds")
    (tiny_content / "feeds" / "visitors.json").write_text(
        '{"updated": "2099-01-01T00:00:00+07:00", "online": 1, "today": 1, "total": 1}', encoding="utf-8")
    result = run_pelican(tiny_content, tmp_path / "output")
    assert "visitors.json: cảnh báo: trường updated: thời gian 01/01/2099 00:00 ở tương lai" in result.stdout, result.stdout
