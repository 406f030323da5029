"""`make check` on a 5,000-article synthetic site, against the time it takes
just to read the same files (the floor any checker pays), in the same run."""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

from content_check.site import check_site  # noqa: E402
from pelican.settings import read_settings  # noqa: E402
from synthetic import ROOT, make_site  # noqa: E402


def best_of(runs, function):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        content = make_site(folder, args.count)
        settings = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(content)})
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            files = sorted(content.rglob("*.md"))
            read_time, _ = best_of(3, lambda: [f.read_text(encoding="utf-8") for f in files])
            check_time, problems = best_of(3, lambda: check_site(settings))
        finally:
            os.chdir(cwd)
    print(f"## make check, {args.count} synthetic articles\n")
    print("| work | seconds | ratio |")
    print("| --- | --- | --- |")
    print(f"| read every file (baseline) | {read_time:.2f} | 1.0 |")
    print(f"| make check (all rules) | {check_time:.2f} | {check_time / read_time:.1f}x |")
    print(f"\n{len(problems)} problems found (expected 0)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
