"""Benchmark of the access-log counter (counter/) against GoAccess (not a test).

    python tests/bench/bench_counter.py [--lines 1000000] [--log PATH] [--runs 3]
                                        [--hostile-mib 32] [--hostile-only]

Writes a realistic, seeded "combined" access log (page views with their
assets, ~50k visitors, bots, uptime monitors, 404 scanners, a few malformed
lines, spanning about a day and a half) unless --log names an existing file,
then measures on that same file:

* our counter, run as `make stats` runs it (`python3 -m counter` from the
  project's folder, a child process on a fresh state):
  best of N wall-clock times -> lines/s, and the child's peak RSS;
* GoAccess (`goaccess FILE --log-format=COMBINED -o OUT.json`: parses the
  whole file, writes a JSON report and exits; no terminal UI, no real-time
  server), the same way;
* hostile inputs (issue 9), each against a normal log of the same size in
  the same run: one run of bytes without a newline, lines just over the
  length limit, lines at the limit full of quotes and backslashes (the
  slow regular expression), and a gzip bomb next to a normal gzip log of
  the same compressed size. Linear cost shows as a ratio near or below 1
  that stays put when the size doubles.

The counter is told what the build published (--published): an output
registry listing as pages the addresses the log requests (taken from the
log itself). The counter is a tool here as GoAccess is: it runs as a child
process and nothing of it is imported.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from portal import view_shards

ROOT = Path(__file__).resolve().parents[2]
GOACCESS = shutil.which("goaccess") or "/usr/bin/goaccess"
VN = timezone(timedelta(hours=7))

CATEGORIES = ["xay-dung-dang", "tin-tuc-su-kien", "quoc-phong-an-ninh", "van-hoa-xa-hoi",
              "hoc-tap-va-lam-theo-bac", "kinh-te", "giao-duc", "y-te"]
SYLLABLES = ("dai hoi dang bo xa dong tien nhiem ky ket qua binh phuoc hoc tap lam theo bac "
             "phong chong dich benh nong dan lien ket tieu thu hat dieu chi tra tien ho tro "
             "nguoi dan gap kho khan quan su dia phuong huan luyen dan quan tu ve cong an "
             "bien phong chot chan tuyen bien gioi loc ninh dong xoai chon thanh bu dop hon "
             "quan phu rieng thanh nien doan vien tuyen giao tinh uy hoi nghi trien khai nghi "
             "quyet chuyen de van hoa xa hoi giao thong nong thon moi").split()
BROWSERS = [
    "Mozilla/5.0 (Linux; Android 10; SM-A505F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.125 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 13_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.105 Safari/537.36 coc_coc_browser/{v}.0.{b}",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.135 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 9; Redmi Note 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.101 Mobile Safari/537.36 Zalo android/{b} ZaloTheme/light ZaloLanguage/vn",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone11,8;FBMD/iPhone;FBSN/iOS;FBSV/14.0;FBSS/2;FBID/phone;FBLC/vi_VN;FBOP/5]",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
]
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; coccocbot-web/1.0; +http://help.coccoc.com/searchengine)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/7.68.0",
    "python-requests/2.24.0",
    "-",
]
REFERERS = ["-", "https://www.google.com/", "https://www.facebook.com/", "http://m.facebook.com/",
            "https://coccoc.com/search", "https://zalo.me/"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def stamp(moment: int, _cache={}) -> str:
    text = _cache.get(moment)
    if text is None:
        t = datetime.fromtimestamp(moment, VN)
        text = _cache[moment] = (f"{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:"
                                 f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} +0700")
    return text


def line(ip, moment, method, path, status, size, referer, agent):
    return f'{ip} - - [{stamp(moment)}] "{method} {path} HTTP/1.1" {status} {size} "{referer}" "{agent}"\n'


def generate(path: Path, total_lines: int = 1_000_000, seed: int = 2020) -> dict:
    """Write the log (sorted by time); return a few facts about it."""
    rng = random.Random(seed)
    start = int(datetime(2020, 8, 13, 6, 0, tzinfo=VN).timestamp())
    span = 36 * 3600
    articles = []
    for _ in range(3000):
        words = rng.sample(SYLLABLES, rng.randint(6, 12))
        articles.append(f"/{rng.choice(CATEGORIES)}/{'-'.join(words)}.html")
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(articles))]  # a few articles are hot
    lists = ["/"] + [f"/{c}/" for c in CATEGORIES] + ["/tin-moi/", "/gioi-thieu.html", "/lien-he.html"]
    visitors = []
    for number in range(50_000):
        ip = f"{rng.choice((14, 27, 42, 113, 115, 116, 171, 183))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        agent = rng.choice(BROWSERS).format(v=rng.randint(78, 86), b=rng.randint(3000, 4300))
        visitors.append((ip, agent))

    def busy_time():  # more readers by day than at night
        while True:
            moment = start + rng.randrange(span)
            hour = datetime.fromtimestamp(moment, VN).hour
            if rng.random() < (1.0 if 7 <= hour <= 22 else 0.25):
                return moment

    out = []
    human_budget = int(total_lines * 0.84)
    page_views = 0
    while len(out) < human_budget:
        ip, agent = rng.choice(visitors)
        moment = busy_time()
        referer = rng.choice(REFERERS)
        for page_number in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 6))):
            if rng.random() < 0.8:
                page = rng.choices(articles, weights)[0]
            else:
                page = rng.choice(lists)
            if rng.random() < 0.08:
                page += f"?fbclid=IwAR{rng.getrandbits(64):x}"
            status = 304 if page_number and rng.random() < 0.1 else 200
            out.append((moment, line(ip, moment, "GET", page, status, rng.randint(15000, 60000), referer, agent)))
            page_views += 1
            here = "https://tuyengiao.binhphuoc.gov.vn" + page.split("?")[0]
            cached = page_number > 0
            for asset in ("/theme/css/main.css", "/theme/js/widgets.js", "/images/logo.png", "/favicon.ico"):
                out.append((moment, line(ip, moment, "GET", asset, 304 if cached else 200,
                                         0 if cached else 4000, here, agent)))
            if page.endswith(".html") and page not in lists:
                slug = page.split("?")[0][:-5]
                for photo in range(rng.randint(1, 3)):
                    out.append((moment + 1, line(ip, moment + 1, "GET", f"/articles{slug}/anh-{photo + 1}.jpg",
                                                 200, rng.randint(40000, 300000), here, agent)))
            # the widget script's fetches: visitors, and an article's own view shard
            feeds = ["/feeds/visitors.json"]
            if page.endswith(".html") and page not in lists:
                feeds.append("/feeds/" + view_shards.shard_path(page.split("?")[0].lstrip("/")))
            for feed in feeds:
                out.append((moment + 2, line(ip, moment + 2, "GET", feed, 200, 120, here, agent)))
            moment += rng.randint(20, 600) if rng.random() < 0.95 else rng.randint(1801, 5000)
            if moment >= start + span:
                break
    # Bots and monitors (~13%), scanners and errors (~3%), malformed lines.
    while len(out) < total_lines - 100:
        moment = start + rng.randrange(span)
        roll = rng.random()
        if roll < 0.8:
            agent = rng.choice(BOTS)
            target = rng.choice(articles) if rng.random() < 0.7 else rng.choice(lists)
            out.append((moment, line(f"66.249.{rng.randrange(64, 80)}.{rng.randrange(1, 255)}", moment,
                                     rng.choice(("GET", "GET", "HEAD")), target, 200, 20000, "-", agent)))
        elif roll < 0.9:
            ip, agent = rng.choice(visitors)
            out.append((moment, line(ip, moment, "GET", rng.choice(articles)[:-5] + "-cu.html", 404, 162, "-", agent)))
        else:
            target = rng.choice(("/wp-login.php", "/.env", "/admin/", "/xmlrpc.php", "/phpmyadmin/"))
            out.append((moment, line(f"45.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}", moment,
                                     rng.choice(("GET", "POST")), target, 404, 162, "-", "Mozilla/5.0")))
    for _ in range(100):  # truncated and binary junk
        moment = start + rng.randrange(span)
        out.append((moment, rng.choice(('\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03 - -\n',
                                        line("1.2.3.4", moment, "GET", "/", 200, 1, "-", "x")[:60] + "\n"))))
    out.sort(key=lambda item: item[0])
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(text for _, text in out)
    return {"lines": len(out), "page_views_written": page_views}


# Run by a small fresh interpreter so that the measured process's peak RSS is
# its own: a child forked straight from this (large) process would inherit
# this process's peak in ru_maxrss on Linux.
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
elapsed = time.perf_counter() - started
print(json.dumps([elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code]))
"""


def timed_child(command: list[str]) -> tuple[float, int, int]:
    """Run a command in the project's folder; (wall seconds, peak RSS in MiB, return code)."""
    result = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True,
                            cwd=ROOT)
    elapsed, peak_kib, code = json.loads(result.stdout)
    return elapsed, peak_kib // 1024, code


def counter_limits() -> tuple[int, int]:
    """The counter's line limit and gzip ratio, asked of the counter itself."""
    code = "from counter.logfiles import MAX_GZIP_RATIO, MAX_LINE_BYTES; print(MAX_LINE_BYTES, MAX_GZIP_RATIO)"
    line, ratio = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.split()
    return int(line), int(ratio)


def make_registry(log: Path, registry: Path) -> Path:
    """The output registry of a site publishing every page the log asks for:
    each address a GET answered 200 or 304 whose path (query dropped) ends
    in .html or / (a folder: its index.html) is a page; the assets, feeds and
    photos the log also asks for are listed under their own kinds."""
    files = {"index.html": {"kind": "page", "source": "bench"}}
    with open(log, "rb") as handle:
        for raw in handle:
            start = raw.find(b'"GET /')
            if start < 0 or raw[raw.find(b'" ', start) + 2:][:3] not in (b"200", b"304"):
                continue
            target = raw[start + 6:raw.find(b" ", start + 5)].split(b"?")[0].decode("utf-8", "replace")
            if target.startswith("/") or "\\" in target:  # no file's name: nothing the build wrote
                continue
            if target == "" or target.endswith("/"):
                files[target + "index.html"] = {"kind": "page", "source": "bench"}
            elif target.endswith(".html"):
                files[target] = {"kind": "page", "source": "bench"}
            else:
                files[target] = {"kind": "static", "source": "bench"}
    registry.parent.mkdir(parents=True, exist_ok=True)
    registry.write_text(json.dumps({"version": 1, "files": files}, ensure_ascii=False), encoding="utf-8")
    return registry


def counter_command(folder: Path, published: Path, *logs: Path) -> list[str]:
    """`make stats` with its paths in ``folder``: python3 -m counter, from the project's folder."""
    return [sys.executable, "-m", "counter", "--feeds-dir", str(folder / "feeds"),
            "--state", str(folder / "state.json"), "--published", str(published), *map(str, logs)]


def bench_ours(log: Path, work: Path, runs: int):
    times, peaks, last = [], [], None
    published = make_registry(log, work / "outputs.json")
    for number in range(runs):
        folder = work / f"ours-{number}"
        folder.mkdir()
        command = counter_command(folder, published, log)
        elapsed, peak, code = timed_child(command)
        if code != 0:
            raise SystemExit(f"counter failed ({code}): {' '.join(command)}")
        times.append(elapsed)
        peaks.append(peak)
        last = folder
    visitors = json.loads((last / "feeds" / "visitors.json").read_text())
    # The every-minute case once the log is known: nothing new to read.
    rerun, _, code = timed_child(command)
    if code != 0:
        raise SystemExit(f"counter rerun failed ({code})")
    return min(times), max(peaks), visitors, rerun


def bench_goaccess(log: Path, work: Path, runs: int):
    if not Path(GOACCESS).exists():
        print("goaccess not installed: apt-get install -y goaccess")
        return None
    times, peaks = [], []
    for number in range(runs):
        out = work / f"goaccess-{number}.json"
        command = [GOACCESS, str(log), "--log-format=COMBINED", "-o", str(out),
                   "--no-global-config", "--no-progress", "--no-parsing-spinner"]
        elapsed, peak, code = timed_child(command)
        if code != 0 or not out.exists():
            print(f"goaccess failed ({code}); skipped")
            return None
        times.append(elapsed)
        peaks.append(peak)
    report = json.loads(out.read_text())
    general = report.get("general", {})
    return min(times), max(peaks), general


def best_time(work: Path, published: Path, log: Path, runs: int, codes=(0,)) -> float:
    """Best wall-clock time of the counter on ``log`` with a fresh state."""
    best = None
    for number in range(runs):
        folder = Path(tempfile.mkdtemp(dir=work))
        elapsed, _, code = timed_child(counter_command(folder, published, log))
        if code not in codes:
            raise SystemExit(f"counter failed ({code}) on {log}")
        best = elapsed if best is None else min(best, elapsed)
        shutil.rmtree(folder)
    return best


def normal_log(path: Path, size: int, seed: int = 7) -> Path:
    """A realistic log of about ``size`` bytes (whole lines)."""
    source = path.with_suffix(".source")
    generate(source, max(1000, size // 280), seed)
    with open(source, "rb") as handle, open(path, "wb") as out:
        out.write(handle.read(size).rpartition(b"\n")[0] + b"\n")
    source.unlink()
    return path


def hostile_logs(folder: Path, size: int, limit: int) -> dict[str, Path]:
    """Logs of ``size`` bytes built to be slow (issue 9); ``limit``: the counter's line limit."""
    logs = {}
    logs["one line, no newline"] = folder / "endless.log"
    logs["one line, no newline"].write_bytes(b"A" * size)
    over = b"1.2.3.4 - - [14/Aug/2020:10:00:00 +0700] \"GET /a.html HTTP/1.1\" 200 1 \"-\" \""
    over += b"x" * (limit + 1 - len(over) - 1) + b"\"\n"
    logs["lines just over the limit"] = folder / "over.log"
    logs["lines just over the limit"].write_bytes(over * (size // len(over)))
    # At the limit, through the general expression (a backslash in the line),
    # with quotes and backslashes where backtracking would hurt.
    tricky = b"1.2.3.4 - - [14/Aug/2020:10:00:00 +0700] \"GET /a.html HTTP/1.1\" 200 1 \"\\\"\" \""
    tricky += (b'\\"' * ((limit - len(tricky)) // 2))[:limit - len(tricky)] + b"\n"
    logs["quotes and backslashes at the limit"] = folder / "tricky.log"
    logs["quotes and backslashes at the limit"].write_bytes(tricky * (size // len(tricky)))
    spaces = b"1" + b" -" * (limit // 2 - 1) + b"\n"
    logs["spaces and dashes at the limit"] = folder / "spaces.log"
    logs["spaces and dashes at the limit"].write_bytes(spaces * (size // len(spaces)))
    return logs


def bench_hostile(work: Path, size: int, runs: int, limit: int) -> list[tuple[str, float, float]]:
    """(case, seconds, ratio to a normal log of the same size) at ``size`` bytes."""
    folder = work / f"hostile-{size}"
    folder.mkdir()
    normal = normal_log(folder / "normal.log", size)
    published = make_registry(normal, folder / "outputs.json")
    baseline = best_time(work, published, normal, runs)
    rows = [("normal log (baseline)", baseline, 1.0)]
    for name, log in hostile_logs(folder, size, limit).items():
        seconds = best_time(work, published, log, runs)
        rows.append((name, seconds, seconds / baseline))
    # A gzip bomb against a normal gzip log of the same compressed size.
    normal_gz = folder / "normal.log.gz"
    normal_gz.write_bytes(gzip.compress(normal.read_bytes(), 6))
    bomb = folder / "bomb.log.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(bomb, "wb") as out:
        block = b"\0" * (1 << 20)
        while out.tell() < normal_gz.stat().st_size:
            out.write(compressor.compress(block))
        out.write(compressor.flush())
    gz_baseline = best_time(work, published, normal_gz, runs)
    rows.append((f"normal gzip log, {normal_gz.stat().st_size >> 10} KiB (baseline)", gz_baseline, 1.0))
    bomb_time = best_time(work, published, bomb, runs, codes=(1,))
    rows.append((f"gzip bomb, {bomb.stat().st_size >> 10} KiB (refused)", bomb_time, bomb_time / gz_baseline))
    shutil.rmtree(folder)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--log", type=Path, help="use (or create) this log instead of a temporary one")
    parser.add_argument("--runs", type=int, default=3, help="best of how many runs (default 3)")
    parser.add_argument("--hostile-mib", type=int, default=32,
                        help="size of the hostile logs, also run at twice that (default 32)")
    parser.add_argument("--hostile-only", action="store_true", help="only the hostile inputs")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-counter-"))
    try:
        limit, ratio = counter_limits()
        print(f"hostile inputs (issue 9): line limit {limit} bytes, gzip limit "
              f"{ratio}x; best of {args.runs}, ratio to the baseline of the same size")
        for size in (args.hostile_mib << 20, args.hostile_mib << 21):
            print(f"{'case, ' + str(size >> 20) + ' MiB':<44} {'seconds':>8} {'ratio':>7}")
            for name, seconds, ratio in bench_hostile(work, size, args.runs, limit):
                print(f"{name:<44} {seconds:>8.2f} {ratio:>7.2f}")
        print()
        if args.hostile_only:
            return 0
        log = args.log or work / "access.log"
        if not log.exists():
            started = time.perf_counter()
            facts = generate(log, args.lines)
            print(f"generated {log}: {facts['lines']} lines, {log.stat().st_size / 2**20:.0f} MiB "
                  f"in {time.perf_counter() - started:.1f}s")
        lines = sum(1 for _ in open(log, "rb"))
        ours_time, ours_peak, visitors, rerun = bench_ours(log, work, args.runs)
        print(f"counter result: {visitors}")
        rows = [("counter (this repo)", ours_time, ours_peak)]
        goaccess = bench_goaccess(log, work, args.runs)
        if goaccess:
            rows.append(("goaccess " + subprocess.run([GOACCESS, "--version"], capture_output=True, text=True)
                         .stdout.split("\n")[0].split(" - ")[-1].strip(" ."), goaccess[0], goaccess[1]))
            general = goaccess[2]
            print(f"goaccess result: {general.get('total_requests')} requests, "
                  f"{general.get('unique_visitors')} unique visitors (its own definitions)")
        print()
        print(f"{lines} lines, best of {args.runs} wall-clock runs (process start included), "
              f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}")
        print(f"{'tool':<24} {'seconds':>8} {'lines/s':>10} {'peak RSS':>9}")
        for name, seconds, peak in rows:
            print(f"{name:<24} {seconds:>8.2f} {lines / seconds:>10,.0f} {peak:>6} MiB")
        if goaccess:
            print(f"ratio ours/goaccess (lines/s): {goaccess[0] / ours_time:.2f}")
        print(f"counter rerun with nothing new (the every-minute case): {rerun:.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
