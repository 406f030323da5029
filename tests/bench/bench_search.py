"""Benchmark of site search (plugins/site_search, Pagefind) on a synthetic
portal.

    python tests/bench/bench_search.py [--count 5000] [--workdir DIR] [--no-full]

Builds ``--count`` synthetic articles (tests/bench/synthetic.py) with our
settings, and measures, in one run:

* Pelican without search (``SEARCH_INDEX=False``): the same-run baseline;
* Pagefind alone on that output (the step search adds to every build), its
  peak memory, and the index on disk;
* unless --no-full, the whole build with search, as `make html` runs it;
* in headless Chromium (Debian's), for a few queries each in a fresh
  browser, the bytes the search page downloads until the first results are
  shown, from ``performance.getEntriesByType('resource')`` (``transferSize``,
  or ``encodedBodySize`` when that is 0), and what gzip on the web server
  would make of the parts that are not compressed already.

and prints Markdown tables.
"""

import argparse
import gzip
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parents[2]

from site_search import OUTPUT_SUBDIR, pagefind_command  # noqa: E402
from synthetic import make_site  # noqa: E402

# Common syllables first (in nearly every synthetic article), rarer ones last.
QUERIES = ["dai hoi", "Đảng bộ", "Dong Phu", "bau truc tiep bi thu", "nông thôn mới", "Đồng Xoài", "dak"]
# Pagefind's bundle files are gzip-compressed already; the rest is not.
PRECOMPRESSED = (".pf_index", ".pf_fragment", ".pf_meta", ".pf_filter", ".pagefind")


def pelican(content, output, cache, extra=()):
    """Run Pelican as `make html` does; returns the wall time in seconds."""
    command = [sys.executable, "-m", "pelican", str(content), "-o", str(output),
               "-s", str(ROOT / "pelicanconf.py"), "--log-handler", "plain", "--fatal", "errors",
               "-e", f'CACHE_PATH="{cache}"', *extra]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONUTF8="1"))
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"benchmark build failed:\n{result.stdout[-3000:]}")
    return seconds


def run_pagefind(site):
    """Pagefind as the plugin runs it; returns (seconds, peak RSS bytes)."""
    shutil.rmtree(Path(site) / OUTPUT_SUBDIR, ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen(pagefind_command(site), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"Pagefind failed: {process.stderr.read().decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss * 1024


def bundle_figures(site):
    bundle = Path(site) / OUTPUT_SUBDIR
    files = [p for p in bundle.rglob("*") if p.is_file()]
    by_kind = {}
    for p in files:
        kind = p.parent.name if p.parent != bundle else "library (js, wasm, css)"
        if p.suffix == ".pf_meta":
            kind = "page list (pf_meta)"
        by_kind.setdefault(kind, [0, 0])
        by_kind[kind][0] += 1
        by_kind[kind][1] += p.stat().st_size
    chunks = sorted(p.stat().st_size for p in (bundle / "index").glob("*.pf_index"))
    return {
        "bytes": sum(p.stat().st_size for p in files),
        "files": len(files),
        "by_kind": by_kind,
        "chunks": chunks,
    }


def first_query(browser_mod, chromium, base_url, site, query):
    """Open the search page for ``query`` in a fresh browser context and
    return what was downloaded until its first results were shown."""
    watched = browser_mod.new_page(chromium, 1280)
    page = watched.page
    failed = []  # the synthetic content has no banners or feeds: only search files matter
    page.on("response", lambda r: r.status >= 400 and failed.append(r.url))
    start = time.perf_counter()
    page.goto(f"{base_url}/tim-kiem/?q={quote(query)}")
    # answered, and the first page of results on screen (fragments loaded)
    page.wait_for_function(
        "(() => { const s = document.getElementById('ket-qua-trang-thai').textContent;"
        " return s.startsWith('Không') || (document.querySelector('.search-result')"
        " && !document.getElementById('xem-them').disabled); })()", timeout=120_000)
    seconds = time.perf_counter() - start
    page.wait_for_timeout(500)  # anything still in flight
    entries = page.evaluate(
        "[performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]"
        ".map(e => [e.name, e.transferSize, e.encodedBodySize])")
    status = page.locator("#ket-qua-trang-thai").text_content()
    failed = [u for u in failed if f"/{OUTPUT_SUBDIR}/" in u or "/search." in u]
    if watched.outside_requests or failed or "kết quả" not in status:
        raise SystemExit(f"{query}: {status} {watched.outside_requests} {failed}")
    watched.context.close()
    rows = []
    for name, transfer, encoded in entries:
        size = transfer or encoded
        path = urlparse(name).path
        local = Path(site) / path.lstrip("/")
        if path.endswith("/"):
            local = local / "index.html"
        gz = size
        if local.is_file() and not path.endswith(PRECOMPRESSED) and path.endswith((".js", ".css", ".html", "/", ".json")):
            gz = len(gzip.compress(local.read_bytes(), 6)) + (size - local.stat().st_size)
        rows.append((path, size, gz))
    search = [r for r in rows if f"/{OUTPUT_SUBDIR}/" in r[0] or r[0].endswith(("/search.js", "/search.css"))]
    chunks = [r for r in rows if r[0].endswith(".pf_index")]
    return {
        "query": query, "status": status, "seconds": seconds,
        "search": sum(r[1] for r in search), "search_gz": sum(r[2] for r in search),
        "page": sum(r[1] for r in rows), "page_gz": sum(r[2] for r in rows),
        "chunks": sum(r[1] for r in chunks), "chunk_count": len(chunks),
        "fragments": sum(r[1] for r in rows if r[0].endswith(".pf_fragment")),
    }


def kb(size):
    return f"{size / 1000:,.0f} KB"


def mb(size):
    return f"{size / 1_000_000:,.1f} MB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="synthetic articles (5000)")
    parser.add_argument("--workdir", help="keep the site here instead of a temp folder")
    parser.add_argument("--no-full", action="store_true", help="skip the whole build with search")
    parser.add_argument("--query", action="append", help="queries to download (default: a fixed set)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-search-") as temp:
        work = Path(args.workdir or temp)
        work.mkdir(parents=True, exist_ok=True)
        content = make_site(work, args.count)
        site = work / "output"

        base_seconds = pelican(content, site, work / "cache-base", ["-e", "SEARCH_INDEX=false"])
        index_seconds, peak = run_pagefind(site)
        figures = bundle_figures(site)
        full_seconds = None
        if not args.no_full:
            full_seconds = pelican(content, work / "output-full", work / "cache-full")

        # the tests' browser harness (tests/ is not a package: read by path)
        browser_mod = SimpleNamespace(**runpy.run_path(str(ROOT / "tests" / "browser.py")))

        results = []
        with browser_mod.chromium() as chromium, browser_mod.serve(site) as base_url:
            for query in args.query or QUERIES:
                results.append(first_query(browser_mod, chromium, base_url, site, query))

    print(f"Synthetic portal: {args.count:,} articles of about 800 words (tests/bench/synthetic.py), "
          f"our settings and theme; Pagefind 1.5.2.\n")
    print("| build step | time | |")
    print("| --- | --- | --- |")
    print(f"| Pelican, no search (baseline) | {base_seconds:.1f} s | 1.00× |")
    print(f"| Pagefind index (the step search adds) | {index_seconds:.1f} s | "
          f"{index_seconds / base_seconds:.2f}× of the baseline; peak memory {mb(peak)} |")
    if full_seconds is not None:
        print(f"| whole build with search (`make html`) | {full_seconds:.1f} s | "
              f"{full_seconds / base_seconds:.2f}× |")
    print()
    print(f"Index on disk: {mb(figures['bytes'])} in {figures['files']:,} files.\n")
    print("| part | files | size |")
    print("| --- | --- | --- |")
    for kind, (files, size) in sorted(figures["by_kind"].items(), key=lambda kv: -kv[1][1]):
        print(f"| {kind} | {files:,} | {mb(size) if size > 1_000_000 else kb(size)} |")
    chunks = figures["chunks"]
    print(f"\nIndex chunks: median {kb(chunks[len(chunks) // 2])}, largest {kb(chunks[-1])}.\n")
    print("First query, cold browser cache (headless Chromium, resource timing):\n")
    print("| query | results | search downloads | Pagefind code, page list, our JS/CSS | index chunks | "
          "10 result fragments | with gzip on the server | whole page | time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        found = r["status"].split(" kết quả")[0].replace("Tìm thấy ", "")
        fixed = r["search"] - r["chunks"] - r["fragments"]
        print(f"| `{r['query']}` | {found} | {kb(r['search'])} | {kb(fixed)} | {kb(r['chunks'])} "
              f"({r['chunk_count']}) | {kb(r['fragments'])} | {kb(r['search_gz'])} | {kb(r['page'])} | "
              f"{r['seconds']:.1f} s |")
    worst = max(r["search"] for r in results)
    print(f"\nLargest first-query download: {kb(worst)} (aim: under 300 KB).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
