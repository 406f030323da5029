"""The shape of the house: each plugin stands alone on Pelican and the
shared library (portal/), and every file a build publishes is recorded."""

import ast
import json
import os
import subprocess
import sys
import unicodedata

import pytest

from conftest import ROOT, write_article

PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file())
# what a plugin or the library may import besides the standard library
LIBRARIES = {"pelican", "markdown", "bs4", "PIL", "babel", "yaml", "nh3", "jinja2", "markupsafe", "blinker",
             "pygments", "feedgenerator"}


def imported_tops(path):
    """The top-level names of every absolute import in a Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", PLUGINS + ["portal"])
def test_imports_only_pelican_the_library_and_plain_libraries(package):
    folder = ROOT / ("portal" if package == "portal" else f"plugins/{package}")
    allowed = set(sys.stdlib_module_names) | LIBRARIES | ({"portal"} if package != "portal" else set())
    if package == "portal":
        allowed -= {"pelican"}  # pure functions: no Pelican
    wrong = sorted({(path.name, top) for path in folder.glob("*.py") for top in imported_tops(path)
                    if top not in allowed})
    assert wrong == [], f"{package} imports {wrong}"


def test_every_plugin_is_installed_by_pyproject():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert all(f'"{name}"' in text for name in PLUGINS), "pyproject.toml must list every plugin package"


def test_nothing_edits_sys_path():
    """The code is importable the standard way (pyproject.toml, editable install)."""
    edits = ("sys.path.insert", "sys.path.append", "PYTHONPATH")
    files = [p for folder in ("plugins", "portal", "tests", "counter") for p in (ROOT / folder).rglob("*.py")]
    files += [ROOT / name for name in ("pelicanconf.py", "publishconf.py", "Makefile")]
    offenders = [str(path.relative_to(ROOT)) for path in files if path.name != "test_house.py"
                 and any(edit in path.read_text(encoding="utf-8") for edit in edits)]
    assert offenders == []


# --- each plugin alone, in a small real build ------------------------------

TITLE = "Đại hội Đảng bộ xã Đồng Tiến"


def small_site(tmp_path):
    """A content tree that gives every plugin something to do."""
    from PIL import Image

    content = tmp_path / "content"
    article = write_article(content / "articles", "dai-hoi", {
        "Title": unicodedata.normalize("NFD", TITLE), "Date": "2020-03-23 08:15", "Category": "Tin tức",
        "Image": "anh.jpg", "ImageCaption": "Quang cảnh đại hội", "Attachments": "nghi-quyet.pdf | Nghị quyết",
    }, "Nội dung <script>alert(1)</script> bài viết.\n\n![Quang cảnh](anh.jpg \"Quang cảnh đại hội\")\n")
    Image.new("RGB", (900, 600), (200, 30, 30)).save(article.parent / "anh.jpg")
    (article.parent / "nghi-quyet.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (content / "images").mkdir()
    Image.new("RGB", (40, 40), (0, 0, 200)).save(content / "images" / "logo.png")
    os.symlink("/etc/hostname", content / "images" / "ra-ngoai.png")
    (content / "banners").mkdir()
    Image.new("RGB", (552, 200), (0, 120, 0)).save(content / "banners" / "b.jpg")
    (content / "banners.yml").write_text(
        "- id: bao-nhan-dan\n  title: Báo Nhân Dân\n  image: banners/b.jpg\n  link: https://nhandan.vn\n"
        "  slot: sidebar\n  order: 1\n", encoding="utf-8")
    (content / "feeds").mkdir()
    (content / "feeds" / "visitors.json").write_text(
        '{"updated": "2020-03-23T08:15:00+07:00", "online": 3, "today": 40, "total": 1200}', encoding="utf-8")
    return content


SETTINGS = """
PATH = {content!r}
TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_LANG = "vi"
ARTICLE_PATHS = ["articles"]
STATIC_PATHS = ["images"]
IGNORE_FILES = [".#*"]
PLUGINS = [{plugin!r}]
BANNER_SLOTS = {{"sidebar": {{"title": "", "width": 276}}}}
CACHE_PATH = {cache!r}
"""

# Every plugin module that ended up imported, printed after the build.
RUN = """
import sys
from pelican import main
try:
    main(sys.argv[1:])
finally:
    print("LOADED", sorted({{m.split(".")[0] for m in sys.modules}} & set({plugins!r})))
"""


def build_alone(tmp_path, plugin):
    content = small_site(tmp_path)
    settings = tmp_path / "alone.py"
    settings.write_text(SETTINGS.format(content=str(content), plugin=plugin, cache=str(tmp_path / "cache")),
                        encoding="utf-8")
    output = tmp_path / "output"
    result = subprocess.run(
        [sys.executable, "-c", RUN.format(plugins=PLUGINS), str(content), "-o", str(output), "-s", str(settings),
         "--log-handler", "plain", "--fatal", "errors"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=dict(os.environ, PORTAL_PROGRESS="1"))
    return result, output


def article_html(output):
    [page] = [p for p in output.rglob("dai-hoi*.html")]
    return page.read_text(encoding="utf-8")


STOPS = {"source_gate", "content_check"}  # they find an error in the small site, as they should
EVIDENCE = {
    "vi_locale": lambda out, log: TITLE in article_html(out),
    # the removed <script> is an error at its line: the build stops
    "content_check": lambda out, log: "content/articles/dai-hoi/index.md:8: thẻ <script> không được phép" in log,
    # refusing the symlink is an error: the build stops (atomic_output would keep the old site)
    "source_gate": lambda out, log: "content/images/ra-ngoai.png:1: là liên kết (symlink) trỏ ra ngoài" in log
    and not (out / "images/ra-ngoai.png").exists(),
    "stable_addresses": lambda out, log: (out / "dai-hoi.html").exists()
    and not (out / "dai-hoi-dang-bo-xa-dong-tien.html").exists(),
    # alone it renders every page (no saved registry, no keys), through its writer
    "incremental_pages": lambda out, log: "… so khóa trang (page keys)" in log and (out / "index.html").exists(),
    # too few articles to convert ahead: it must stay out of the way (test_parallel_reading proves the rest)
    "parallel_reading": lambda out, log: (out / "index.html").exists() and bool(article_html(out)),
    "safe_cache": lambda out, log: True,  # patched in; the kill tests prove what it does
    "photos": lambda out, log: "<picture" in article_html(out) and any((out / "anh").glob("*.webp")),
    "article_media": lambda out, log: "<figure" in article_html(out) or any((out / "tai-lieu").rglob("*.pdf")),
    "news_blocks": lambda out, log: (out / "index.html").exists(),
    "live_widgets": lambda out, log: json.loads((out / "feeds/visitors.json").read_text())["total"] == 1200,
    "banners": lambda out, log: (out / "chuyen-huong/bao-nhan-dan.html").exists(),
    "site_search": lambda out, log: "tìm kiếm" in log,  # the default theme marks nothing to index
    "atomic_output": lambda out, log: not out.with_name("output.staging").exists()
    and "index.html" in json.loads((out.parent / "cache/outputs.json").read_text())["files"],
}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_each_plugin_builds_a_site_alone(tmp_path, plugin):
    """Only Pelican, the library and this one plugin (Pelican's own theme):
    the build succeeds, loads no other plugin, and the plugin did its job."""
    result, output = build_alone(tmp_path, plugin)
    log = result.stdout + result.stderr
    assert result.returncode == (1 if plugin in STOPS else 0), log
    assert "Traceback" not in log
    assert f"LOADED {[plugin]}" in result.stdout, log
    assert EVIDENCE[plugin](output, log), log


def test_evidence_is_named_for_every_plugin():
    assert sorted(EVIDENCE) == PLUGINS


# --- the output registry ----------------------------------------------------

def test_the_registry_lists_exactly_the_published_files(sample_site):
    registry = json.loads((sample_site.output.parent / "cache/outputs.json").read_text(encoding="utf-8"))
    on_disk = sorted(unicodedata.normalize("NFC", str(p.relative_to(sample_site.output)))
                     for p in sample_site.output.rglob("*") if p.is_file() or p.is_symlink())
    assert sorted(registry["files"]) == on_disk
    kinds = {entry["kind"] for entry in registry["files"].values()}
    assert {"page", "photo", "redirect", "feed", "attachment", "theme", "static", "search", "error"} <= kinds
    files = registry["files"]
    article = next(k for k, v in files.items() if v["kind"] == "page" and (v["source"] or "").endswith("index.md"))
    assert (ROOT / files[article]["source"]).is_file()
    photo = next(v for v in files.values() if v["kind"] == "photo")
    assert (ROOT / photo["source"]).is_file() and "content/" in photo["source"]
    assert all(v["kind"] == "redirect" for k, v in files.items() if k.startswith("chuyen-huong/"))
    assert files["404.html"]["kind"] == "error"


def test_a_file_written_behind_the_registry_stops_the_build(tmp_path):
    """A plugin that writes into output/ without recording it: the build
    names the file and publishes nothing."""
    from conftest import new_content, run_pelican

    content = new_content(tmp_path / "content")
    write_article(content / "articles", "bai", {"Title": "Bài", "Date": "2020-03-23 08:15",
                                                "Category": "Tin tức - Sự kiện"})
    (tmp_path / "rogue").mkdir()
    (tmp_path / "rogue" / "rogue.py").write_text(
        "import os\nfrom pelican import signals\n"
        "def _write(pelican):\n"
        "    open(os.path.join(pelican.output_path, 'lau.html'), 'w').write('x')\n"
        "def register():\n    signals.finalized.connect(_write)\n", encoding="utf-8")
    conf = tmp_path / "conf.py"
    conf.write_text(
        "import runpy\n"
        f"globals().update({{k: v for k, v in runpy.run_path({str(ROOT / 'pelicanconf.py')!r}).items() if k.isupper()}})\n"
        f"PLUGIN_PATHS = [{str(tmp_path / 'rogue')!r}]\n"
        "PLUGINS = ['rogue'] + PLUGINS\n", encoding="utf-8")
    result = run_pelican(content, tmp_path / "output", settings=str(conf))
    assert result.returncode == 1, result.stdout
    assert "lau.html: tệp này được ghi vào trang mà không qua sổ đăng ký đầu ra" in result.stdout
    assert not (tmp_path / "output").exists()


# --- no block written twice ---------------------------------------------------

def windows(path, size=6):
    """Every run of ``size`` consecutive non-blank lines (stripped) of a file,
    with the number of its first line; runs of punctuation alone and
    module imports are skipped."""
    lines = [(number, line.strip()) for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if line.strip() and not line.startswith(("import ", "from "))]  # import lists are not code
    for start in range(len(lines) - size + 1):
        run = tuple(text for _, text in lines[start:start + size])
        if sum(len(text) > 3 for text in run) >= 3:
            yield lines[start][0], run


def test_no_block_of_six_lines_is_written_twice():
    sources = [path for folder in ("plugins", "portal", "counter", "tests", "theme")
               for pattern in ("*.py", "*.js", "*.html", "*.css") for path in (ROOT / folder).rglob(pattern)]
    sources += [ROOT / name for name in ("pelicanconf.py", "publishconf.py", "Makefile")]
    seen, repeated = {}, []
    for path in sorted(sources):
        for line, run in windows(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if run in seen and seen[run][0] != path or run in seen and line - seen[run][1] >= 6:
                repeated.append(f"{where} repeats {seen[run][0].relative_to(ROOT)}:{seen[run][1]}")
            seen.setdefault(run, (path, line))
    assert repeated == []
