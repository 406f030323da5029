"""Incremental builds are exact: after any sequence of changes, the site an
incremental build publishes equals, file for file, a clean full build of
the same content (plugins/incremental_pages, portal/page_keys.py).

One seeded random sequence over a few hundred articles applies every kind
of change staff make: an edited body or title, a new article, a deleted
one, a renamed folder, a changed category and tags, a template edit, a
banner change, a settings change and a live-feed update. After each step
the incremental output is compared with a fresh build into an empty folder
with an empty cache. The search index is left out of both (its own tests
check that it returns the same results).
"""

import json
import os
import random
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, build, new_content, run_pelican, write_article, write_settings

SYLLABLES = ("đại hội đảng bộ xã đồng tiến nông thôn mới học tập làm theo tư tưởng đạo đức phong cách "
             "hồ chí minh quốc phòng an ninh văn hóa xã hội bình phước lộc ninh bù đăng phú riềng chơn "
             "thành hớn quản đồng xoài phước long kinh tế giáo dục y tế thanh niên phụ nữ").split()
CATEGORIES = ["Tin tức - Sự kiện", "Xây dựng Đảng", "Học tập và làm theo Bác", "Văn hóa - Xã hội",
              "Quốc phòng - An ninh"]
TAGS = ["đại hội", "Đảng bộ", "nông thôn mới", "quốc phòng", "văn hóa", "thanh niên", "Lộc Ninh"]
COUNT = 240
CATEGORY_SLUGS = {"Tin tức - Sự kiện": "tin-tuc-su-kien", "Xây dựng Đảng": "xay-dung-dang",
                  "Học tập và làm theo Bác": "hoc-tap-va-lam-theo-bac", "Văn hóa - Xã hội": "van-hoa-xa-hoi",
                  "Quốc phòng - An ninh": "quoc-phong-an-ninh"}


def words(rng, count):
    return " ".join(rng.choice(SYLLABLES) for _ in range(count))


def article_header(rng, number, category=None):
    header = {
        "Title": words(rng, 7).capitalize() + f" (số {number})",
        "Date": f"20{rng.randint(18, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                f"{rng.randint(6, 20):02d}:{rng.randint(0, 59):02d}",
        "Category": category or rng.choice(CATEGORIES),
        "Tags": ", ".join(rng.sample(TAGS, rng.randint(1, 3))),
        "Author": "P.V",
    }
    if number % 3 == 0:
        header["Summary"] = words(rng, 20).capitalize() + "."
    return header


def article_body(rng):
    return "\n\n".join(words(rng, rng.randint(40, 90)).capitalize() + "." for _ in range(rng.randint(2, 4))) + "\n"


def read_header(path):
    head, body = path.read_text(encoding="utf-8").split("\n\n", 1)
    return dict(line.split(": ", 1) for line in head.splitlines()), body


def write_header(path, header, body):
    path.write_text("\n".join(f"{k}: {v}" for k, v in header.items()) + "\n\n" + body, encoding="utf-8")


class Portal:
    """A site folder: content, a copy of the theme, settings, cache, output."""

    def __init__(self, root, rng):
        self.root, self.rng = Path(root), rng
        self.content = new_content(self.root / "content")
        shutil.copytree(ROOT / "content" / "feeds", self.content / "feeds")
        shutil.copytree(ROOT / "content" / "banners", self.content / "banners")
        shutil.copy2(ROOT / "content" / "banners.yml", self.content / "banners.yml")
        shutil.copytree(ROOT / "theme", self.root / "theme")
        self.overrides = {"THEME": str(self.root / "theme"), "DEFAULT_PAGINATION": 4, "SEARCH_INDEX": False,
                          "BANNERS_NOW": "2026-12-01T09:00:00+07:00"}
        self.write_settings()
        self.next_number = 0
        for _ in range(COUNT):
            self.add()

    def write_settings(self):
        write_settings(self.root / "settings.py", **self.overrides)

    def articles(self):
        return sorted((self.content / "articles").glob("*/index.md"))

    def add(self):
        number, self.next_number = self.next_number, self.next_number + 1
        return write_article(self.content / "articles", f"bai-{number:04d}", article_header(self.rng, number),
                             article_body(self.rng))

    def build(self, workdir=None, cache=None):
        workdir = Path(workdir or self.root)
        return build(self.content, workdir, settings=str(self.root / "settings.py"),
                     cache=cache or workdir / "cache")


# --- the changes, each returning a short description ------------------------------------


def edit_body(portal):
    path = portal.rng.choice(portal.articles())
    header, body = read_header(path)
    write_header(path, header, body + "\n" + article_body(portal.rng))
    return f"body of {path.parent.name}"


def edit_title(portal):
    path = portal.rng.choice(portal.articles())
    header, body = read_header(path)
    header["Title"] = words(portal.rng, 6).capitalize() + " mới"
    write_header(path, header, body)
    return f"title of {path.parent.name}"


def add_article(portal):
    return f"new {portal.add().parent.name}"


def delete_article(portal):
    path = portal.rng.choice(portal.articles())
    shutil.rmtree(path.parent)
    return f"deleted {path.parent.name}"


def rename_folder(portal):
    path = portal.rng.choice(portal.articles())
    target = path.parent.with_name(path.parent.name + "-moi")
    path.parent.rename(target)
    return f"renamed {path.parent.name}"


def change_category_and_tags(portal):
    path = portal.rng.choice(portal.articles())
    header, body = read_header(path)
    header["Category"] = portal.rng.choice([c for c in CATEGORIES if c != header["Category"]])
    header["Tags"] = ", ".join(portal.rng.sample(TAGS, 2))
    write_header(path, header, body)
    return f"category and tags of {path.parent.name}"


def edit_template(portal):
    footer = portal.root / "theme" / "templates" / "partials" / "footer.html"
    footer.write_text(footer.read_text(encoding="utf-8") + f"<!-- sửa {portal.rng.randint(0, 10**6)} -->\n",
                      encoding="utf-8")
    return "footer template"


def change_banner(portal):
    banners = portal.content / "banners.yml"
    text = banners.read_text(encoding="utf-8")
    titles = re.findall(r"^(\s*title: )(.+)$", text, flags=re.MULTILINE)
    prefix, title = portal.rng.choice(titles)
    banners.write_text(text.replace(prefix + title, prefix + title.rstrip('"') + " mới" +
                                    ('"' if title.endswith('"') else ""), 1), encoding="utf-8")
    return f"banner {title}"


def change_settings(portal):
    portal.overrides["HOME_LATEST_SIZE"] = portal.rng.choice([4, 6, 10])
    portal.overrides["FOOTER_LINES"] = [f"Dòng chân trang {portal.rng.randint(0, 99)}"]
    portal.write_settings()
    return "settings"


def update_feeds(portal):
    path = portal.content / "feeds" / "visitors.json"
    feed = json.loads(path.read_text(encoding="utf-8"))
    for key in ("online", "today", "total"):
        feed[key] = feed[key] + portal.rng.randint(1, 500)
    path.write_text(json.dumps(feed, ensure_ascii=False), encoding="utf-8")
    return "visitors feed"


CHANGES = [edit_body, edit_title, add_article, delete_article, rename_folder, change_category_and_tags,
           edit_template, change_banner, change_settings, update_feeds]


# --- comparing trees --------------------------------------------------------------------


def tree(folder):
    """``{relative path: bytes}`` of a published site, search index aside."""
    folder = Path(folder).resolve()
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not str(p.relative_to(folder)).startswith("pagefind/")}


def differences(incremental, clean):
    left, right = tree(incremental), tree(clean)
    problems = [f"only in the incremental build: {p}" for p in sorted(set(left) - set(right))]
    problems += [f"only in the clean build: {p}" for p in sorted(set(right) - set(left))]
    problems += [f"differs: {p}" for p in sorted(set(left) & set(right)) if left[p] != right[p]]
    return problems


def summary(log):
    """``(written, unchanged, not rendered, removed)`` from a build's summary line."""
    found = re.search(r"pages written (\d+), unchanged (\d+) \((\d+) not rendered\), files removed (\d+)", log)
    assert found, f"no summary line in:\n{log[-2000:]}"
    return tuple(int(n) for n in found.groups())


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    site = Portal(root / "site", random.Random(2026))
    site.build()
    return site


def test_a_build_with_nothing_changed_renders_no_page(portal):
    # an article saved without a change: the build takes the long way (with
    # nothing saved at all it would not even start, see test_unchanged_build)
    os.utime(portal.articles()[0])
    log = portal.build().log
    written, unchanged, not_rendered, removed = summary(log)
    assert (written, removed) == (0, 0)
    registry = json.loads((portal.root / "cache" / "outputs.json").read_text(encoding="utf-8"))["files"]
    pages = [path for path, entry in registry.items() if entry["kind"] in ("page", "error")]
    atom = [path for path in registry if path.endswith(".atom.xml")]
    assert len(pages) > COUNT and not_rendered == len(pages) + 2  # robots.txt, sitemap.xml
    assert unchanged - not_rendered == len(atom), "only the Atom feeds (a few items each) are made again"


def test_a_feed_update_rewrites_no_page(portal):
    update_feeds(portal)
    written, _, _, _ = summary(portal.build().log)
    assert written == 0


def test_every_change_gives_the_site_a_clean_build_gives(portal, tmp_path):
    rng = random.Random(11)
    # every kind of change at least once, then more at random, in a seeded order
    steps = CHANGES + [rng.choice(CHANGES[:6]) for _ in range(4)]
    rng.shuffle(steps)
    for number, change in enumerate(steps):
        what = change(portal)
        incremental = portal.build()
        clean_root = tmp_path / f"clean-{number}"
        shutil.copytree(portal.content, clean_root / "content")
        clean = build(clean_root / "content", clean_root, settings=str(portal.root / "settings.py"))
        problems = differences(incremental.output, clean.output)
        assert not problems, f"after step {number} ({what}):\n" + "\n".join(problems[:20])
        written, _, not_rendered, _ = summary(incremental.log)
        assert written > 0 or change is update_feeds, f"step {number} ({what}) wrote nothing"


# --- articles first ------------------------------------------------------------------

SPY = '''
import os, shutil
from pelican import signals

def _look(pelican):
    # at `finalized`, before the queued pages are rendered and the site is published
    published = pelican.settings["SPY_PUBLISHED"]
    for name in pelican.settings["SPY_FILES"]:
        shutil.copyfile(os.path.join(published, name), os.path.join(pelican.settings["SPY_COPIES"], name.replace("/", "_")))
    if os.environ.get("SPY_FAIL"):
        raise RuntimeError("spy: this build fails on purpose")

def register():
    signals.finalized.connect(_look)
'''


def test_an_edited_article_is_live_before_its_listings_and_back_if_the_build_fails(tmp_path, monkeypatch):
    import runpy

    site = Portal(tmp_path / "site", random.Random(7))
    site.build()
    path = site.articles()[0]
    header, body = read_header(path)
    page = f"{CATEGORY_SLUGS[header['Category']]}/{path.parent.name}.html"
    listing = "tin-moi/index.html"
    (tmp_path / "spy").mkdir()
    (tmp_path / "spy" / "spy.py").write_text(SPY, encoding="utf-8")
    copies = tmp_path / "copies"
    copies.mkdir()
    plugins = runpy.run_path(str(ROOT / "pelicanconf.py"))["PLUGINS"]
    site.overrides.update(PLUGIN_PATHS=[str(tmp_path / "spy")], PLUGINS=["spy"] + plugins,
                          SPY_PUBLISHED=str(site.root / "output"), SPY_FILES=[page, listing], SPY_COPIES=str(copies))
    site.write_settings()
    site.build()  # the settings changed: every page anew, keys for all

    before = (site.root / "output" / page).read_bytes()
    header["Title"] = "Tiêu đề vừa sửa xong"
    header["Date"] = "2099-01-01 08:00"  # now the newest: it heads the latest-news listing
    write_header(path, header, body)
    site.build()
    live = (copies / page.replace("/", "_")).read_text(encoding="utf-8")
    listed = (copies / listing.replace("/", "_")).read_text(encoding="utf-8")
    assert "Tiêu đề vừa sửa xong" in live, "the article was not live before the listings were rendered"
    assert "Tiêu đề vừa sửa xong" not in listed, "the listing was already rendered: nothing came first"
    assert "Tiêu đề vừa sửa xong" in (site.root / "output" / listing).read_text(encoding="utf-8")

    header["Title"] = "Tiêu đề của lần dựng hỏng"
    write_header(path, header, body)
    monkeypatch.setenv("SPY_FAIL", "1")
    result = run_pelican(site.content, site.root / "output", settings=str(site.root / "settings.py"),
                         cache=site.root / "cache")
    assert result.returncode != 0
    assert "Tiêu đề của lần dựng hỏng" in (copies / page.replace("/", "_")).read_text(encoding="utf-8")
    published = (site.root / "output" / page).read_bytes()
    assert published != before and "Tiêu đề vừa sửa xong".encode() in published, "the failed build's page stayed"
    monkeypatch.delenv("SPY_FAIL")
    assert summary(site.build().log)[0] > 0
