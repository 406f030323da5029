"""`make bench BENCH=bench_build`: how long a build takes and what it costs,
on synthetic portals of N articles, against plain Pelican and Hugo on the
same content, measured in the same run.

    BENCH_N=1000,5000 BENCH_RUNS=3 .venv/bin/python tests/bench/run.py bench_build

Environment (all optional): ``BENCH_N`` a comma list of portal sizes
(default 1000,5000), ``BENCH_RUNS`` runs per figure (default 3; each figure
is the median, with min and max), ``BENCH_WORKDIR`` where the portals are
generated (default a temporary folder, removed at the end unless
``BENCH_KEEP=1``), ``BENCH_RESULTS`` the Markdown file written (default
bench/results.md). The working tree is measured (the results name its
commit and say whether it had uncommitted changes).

For each N, tests/bench/synthetic.py writes a portal (8 categories, 2-4 tags
per article, a photo on one article in five, a PDF on one in ten, a view
counted for every article, the sample site's pages, feeds, banners and
images), then each run measures, every build started on the command line
exactly as `make html` runs it (no plugin is imported here, so the bench
keeps working while the build changes):

* cold build of our portal (no cache/, no output/), from a project folder
  holding a copy of pelicanconf.py (with the eight categories in
  MENU_CATEGORIES), a link to theme/ and its own cache/;
* the same Markdown built by plain Pelican (default theme notmyidea, no
  plugins, the same paths, URL layout and pagination);
* the same content built by Hugo (converted to page bundles with YAML
  front matter; templates in tests/bench/hugo/);
* our portal again with nothing changed, then one article added (a new
  article dated now), the same article deleted, one existing article edited
  (title and a paragraph): for add and edit the seconds until the new text
  is in the file readers get (``output/<category>/<slug>.html``, symlinks
  resolved, polled every 20 ms from a thread), and for all three the
  seconds until the build process ends; then the listings, feeds, sitemap
  and search index are checked to agree (not timed);
* peak memory of every build: the proportional set size (Pss, from
  /proc/<pid>/smaps_rollup; VmRSS where that is missing) summed over the
  process and all its descendants (/proc/<pid>/task/*/children), sampled
  every 50 ms. Pss counts a page shared by a forked worker and its parent
  once, as the machine does; summed VmRSS would count it twice.

After the first cold build, the weight of the home page, an article page
and a category page, loaded in headless Chromium from a local http.server:
every response by resource type, raw and gzip level 6, photos apart, feed
bytes the page fetches, and any render-blocking script.

Prints the tables and writes them to bench/results.md. Returns nonzero only
if a build fails.
"""

import argparse
import datetime
import functools
import gzip
import http.server
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from synthetic import MORE_CATEGORIES, ROOT, _sentences, make_site, paragraphs_of

HERE = Path(__file__).resolve().parent
HUGO_TEMPLATES = HERE / "hugo"
CHROMIUM = "/usr/bin/chromium"
DEFAULT_N = "1000,5000"
SEED = 2020
ENV = dict(os.environ, PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
# The synthetic portal: what bench_build passes to make_site.
SITE_OPTIONS = dict(categories=MORE_CATEGORIES, tags=(2, 4), photo_every=5, attachment_every=10,
                    sample=True, views=True)
KEEP_IN_PROJECT = {"pelicanconf.py", "theme"}
# Where the measured code (plugins/, portal/, theme/, pelicanconf.py) is.
CODE = {"root": ROOT}


class BuildFailed(Exception):
    pass


# --- running a build, timing it, sampling its memory, polling its page ------

def tree_pids(pid):
    """``pid`` and all its descendants, from /proc/<pid>/task/*/children."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                try:
                    with open(f"/proc/{current}/task/{task}/children") as f:
                        stack += [int(child) for child in f.read().split()]
                except OSError:
                    pass
        except OSError:
            pass
    return found


def rss_bytes(pid):
    """The memory ``pid`` really holds: Pss, else VmRSS (bytes)."""
    for path, field in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(field):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return 0


def run_build(command, cwd, log, watch=None):
    """Run ``command``; returns ``{"seconds", "peak", "live"}``. ``watch``
    is ``(path, marker bytes)``: ``live`` is the first time ``path`` holds
    the marker (polled every 20 ms), None if it never did. Raises
    BuildFailed on a nonzero exit."""
    done = threading.Event()
    found = {}
    peak = [0]
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(map(str, command)) + "\n").encode())
        out.flush()
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=ENV)

    def sample():
        while True:
            finished = done.is_set()
            peak[0] = max(peak[0], sum(rss_bytes(pid) for pid in tree_pids(process.pid)))
            if finished or done.wait(0.05):
                return

    def poll():
        path, marker = watch
        while True:
            finished = done.is_set()
            try:
                with open(path, "rb") as f:
                    if marker in f.read():
                        found["live"] = time.perf_counter() - start
                        return
            except OSError:
                pass
            if finished:
                return
            time.sleep(0.02)

    threads = [threading.Thread(target=sample, daemon=True)]
    if watch:
        threads.append(threading.Thread(target=poll, daemon=True))
    for thread in threads:
        thread.start()
    # Reaped by wait4 only after the sampler saw the whole tree go.
    status = process.wait()
    seconds = time.perf_counter() - start
    done.set()
    for thread in threads:
        thread.join()
    if status != 0:
        tail = Path(log).read_text(encoding="utf-8", errors="replace")[-3000:]
        raise BuildFailed(f"{' '.join(map(str, command))} exited with {status} (log: {log}):\n{tail}")
    live = found.get("live")
    return {"seconds": seconds, "peak": peak[0], "live": None if live is None else min(live, seconds)}


# --- the three builders ---------------------------------------------------------

def read_header(text):
    """Header fields (lower-case keys; indented lines continue a list) and body."""
    head, _, body = text.partition("\n\n")
    fields, key = {}, None
    for line in head.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key].append(line.strip())
            continue
        key, _, value = line.partition(":")
        key = key.strip().lower()
        fields[key] = [value.strip()] if value.strip() else []
    return fields, body


class Project:
    """One N: the synthetic content and the three builders' folders."""

    def __init__(self, root, count):
        self.root, self.count = Path(root), count
        self.content = self.root / "content"
        self.ours = self.root / "ours"
        self.plain = self.root / "plain"
        self.hugo = self.root / "hugo"
        self.logs = self.root / "logs"
        self.categories = SITE_OPTIONS["categories"]

    # setup
    def generate(self):
        start = time.perf_counter()
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        self.logs.mkdir()
        make_site(self.root, self.count, seed=SEED, **SITE_OPTIONS)
        self._setup_ours()
        self._setup_plain()
        self._setup_hugo()
        return time.perf_counter() - start

    def _setup_ours(self):
        self.ours.mkdir()
        menu = ",\n    ".join(json.dumps(name, ensure_ascii=False) for name in self.categories.values())
        settings = (CODE["root"] / "pelicanconf.py").read_text(encoding="utf-8")
        (self.ours / "pelicanconf.py").write_text(
            settings + f"\n\n# --- bench_build: the synthetic portal's categories ---\nMENU_CATEGORIES = [\n    {menu},\n]\n",
            encoding="utf-8")
        (self.ours / "theme").symlink_to(CODE["root"] / "theme", target_is_directory=True)

    def _setup_plain(self):
        self.plain.mkdir()
        (self.plain / "pelicanconf.py").write_text(f'''"""Plain Pelican: its default theme (notmyidea), no plugins; only what
makes it the same site (paths, language, time zone, URL layout, pagination)."""
AUTHOR = "Ban Tuyên giáo Tỉnh ủy Bình Phước"
SITENAME = "Ban Tuyên giáo Tỉnh ủy Bình Phước"
SITEURL = ""
PATH = {str(self.content)!r}
ARTICLE_PATHS = ["articles"]
PAGE_PATHS = ["pages"]
TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_LANG = "vi"
DEFAULT_PAGINATION = 10
PLUGINS = []
ARTICLE_URL = "{{category}}/{{slug}}.html"
ARTICLE_SAVE_AS = ARTICLE_URL
PAGE_URL = "{{slug}}.html"
PAGE_SAVE_AS = PAGE_URL
''', encoding="utf-8")

    def _setup_hugo(self):
        site = self.hugo / "site"
        shutil.copytree(HUGO_TEMPLATES, site)
        target = site / "content"
        for folder, name in self.categories.items():
            (target / folder).mkdir(parents=True)
            (target / folder / "_index.md").write_text(f"---\ntitle: {json.dumps(name, ensure_ascii=False)}\n---\n",
                                                       encoding="utf-8")
        for source in sorted(self.content.glob("articles/*/*/index.md")):
            fields, body = read_header(source.read_text(encoding="utf-8"))
            first = lambda key: (fields.get(key) or [""])[0]  # noqa: E731
            front = {
                "title": first("title"),
                "date": first("date").replace(" ", "T") + ":00+07:00",
                "slug": first("slug") or source.parent.name,
                "categories": [first("category")],
                "tags": [tag.strip() for tag in first("tags").split(",") if tag.strip()],
                "author": first("author"),
                "summary": first("summary"),
            }
            if first("image"):
                front["image"], front["imagecaption"] = first("image"), first("imagecaption")
            if fields.get("attachments"):
                front["attachments"] = [dict(zip(("file", "title"), [part.strip() for part in line.split("|", 1)]))
                                        for line in fields["attachments"]]
            bundle = target / source.parent.parent.name / source.parent.name
            bundle.mkdir(parents=True)
            (bundle / "index.md").write_text(
                "---\n" + "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in front.items())
                + "---\n\n" + body, encoding="utf-8")
            for extra in source.parent.iterdir():
                if extra.name != "index.md":
                    shutil.copy2(extra, bundle / extra.name)
        for source in sorted(self.content.glob("pages/*.md")):
            fields, body = read_header(source.read_text(encoding="utf-8"))
            title = (fields.get("title") or [source.stem])[0]
            (target / source.name).write_text(
                f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\nslug: {source.stem}\n---\n\n{body}",
                encoding="utf-8")

    # builds
    @property
    def output(self):
        return self.ours / "output"

    def cold_ours(self):
        """No cache/, no output/ (nor any staging tree), and no address
        ledger in content/ (the build writes one): every run starts equal."""
        for entry in self.ours.iterdir():
            if entry.name in KEEP_IN_PROJECT:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        shutil.rmtree(self.content / "data", ignore_errors=True)

    def build_ours(self, name, watch=None):
        command = [sys.executable, "-m", "pelican", str(self.content), "-o", "output", "-s", "pelicanconf.py",
                   "--fatal", "errors", "--log-handler", "plain"]
        return run_build(command, self.ours, self.logs / f"ours-{name}.log", watch)

    def build_plain(self, name):
        for folder in ("output", "cache"):
            shutil.rmtree(self.plain / folder, ignore_errors=True)
        command = [sys.executable, "-m", "pelican", str(self.content), "-o", "output", "-s", "pelicanconf.py",
                   "--fatal", "errors", "--log-handler", "plain"]
        return run_build(command, self.plain, self.logs / f"plain-{name}.log")

    def build_hugo(self, name):
        site = self.hugo / "site"
        for folder in (self.hugo / "public", site / "resources", self.hugo / "cache"):
            shutil.rmtree(folder, ignore_errors=True)
        (site / ".hugo_build.lock").unlink(missing_ok=True)
        command = ["hugo", "--source", str(site), "--destination", str(self.hugo / "public"),
                   "--cacheDir", str(self.hugo / "cache"), "--quiet"]
        return run_build(command, self.hugo, self.logs / f"hugo-{name}.log")

    # the scenarios' articles
    def article_page(self, folder, slug):
        return self.output / folder / f"{slug}.html"


# --- checks that listings, feeds, sitemap and search agree ----------------------

def output_files(output, suffixes=(".html", ".xml")):
    root = Path(os.path.realpath(output))
    for path in root.rglob("*"):
        if path.suffix in suffixes and path.is_file():
            yield root, path


def search_fragments(output, url):
    """Contents of every Pagefind fragment under output/ for ``url``."""
    contents = []
    for path in Path(os.path.realpath(output)).rglob("*.pf_fragment"):
        try:
            data = gzip.decompress(path.read_bytes())
            record = json.loads(data[data.index(b"{"):])
        except (OSError, ValueError, EOFError):
            continue
        if record.get("url") == url:
            contents.append(record.get("content", "") + " " + json.dumps(record.get("meta", {}), ensure_ascii=False))
    return contents


def check_present(project, folder, slug, marker):
    """After an add: problems, [] when every listing agrees."""
    url = f"/{folder}/{slug}.html"
    problems = []
    page = project.article_page(folder, slug)
    if not page.exists() or marker not in page.read_text(encoding="utf-8", errors="replace"):
        problems.append(f"{url}: page missing or without the new text")
    files = {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8", errors="replace")
             for root, path in output_files(project.output)}
    for name in ("index.html", f"{folder}/index.html"):
        if url not in files.get(name, ""):
            problems.append(f"{name} does not list it")
    if not any(url in text for name, text in files.items() if "sitemap" in name and name.endswith(".xml")):
        problems.append("no sitemap names it")
    if not any(url in text for name, text in files.items() if name.endswith(".atom.xml") or name.endswith(".rss.xml")):
        problems.append("no feed names it")
    if not any(marker in text for text in search_fragments(project.output, url)):
        problems.append("search index has no fragment with the new text")
    return problems


def check_absent(project, folder, slug):
    """After a delete: problems, [] when nothing names the article any more."""
    url = f"/{folder}/{slug}.html"
    problems = []
    if project.article_page(folder, slug).exists():
        problems.append(f"{url} still published")
    naming = [path.relative_to(root).as_posix() for root, path in output_files(project.output)
              if url in path.read_text(encoding="utf-8", errors="replace")]
    if naming:
        problems.append(f"{len(naming)} files still name it: {', '.join(sorted(naming)[:5])}")
    if search_fragments(project.output, url):
        problems.append("search index still has it")
    return problems


def check_edited(project, folder, slug, marker):
    """After an edit: every page, listing and feed naming the article shows
    the new title (the sitemap names it without one), and search has it."""
    url = f"/{folder}/{slug}.html"
    stale = []
    for root, path in output_files(project.output):
        name = path.relative_to(root).as_posix()
        if "sitemap" in name:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if url in text and marker not in text:
            stale.append(name)
    problems = [f"{len(stale)} files show the old title: {', '.join(sorted(stale)[:5])}"] if stale else []
    if not any(marker in text for text in search_fragments(project.output, url)):
        problems.append("search index has the old text")
    return problems


# --- the scenarios ----------------------------------------------------------------

def new_article(project, run):
    """A new article dated now, in a seeded category: (folder, slug, marker, text)."""
    rng = random.Random(SEED + project.count)
    sentences = _sentences()
    folder = rng.choice(list(project.categories))
    marker = f"BENCHADD{run}"
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7)))
    paragraphs = paragraphs_of(rng, sentences, 800)
    paragraphs.append(f"Mã kiểm tra {marker}.")
    text = (f"Title: {' '.join(rng.choice(sentences).rstrip('.;').split()[:12])} {marker}\n"
            f"Date: {now:%Y-%m-%d %H:%M}\nCategory: {project.categories[folder]}\n"
            f"Tags: đại hội, nông thôn mới\nAuthor: P.V\nSummary: {rng.choice(sentences)}\nStatus: published\n\n"
            + "\n\n".join(paragraphs) + "\n")
    return folder, "bai-moi-bench", marker, text


def edited_article(project):
    """The seeded article every run edits: (folder, slug, index.md path)."""
    number = random.Random(SEED * 7 + project.count).randrange(project.count)
    path = next(project.content.glob(f"articles/*/bai-{number:05d}/index.md"))
    return path.parent.parent.name, path.parent.name, path


def edit(text, marker):
    """Title and one paragraph changed, as staff fix an article."""
    head, _, body = text.partition("\n\n")
    head = re.sub(r"^Title: (.*)$", lambda m: f"Title: {m.group(1)} {marker}", head, count=1, flags=re.M)
    return f"{head}\n\n{body.rstrip()}\n\nCập nhật: bài viết được bổ sung thông tin mới, mã kiểm tra {marker}.\n"


def ours_run(project, run, figures, checks, weigh):
    """One run of our portal's scenarios: figures["ours:<scenario>"] and
    checks["<scenario>"] get this run's results; ``weigh`` (if any) is
    called right after the cold build."""
    def record(scenario, result, what):
        figures.setdefault(f"ours:{scenario}", []).append(result)
        say(project.count, run, what, result)

    project.cold_ours()
    record("cold", project.build_ours(f"cold-{run}"), "ours cold")
    if weigh:
        weigh()
    record("nothing", project.build_ours(f"nothing-{run}"), "nothing changed")

    folder, slug, marker, text = new_article(project, run)
    added = project.content / "articles" / folder / slug
    added.mkdir()
    try:
        (added / "index.md").write_text(text, encoding="utf-8")
        record("add", project.build_ours(f"add-{run}", (project.article_page(folder, slug), marker.encode())),
               "one added")
        checks.setdefault("add", []).append(check_present(project, folder, slug, marker))
    finally:
        shutil.rmtree(added)  # the deletion scenario's change: content is as generated again
    record("delete", project.build_ours(f"delete-{run}"), "one deleted")
    checks.setdefault("delete", []).append(check_absent(project, folder, slug))

    folder, slug, path = edited_article(project)
    original = path.read_bytes()
    marker = f"BENCHEDIT{run}"
    try:
        path.write_text(edit(original.decode("utf-8"), marker), encoding="utf-8")
        record("edit", project.build_ours(f"edit-{run}", (project.article_page(folder, slug), marker.encode())),
               "one edited")
        checks.setdefault("edit", []).append(check_edited(project, folder, slug, marker))
    finally:
        path.write_bytes(original)


def say(count, run, what, result):
    live = f", live after {result['live']:.2f} s" if result.get("live") is not None else ""
    print(f"  N={count:,} run {run + 1}: {what}: {result['seconds']:.2f} s{live}, "
          f"peak {result['peak'] / 2**20:,.0f} MB", flush=True)


# --- page weight in Chromium --------------------------------------------------------

BLOCKING_JS = """() => {
  const content = document.querySelector('main, [role=main], article, h1');
  const found = [];
  for (const s of document.querySelectorAll('script')) {
    const type = (s.getAttribute('type') || '').trim().toLowerCase();
    if (!(type === '' || /^(text|application)\\/(x-)?(java|ecma)script$/.test(type))) continue;
    if (s.src && (s.defer || s.async)) continue;
    const inHead = !!s.closest('head');
    const before = content ? !!(s.compareDocumentPosition(content) & Node.DOCUMENT_POSITION_FOLLOWING) : false;
    if (inHead || before) found.push(s.src ? s.getAttribute('src') : 'inline script');
  }
  return found;
}"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def page_weights(output, pages):
    """``{name: figures}`` for each ``(name, path)`` of ``pages``, or a
    string saying why it could not be measured."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "Playwright is not installed (make bench installs requirements-test.txt)"
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing: apt-get install -y chromium"
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=os.path.realpath(output)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    results = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for name, path in pages:
                context = browser.new_context()
                page = context.new_page()
                responses = []
                page.on("response", lambda response: responses.append(response))
                page.goto(base + path, wait_until="networkidle")
                page.wait_for_timeout(300)
                figures = {kind: [0, 0, 0] for kind in ("html", "css", "js", "feeds", "images", "other")}
                for response in responses:
                    try:
                        body = response.body()
                    except Exception:  # a redirect or an aborted request has none
                        continue
                    kind = {"document": "html", "stylesheet": "css", "script": "js", "image": "images"}.get(
                        response.request.resource_type)
                    if kind is None:
                        kind = "feeds" if response.request.resource_type in ("fetch", "xhr") else "other"
                    figures[kind][0] += 1
                    figures[kind][1] += len(body)
                    figures[kind][2] += len(gzip.compress(body, compresslevel=6))
                figures["blocking"] = page.evaluate(BLOCKING_JS)
                figures["status"] = next((r.status for r in responses if r.request.resource_type == "document"), None)
                figures["path"] = path
                results[name] = figures
                context.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return results


# --- the tables -------------------------------------------------------------------

def spread(values, unit=""):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.2f}{unit}"
    return f"{median:.2f} [{min(values):.2f}–{max(values):.2f}]{unit}"


def median_of(results, key="seconds"):
    values = [r[key] for r in results or [] if r.get(key) is not None]
    return statistics.median(values) if values else None


def peak_mb(results):
    return f"{max(r['peak'] for r in results) / 2**20:,.0f}" if results else "—"


# (figure, key, value, target text, {N: (predicate on the median)})
TIME_ROWS = [
    ("Cold build, our portal", "ours:cold", "seconds", "≤ 1.2× plain Pelican at N=5,000", {}),
    ("Cold build, plain Pelican (notmyidea, no plugins)", "plain:cold", "seconds", "", {}),
    ("Cold build, Hugo", "hugo:cold", "seconds", "(aim: Hugo's time)", {}),
    ("Nothing changed (rebuild after a build)", "ours:nothing", "seconds", "≤ 2 s at N=5,000",
     {5000: lambda s: s <= 2}),
    ("One article edited: its page live", "ours:edit", "live", "≤ 2 s at N=5,000; ≤ 3 s at N=20,000",
     {5000: lambda s: s <= 2, 20000: lambda s: s <= 3}),
    ("One article edited: build done (listings, feeds, sitemap, search agree)", "ours:edit", "seconds",
     "listings ≤ 5 s, search ≤ 10 s at N=5,000", {5000: lambda s: s <= 5}),
    ("One article added: its page live", "ours:add", "live", "≤ 2 s at N=5,000", {5000: lambda s: s <= 2}),
    ("One article added: build done (listings, feeds, sitemap, search agree)", "ours:add", "seconds",
     "listings ≤ 5 s, search ≤ 10 s at N=5,000", {5000: lambda s: s <= 5}),
    ("One article deleted: build done", "ours:delete", "seconds", "", {}),
]
MEMORY_ROWS = [
    ("Cold build, our portal (with search)", "ours:cold", "≤ 1.5 GB at N=5,000; < 1.5 GB at N=20,000",
     {5000: lambda b: b <= 1.5e9, 20000: lambda b: b < 1.5e9}),
    ("Cold build, plain Pelican", "plain:cold", "", {}),
    ("Cold build, Hugo", "hugo:cold", "", {}),
    ("Nothing changed", "ours:nothing", "", {}),
    ("One article edited", "ours:edit", "≤ 1.5 GB at N=5,000", {5000: lambda b: b <= 1.5e9}),
    ("One article added", "ours:add", "≤ 1.5 GB at N=5,000", {5000: lambda b: b <= 1.5e9}),
    ("One article deleted", "ours:delete", "≤ 1.5 GB at N=5,000", {5000: lambda b: b <= 1.5e9}),
]


def verdict(checks, count, value):
    if value is None or count not in checks:
        return ""
    return " ✓" if checks[count](value) else " ✗"


def tables(all_figures, weights, agreement, counts, notes):
    lines = []
    heads = " | ".join(f"N={n:,}" for n in counts)
    lines += ["### Seconds: median [min–max] of the runs", "",
              f"| figure | {heads} | target (✓ met, ✗ not) |",
              "| --- | " + " | ".join("---:" for _ in counts) + " | --- |"]
    for label, key, value, target, checks in TIME_ROWS:
        cells = []
        for n in counts:
            results = all_figures[n].get(key)
            cells.append(spread([r.get(value) for r in results or []]) + verdict(checks, n, median_of(results, value)))
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    for label, other in (("Ratio ours / plain Pelican (cold, medians)", "plain:cold"),
                         ("Ratio ours / Hugo (cold, medians)", "hugo:cold")):
        cells = []
        for n in counts:
            ours, theirs = median_of(all_figures[n].get("ours:cold")), median_of(all_figures[n].get(other))
            cell = f"{ours / theirs:.2f}×" if ours and theirs else "—"
            if other == "plain:cold" and n == 5000 and ours and theirs:
                cell += " ✓" if ours / theirs <= 1.2 else " ✗"
            cells.append(cell)
        target = "≤ 1.2× at N=5,000" if other == "plain:cold" else ""
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    lines += ["", "### Peak memory, MB (Pss of the build and all its descendants: shared pages counted once; max of the runs)", "",
              f"| build | {heads} | target |", "| --- | " + " | ".join("---:" for _ in counts) + " | --- |"]
    for label, key, target, checks in MEMORY_ROWS:
        cells = []
        for n in counts:
            results = all_figures[n].get(key)
            worst = max((r["peak"] for r in results), default=None) if results else None
            cells.append(peak_mb(results) + verdict(checks, n, worst))
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    lines += ["", "### Do listings, feeds, sitemap and search agree when the build ends?", "",
              f"| scenario | {heads} |", "| --- | " + " | ".join("---" for _ in counts) + " |"]
    for scenario, what in (("add", "added: on the home page, its category, a sitemap, a feed, in search"),
                           ("delete", "deleted: no page, no file names it, not in search"),
                           ("edit", "edited: every page naming it shows the new title, search has the new text")):
        cells = []
        for n in counts:
            runs = agreement[n].get(scenario, [])
            bad = [problem for problems in runs for problem in problems]
            cells.append("—" if not runs else (f"yes ({len(runs)}/{len(runs)} runs)" if not bad else
                                               f"**no**: {'; '.join(dict.fromkeys(bad))}"))
        lines.append(f"| {what} | " + " | ".join(cells) + " |")
    for n in counts:
        weight = weights.get(n)
        lines += ["", f"### Page weight, our portal, N={n:,} (headless Chromium; bytes raw / gzip -6)", ""]
        if weight is None:
            lines.append("not measured (a build failed)")
            continue
        if isinstance(weight, str):
            lines.append(f"not measured: {weight}")
            continue
        lines += ["| page | HTML | CSS | JS | HTML+CSS+JS gzip | feeds fetched | photos and images (apart) | "
                  "other (favicon) | render-blocking scripts |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for name, f in weight.items():
            kb = lambda kind: f"{f[kind][1] / 1024:,.1f} / {f[kind][2] / 1024:,.1f} KB"  # noqa: E731
            total = sum(f[kind][2] for kind in ("html", "css", "js")) / 1024
            mark = (" ✓" if total <= 30 else " ✗") if name.startswith("article") else ""
            blocking = ", ".join(f["blocking"]) if f["blocking"] else "none"
            lines.append(f"| {name} (`{f['path']}`, HTTP {f['status']}) | {kb('html')} | {kb('css')} | {kb('js')} | "
                         f"{total:,.1f} KB{mark} | {kb('feeds')} ({f['feeds'][0]} files) | "
                         f"{f['images'][1] / 1024:,.1f} KB ({f['images'][0]} files) | {kb('other')} | {blocking} |")
        lines.append("")
        lines.append("Target: an article page ≤ 30 KB gzip for HTML, CSS and JS together; no render-blocking script.")
    if notes:
        lines += ["", "### Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 2**20:.0f} GB RAM"
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}{memory}, {platform.platform()}"


def command_output(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def sample_load(samples, stop):
    """The 1-minute load average every 5 s until ``stop``: on a shared
    machine it says how much the figures were slowed by other jobs."""
    while not stop.wait(5):
        samples.append(os.getloadavg()[0])


def header(counts, runs, hugo, load=()):
    commit = command_output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    if command_output(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " (working tree, with uncommitted changes)"
    subject = command_output(["git", "log", "-1", "--format=%s"])
    pelican = command_output([sys.executable, "-m", "pelican", "--version"])
    chromium = command_output([CHROMIUM, "--version"]) if os.path.exists(CHROMIUM) else "missing"
    return "\n".join([
        "# Build benchmark (`make bench BENCH=bench_build`)", "",
        f"- date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- machine: {machine()}",
        *([f"- load: 1-minute load average during the run median {statistics.median(load):.1f}, max {max(load):.1f} "
           f"on {len(os.sched_getaffinity(0))} CPUs"
           + (" (other jobs shared the cores: expect slower figures than on an idle machine)"
              if statistics.median(load) > len(os.sched_getaffinity(0)) * 0.75 else "")] if load else []),
        f"- commit: {commit} — {subject}",
        f"- N: {', '.join(f'{n:,}' for n in counts)} articles; {runs} runs per figure; seed {SEED}",
        f"- Pelican {pelican}; Hugo: {hugo or 'missing (apt-get install -y hugo)'}; Chromium: {chromium}",
        "- synthetic portal (tests/bench/synthetic.py): ~800 words per article, 8 categories, 2-4 tags each, "
        "a photo (800×533 JPEG) on one article in five, a PDF on one in ten, a view counted for every article "
        "in views.json, the sample site's pages, feeds, banners and images",
        "- our build: `python -m pelican <content> -o output -s pelicanconf.py --fatal errors --log-handler plain` "
        "in a project folder with a copy of pelicanconf.py (MENU_CATEGORIES: the 8 categories), a link to theme/ "
        "and its own cache/; cold = no cache/, no output/, no address ledger",
        "- scenarios, in this order each run: cold, nothing changed, one article added (dated now), that "
        "article deleted, one article edited (title and a paragraph); *live* = first time the new text is in "
        "`output/<category>/<slug>.html` (polled every 20 ms); *done* = the build process has ended",
        "", ""])


# --- main -------------------------------------------------------------------------

def parse_counts(text):
    return [int(part.replace("_", "")) for part in re.split(r"[,\s]+", text.strip()) if part]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", default=os.environ.get("BENCH_N", DEFAULT_N), help="comma list of portal sizes")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    parser.add_argument("--workdir", default=os.environ.get("BENCH_WORKDIR"))
    parser.add_argument("--keep", action="store_true", default=bool(os.environ.get("BENCH_KEEP")))
    parser.add_argument("--results", default=os.environ.get("BENCH_RESULTS", str(ROOT / "bench" / "results.md")))
    args = parser.parse_args(argv)
    counts, runs = parse_counts(args.n), max(1, args.runs)

    hugo = shutil.which("hugo")
    hugo_version = command_output([hugo, "version"]) if hugo else ""
    if not hugo:
        print("hugo is not installed, its column stays empty; install it with: apt-get install -y hugo", flush=True)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-build-"))
    workdir.mkdir(parents=True, exist_ok=True)
    all_figures, weights, agreement, failures, notes = {}, {}, {}, [], []
    load, stop_load = [], threading.Event()
    threading.Thread(target=sample_load, args=(load, stop_load), daemon=True).start()
    if not hugo:
        notes.append("Hugo is not installed (apt-get install -y hugo): its figures are empty.")
    try:
        for count in counts:
            project = Project(workdir / f"n{count}", count)
            seconds = project.generate()
            print(f"\nN={count:,}: portal generated in {seconds:.1f} s under {project.root}", flush=True)
            figures = all_figures[count] = {}
            checks = agreement[count] = {}
            for run in range(runs):

                def weigh():
                    try:
                            weights[count] = page_weights(project.output, [
                            ("home", "/"),
                            ("article (with a photo)", f"/{next(iter(project.categories))}/bai-00000.html"),
                            ("category", f"/{next(iter(project.categories))}/")])
                    except Exception as error:  # the weight is a figure, not a build: report, go on
                        weights[count] = f"{type(error).__name__}: {error}"

                try:
                    ours_run(project, run, figures, checks, weigh if run == 0 else None)
                except BuildFailed as error:
                    failures.append(str(error))
                    print(f"  N={count:,} run {run + 1}: our build FAILED\n{error}", flush=True)
                for name, build in (("plain", project.build_plain), ("hugo", project.build_hugo if hugo else None)):
                    if build is None:
                        continue
                    try:
                        result = build(f"cold-{run}")
                    except BuildFailed as error:
                        failures.append(str(error))
                        print(f"  N={count:,} run {run + 1}: {name} build FAILED\n{error}", flush=True)
                        continue
                    figures.setdefault(f"{name}:cold", []).append(result)
                    say(count, run, f"{name} cold", result)
            if not args.keep:
                shutil.rmtree(project.root, ignore_errors=True)
        if failures:
            notes.append(f"{len(failures)} builds failed; their figures are missing. First failure: "
                         + failures[0].splitlines()[0])
        stop_load.set()
        report = header(counts, runs, hugo_version, load) + tables(all_figures, weights, agreement, counts, notes)
        print("\n" + report, flush=True)
        results = Path(args.results)
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(report, encoding="utf-8")
        print(f"written to {results}", flush=True)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
