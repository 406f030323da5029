"""Benchmark of the photo pipeline: cold (1 and 2 workers) and warm runs.

    python tests/bench/bench_photos.py [--count 200] [--workdir DIR]

Generates ``--count`` photo-like JPEGs (2000x1333, smooth colour fields,
mid-frequency texture and sensor-like noise, so they compress like real
photos rather than flat test cards; deterministic for a given --seed), then
times, in one run:

* cold, workers=1: empty cache, everything processed in this process;
* cold, workers=2: empty cache, a process pool of two;
* warm: a new PhotoCache over the workers=2 cache, nothing changed, which
  is what every rebuild of an unchanged site pays (stat of every source and
  every cached file + manifest);
* publish: publish_files copying every processed file into a fresh folder,
  as each build does into output.staging/, against hard-linking the same
  files (what the pipeline did before copies) as the same-run baseline.

and prints a Markdown table. The warm run is what `make html` costs per
build once the cache is populated; the cold runs bound a first build or a
cache wipe.
"""

import argparse
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

from PIL import Image  # noqa: E402

from portal.photo_cache import PhotoCache, publish_files  # noqa: E402

SIZE = (2000, 1333)


def make_photo(path, seed, size=SIZE):
    """Write one deterministic, photo-like JPEG (with a little EXIF).

    Layers: a bicubic-upscaled 24x16 random field (large colour regions), a
    bilinear-upscaled 1/8-size random field (texture), and full-resolution
    noise (grain). Every 10th photo is stored sideways with Orientation 6, as
    phones do for portrait shots.
    """
    rng = random.Random(seed)
    w, h = size
    base = Image.frombytes("RGB", (24, 16), rng.randbytes(24 * 16 * 3)).resize(size, Image.Resampling.BICUBIC)
    tw, th = w // 8, h // 8
    texture = Image.frombytes("RGB", (tw, th), rng.randbytes(tw * th * 3)).resize(size, Image.Resampling.BILINEAR)
    grain = Image.frombytes("L", size, rng.randbytes(w * h)).convert("RGB")
    im = Image.blend(Image.blend(base, texture, 0.25), grain, 0.06)
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"
    if seed % 10 == 0:
        exif[0x0112] = 6
    im.save(path, "JPEG", quality=88, exif=exif)


def cpu_seconds():
    """CPU time of this process plus its reaped children (the pool workers).

    Unlike wall time it does not depend on what else the machine is doing,
    so it tells a busy machine apart from a slow pipeline.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(cache_dir, sources, workers):
    cache = PhotoCache(cache_dir, Path(sources[0]).parent)
    cpu = cpu_seconds()
    start = time.perf_counter()
    results = cache.process_many(sources, workers=workers)
    seconds = time.perf_counter() - start
    cache.stats["cpu"] = cpu_seconds() - cpu
    errors = [r for r in results.values() if isinstance(r, Exception)]
    if errors:
        raise SystemExit(f"benchmark photo failed: {errors[0]}")
    return seconds, dict(cache.stats), cache


def timed_publish(files_dir, target, link):
    """Seconds to put every file of ``files_dir`` into a new ``target``."""
    shutil.rmtree(target, ignore_errors=True)
    names = sorted(os.listdir(files_dir))
    start = time.perf_counter()
    if link:
        target.mkdir(parents=True)
        for name in names:
            os.link(files_dir / name, target / name)
    else:
        publish_files(names, files_dir, target)
    seconds = time.perf_counter() - start
    shutil.rmtree(target)
    return seconds


def folder_bytes(folder):
    return sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="photos to generate (200)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (0)")
    parser.add_argument("--workdir", help="keep sources and caches here instead of a temp folder")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-photos-") as tmp:
        work = Path(args.workdir) if args.workdir else Path(tmp)
        src = work / "src"
        src.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        sources = []
        for i in range(args.count):
            path = src / f"photo-{i:04d}.jpg"
            if not path.exists():
                make_photo(path, args.seed + i)
            sources.append(str(path))
        generated = time.perf_counter() - start
        source_bytes = folder_bytes(src)

        for stale in ("cache-w1", "cache-w2"):  # --workdir reuse: cold must be cold
            shutil.rmtree(work / stale, ignore_errors=True)
        load_before = " / ".join(f"{v:.2f}" for v in os.getloadavg())
        rows = []
        cold1, stats1, _ = timed(work / "cache-w1", sources, 1)
        rows.append(("cold, workers=1", cold1, stats1))
        cold2, stats2, cache = timed(work / "cache-w2", sources, 2)
        rows.append(("cold, workers=2", cold2, stats2))
        warm, stats3, _ = timed(work / "cache-w2", sources, 2)
        rows.append(("warm (nothing changed)", warm, stats3))
        output_bytes = folder_bytes(cache.files_dir)
        copy = min(timed_publish(cache.files_dir, work / "publish", link=False) for _ in range(3))
        link = min(timed_publish(cache.files_dir, work / "publish", link=True) for _ in range(3))

        n = len(sources)
        load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
        print(f"load average before the runs: {load_before}; after: {load} "
              "(other work on the machine skews the workers=2 figure)")
        print(f"{n} photos {SIZE[0]}x{SIZE[1]} JPEG, {source_bytes / n / 1024:.0f} KiB each "
              f"(generated in {generated:.1f} s); os.cpu_count() = {os.cpu_count()}")
        files = len(os.listdir(cache.files_dir))
        print(f"outputs: {files / n:.0f} files, {output_bytes / n / 1024:.0f} KiB per photo\n")
        print("| run | wall s | photos/s | CPU s | CPU ms/photo | processed | reused |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, seconds, stats in rows:
            print(f"| {label} | {seconds:.2f} | {n / seconds:.1f} | {stats['cpu']:.1f} | "
                  f"{stats['cpu'] * 1000 / n:.0f} | {stats['processed']} | {stats['reused']} |")
        print()
        print(f"warm / cold (workers=2): {warm / cold2:.4f}  ({cold2 / warm:.0f}x faster)")
        print(f"workers=2 / workers=1 (time): {cold2 / cold1:.2f}  (speed-up {cold1 / cold2:.2f}x)")
        print(f"publish {files} files ({output_bytes / 1024 / 1024:.0f} MiB), best of 3: copy {copy:.3f} s, "
              f"hard links {link:.3f} s (baseline); copy = {copy / cold2:.4f} of a cold build, "
              f"{copy / max(warm, 1e-9):.1f}x the warm pipeline")
        return 0  # an exit status: `make bench` (tests/bench/run.py) fails on anything else


if __name__ == "__main__":
    main()
