"""`make bench`: every benchmark, each reporting ratios against a baseline
measured in the same run. Not part of `make test` (timings are not tests)."""

import importlib
import sys


BENCHES = ["bench_photos", "bench_check", "bench_counter", "bench_search", "bench_source_gate",
           "bench_build"]


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or BENCHES
    failed = 0
    for name in names:
        print(f"\n# {name}\n", flush=True)
        module = importlib.import_module(name)
        failed |= bool(module.main([]))
    return failed


if __name__ == "__main__":
    sys.exit(main())
