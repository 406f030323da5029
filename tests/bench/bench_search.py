"""Benchmark of site search (plugins/site_search: Pagefind in shards) on a
synthetic portal.

    python tests/bench/bench_search.py [--count 5000] [--workdir DIR] [--no-single]

Builds ``--count`` synthetic articles (tests/bench/synthetic.py) with our
settings, and measures, in one run:

* the cold build with search in shards (the portal's), its search phase,
  and the peak memory of the whole build (Pelican and Pagefind, summed
  over the process tree, sampled every 0.1 s);
* after one article is edited, the rebuild: shards rebuilt, seconds until
  the search index is right (the build publishes it when it ends), the
  search phase alone;
* unless --no-single, the same site with one index (``SEARCH_SHARDING =
  "single"``): its cold build and memory;
* in headless Chromium (Debian's), for a few queries each in a fresh
  browser, the bytes the search page downloads until the first results are
  shown, from ``performance.getEntriesByType('resource')``, sharded against
  single; and whether both find as many pages, and the same first ten.

and prints Markdown tables.
"""

import argparse
import os
import re
import runpy
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parents[2]

from synthetic import make_site  # noqa: E402

# Common syllables first (in nearly every synthetic article), rarer ones last.
QUERIES = ["dai hoi", "Đảng bộ", "Dong Phu", "bau truc tiep bi thu", "nông thôn mới", "Đồng Xoài", "dak"]
EDITED = "bai-02500"  # an article of 2023, a year in the middle
NEW_WORD = "tuvungmoiriengbaihaingannamtram"  # letters only: Pagefind splits digits off


def tree_rss(pid):
    """RSS in bytes of ``pid`` and all its descendants."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in family]
        family.update(children)
        frontier += children
    total = 0
    for member in family:
        try:
            with open(f"/proc/{member}/status") as handle:
                total += next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def pelican(content, output, cache, extra=()):
    """Run Pelican as `make html` does; returns (seconds, peak tree RSS,
    search phase seconds or None, log)."""
    command = [sys.executable, "-m", "pelican", str(content), "-o", str(output),
               "-s", str(ROOT / "pelicanconf.py"), "--log-handler", "plain", "--fatal", "errors", "-v",
               "-e", f'CACHE_PATH="{cache}"', *extra]  # one -e: Pelican keeps only the last
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=dict(os.environ, PYTHONUTF8="1"))
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    log = process.communicate()[0]
    seconds = time.perf_counter() - start
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"benchmark build failed:\n{log[-3000:]}")
    phase = re.search(r"chỉ mục tìm kiếm \(search index\) ([\d.]+) s", log)
    return seconds, peak[0], float(phase.group(1)) if phase else None, log


def shard_folders(cache):
    """{shard: inode of its cached folder}: a rebuilt shard is a new folder."""
    return {p.name: p.stat().st_ino for p in (Path(cache) / "search").iterdir()}


def first_query(browser_mod, chromium, base_url, query):
    """Open the search page for ``query`` in a fresh browser context;
    returns what was downloaded until its first results were shown, and
    the first ten titles."""
    watched = browser_mod.new_page(chromium, 1280)
    page = watched.page
    start = time.perf_counter()
    page.goto(f"{base_url}/tim-kiem/?q={quote(query)}")
    page.wait_for_function(
        "(() => { const s = document.getElementById('ket-qua-trang-thai').textContent;"
        " return s.startsWith('Không') || (document.querySelector('.search-result')"
        " && !document.getElementById('xem-them').disabled); })()", timeout=120_000)
    seconds = time.perf_counter() - start
    page.wait_for_timeout(500)  # anything still in flight
    entries = page.evaluate(
        "performance.getEntriesByType('resource').map(e => [e.name, e.transferSize, e.encodedBodySize])")
    status = page.locator("#ket-qua-trang-thai").text_content()
    first_ten = page.locator(".search-result__title a").all_text_contents()
    watched.context.close()
    # transferSize: what came over the network (0 for what the exact tier
    # reread from the browser's cache)
    search = [(urlparse(n).path, t) for n, t, e in entries
              if t and ("/pagefind/" in n or n.endswith("/search.js"))]
    return {
        "query": query, "status": status, "seconds": seconds, "first_ten": first_ten,
        "bytes": sum(size for _, size in search), "requests": len(search),
        "chunks": sum(size for path, size in search if path.endswith(".pf_index")),
        "metas": sum(size for path, size in search if path.endswith((".pf_meta", "pagefind-entry.json"))),
    }


def kb(size):
    return f"{size / 1000:,.0f} KB"


def mb(size):
    return f"{size / 1_000_000:,.0f} MB"


def folder_bytes(folder):
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="synthetic articles (5000)")
    parser.add_argument("--workdir", help="keep the sites here instead of a temp folder")
    parser.add_argument("--no-single", action="store_true", help="skip the one-index comparison")
    parser.add_argument("--no-browser", action="store_true", help="skip the first-query downloads")
    parser.add_argument("--query", action="append", help="queries to download (default: a fixed set)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-search-") as temp:
        work = Path(args.workdir or temp)
        work.mkdir(parents=True, exist_ok=True)
        content = make_site(work, args.count)
        sharded = work / "output"
        cold = pelican(content, sharded, work / "cache")
        index_bytes, index_files = folder_bytes(sharded / "pagefind")

        edited = next((content / "articles").glob(f"*/{EDITED}/index.md"))
        edited.write_text(edited.read_text(encoding="utf-8") + f"\nTừ mới: {NEW_WORD}.\n", encoding="utf-8")
        before = shard_folders(work / "cache")
        edit = pelican(content, sharded, work / "cache")
        after = shard_folders(work / "cache")
        rebuilt = sorted(name for name in after if before.get(name) != after[name])

        single = None
        if not args.no_single:
            single = pelican(content, work / "output-single", work / "cache-single", ['SEARCH_SHARDING="single"'])

        results = []
        if not args.no_browser:
            browser_mod = SimpleNamespace(**runpy.run_path(str(ROOT / "tests" / "browser.py")))
            with browser_mod.chromium() as chromium, browser_mod.serve(sharded) as sharded_url:
                sites = [("sharded", sharded_url)]
                with (browser_mod.serve(work / "output-single") if single else _nothing()) as single_url:
                    if single_url:
                        sites.append(("single", single_url))
                    for query in [NEW_WORD] + (args.query or QUERIES):
                        results.append({name: first_query(browser_mod, chromium, url, query) for name, url in sites})

    shards = len(before)
    print(f"Synthetic portal: {args.count:,} articles of about 800 words (tests/bench/synthetic.py), "
          f"our settings and theme; Pagefind 1.5.2; {shards} shards.\n")
    print("| build | time | search phase | peak memory (Pelican + Pagefind) |")
    print("| --- | --- | --- | --- |")
    print(f"| cold, search in shards | {cold[0]:.1f} s | {cold[2]:.1f} s | {mb(cold[1])} |")
    print(f"| one article edited: search index right after | {edit[0]:.1f} s | {edit[2]:.1f} s "
          f"({len(rebuilt)} shard rebuilt) | {mb(edit[1])} |")
    if single:
        print(f"| cold, one index (`SEARCH_SHARDING = \"single\"`) | {single[0]:.1f} s | {single[2]:.1f} s | "
              f"{mb(single[1])} |")
    print(f"\nIndex on disk (shards): {mb(index_bytes)} in {index_files:,} files. Rebuilt: {rebuilt}\n")
    if results:
        print("First query, cold browser cache (headless Chromium, resource timing), search files only:\n")
        print("| query | results | sharded: bytes (requests) | of which chunks | entry+meta | single: bytes "
              "(requests) | same count | same first 10 (in order) | time sharded / single |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in results:
            s, o = r["sharded"], r.get("single")
            found = s["status"].split(" kết quả")[0].replace("Tìm thấy ", "")
            same = same10 = single_bytes = single_time = "–"
            if o:
                same = "yes" if s["status"] == o["status"] else "NO"
                same10 = "yes" if s["first_ten"] == o["first_ten"] else (
                    f"{len(set(s['first_ten']) & set(o['first_ten']))}/10 shared")
                single_bytes = f"{kb(o['bytes'])} ({o['requests']})"
                single_time = f"{o['seconds']:.1f} s"
            print(f"| `{s['query']}` | {found} | {kb(s['bytes'])} ({s['requests']}) | {kb(s['chunks'])} | "
                  f"{kb(s['metas'])} | {single_bytes} | {same} | {same10} | {s['seconds']:.1f} s / {single_time} |")
    return 0


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    sys.exit(main())
