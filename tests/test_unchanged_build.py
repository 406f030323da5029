"""A build with nothing changed does nothing (portal/build_inputs.py): it
leaves the published site exactly as it is, and takes that shortcut only
when every input really is as the published site was built from."""

import datetime
import json
import os
import time

import shutil

import pytest

from conftest import ROOT, build, write_article, write_settings
from portal import build_inputs, outputs

UNCHANGED = "nothing changed since the last publish"
ARTICLE = {"Title": "Hội nghị Ban Chấp hành Đảng bộ tỉnh", "Date": "2020-03-23 08:15",
           "Category": "Xây dựng Đảng", "Author": "H. Sơn"}


def settle():
    """Let the clock move past the files just written: a file changed
    within a second of a build is never trusted (the racy rule)."""
    time.sleep(build_inputs.RACY_SECONDS + 0.2)


def published_state(output):
    """``{file: (inode, mtime)}``: whether anything in the tree was touched."""
    return {str(p.relative_to(output)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(output.rglob("*")) if p.is_file()}


@pytest.fixture
def site(tiny_content, tmp_path):
    for number in range(3):
        write_article(tiny_content / "articles", f"bai-{number}", dict(ARTICLE, Title=f"{ARTICLE['Title']} {number}"))
    shutil.copytree(ROOT / "content" / "feeds", tiny_content / "feeds")  # a site without feeds is warned about
    settings = write_settings(tmp_path / "settings.py", SEARCH_INDEX=False)

    def run(**kwargs):
        return build(tiny_content, tmp_path, settings=str(settings), **kwargs)

    settle()
    first = run()
    assert UNCHANGED not in first.log
    return tiny_content, first.output, run


def test_a_second_build_with_nothing_changed_leaves_the_site_as_it_is(site):
    content, output, run = site
    before = published_state(output)
    log = run().log
    assert UNCHANGED in log
    assert "pages written 0," in log and "files removed 0]" in log
    assert published_state(output) == before


def test_a_saved_article_takes_the_long_way_and_the_next_build_the_short_one(site):
    content, output, run = site
    article = content / "articles" / "bai-1" / "index.md"
    article.write_text(article.read_text(encoding="utf-8").replace("Nội dung", "Nội dung mới"), encoding="utf-8")
    settle()
    log = run().log
    assert UNCHANGED not in log and "pages written 0," not in log
    assert any("Nội dung mới" in p.read_text(encoding="utf-8") for p in output.rglob("*.html"))
    assert UNCHANGED in run().log


def test_a_file_removed_from_the_published_site_is_put_back(site):
    content, output, run = site
    page = next(p for p in output.rglob("*.html") if "bai-2" in str(p))
    page.unlink()
    log = run().log
    assert UNCHANGED not in log
    assert page.is_file()


def test_a_feed_the_counter_rewrote_is_checked_again(site):
    content, output, run = site
    feed = output / "feeds" / "visitors.json"
    data = json.loads(feed.read_text(encoding="utf-8"))
    data["online"] += 1
    feed.write_text(json.dumps(data), encoding="utf-8")
    assert UNCHANGED not in run().log


def test_a_file_changed_just_before_the_build_is_not_trusted(site):
    content, output, run = site
    os.utime(content / "articles" / "bai-0" / "index.md")
    first = run().log
    assert UNCHANGED not in first
    # that build read a file changed within a second of it: it recorded no
    # identity, so the next build does the work again too
    assert UNCHANGED not in run().log
    settle()
    run()
    assert UNCHANGED in run().log


def test_other_settings_take_the_long_way(site):
    content, output, run = site
    assert UNCHANGED not in run(extra=["-e", 'SITENAME="Cổng thông tin khác"']).log


def test_a_build_with_a_warning_records_nothing_so_the_warning_is_shown_again(site, tmp_path):
    content, output, run = site
    (content / "feeds" / "visitors.json").write_text("{ hỏng", encoding="utf-8")
    settle()
    first = run().log
    assert "visitors.json" in first
    second = run().log
    assert UNCHANGED not in second and "visitors.json" in second


def test_the_shortcut_ends_when_a_banner_schedule_does(tmp_path):
    published = tmp_path / "output"
    (published / "a").mkdir(parents=True)
    (published / "a" / "index.html").write_text("<p>trang</p>", encoding="utf-8")
    settings = {"PATH": str(ROOT / "content"), "THEME": str(ROOT / "theme"), "PLUGINS": []}
    sources = build_inputs.Sources(settings).state()
    assert sources, "the project's own files are older than a second"
    until = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
    saved = build_inputs.identity(sources, build_inputs.tree_state(published), until)
    assert build_inputs.unchanged(saved, settings, published, now=until - datetime.timedelta(seconds=1))
    assert not build_inputs.unchanged(saved, settings, published, now=until)
    assert not build_inputs.unchanged(saved, dict(settings, SITENAME="khác"), published,
                                      now=until - datetime.timedelta(seconds=1))
    (published / "a" / "index.html").write_text("<p>trang</p>", encoding="utf-8")  # same bytes, written again
    assert not build_inputs.unchanged(saved, settings, published, now=until - datetime.timedelta(seconds=1))


def test_an_unsure_registry_is_never_trusted(tmp_path):
    registry = outputs.OutputRegistry(tmp_path / "output")
    registry.identity = {"sources": "a", "site": "b", "valid_until": None}
    path = tmp_path / "outputs.json"
    outputs.save(registry, path)
    assert outputs.load_identity(path) == registry.identity
    outputs.mark_unsure(path)
    assert outputs.load_identity(path) is None
