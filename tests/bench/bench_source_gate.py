"""The content gate (plugins/source_gate) listing a 5,000-article synthetic
site, against Pelican's own ``Generator.get_files`` on the same tree in the
same run (the walk the gate replaces). Run: `make bench BENCH=bench_source_gate`."""

import argparse
import sys
import tempfile
import time
from types import SimpleNamespace


from pelican.generators import Generator  # noqa: E402
from pelican.settings import read_settings  # noqa: E402
from source_gate import gated_get_files  # noqa: E402
from synthetic import ROOT, make_site  # noqa: E402


class Lister:
    """Just what listing files needs of a Pelican generator."""

    _include_path = Generator._include_path
    get_files = Generator.get_files

    def __init__(self, content, settings):
        self.path, self.settings, self.context = str(content), settings, {}
        self.readers = SimpleNamespace(extensions=["md", "markdown", "mkd", "mdown"])


def best_of(runs, work):
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        content = make_site(folder, args.count)
        settings = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(content)})
        paths, exclude = settings["ARTICLE_PATHS"], settings["ARTICLE_EXCLUDES"]
        pelican_time, listed = best_of(3, lambda: Lister(content, settings).get_files(paths, exclude))
        gate_time, gated = best_of(3, lambda: gated_get_files(Lister(content, settings), paths, exclude))
    print(f"## content gate, {args.count} synthetic articles\n")
    print("| work | seconds | ratio |")
    print("| --- | --- | --- |")
    print(f"| Pelican's get_files (baseline) | {pelican_time:.3f} | 1.0 |")
    print(f"| source_gate (every path resolved, checked) | {gate_time:.3f} | {gate_time / pelican_time:.1f}x |")
    print(f"\nsame files listed: {gated == listed} ({len(gated)})")
    return gated != listed


if __name__ == "__main__":
    sys.exit(main())
