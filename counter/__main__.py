"""``python3 -m counter``: the command line (cron's and ``make stats``'s)."""

from __future__ import annotations

import argparse
import os
import sys

from .job import DEFAULT_FEEDS_DIR, DEFAULT_PUBLISHED, DEFAULT_STATE, run


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m counter",
        description="Count visitors and page views from access logs (combined format, "
                    "plain or gzip) into visitors.json, views.json, its shards and the no-script fragments.")
    parser.add_argument("logs", nargs="+", metavar="LOGFILE", help="access logs, e.g. /var/log/nginx/access.log*")
    parser.add_argument("--feeds-dir", default=DEFAULT_FEEDS_DIR,
                        help=f"where the feeds go (default {DEFAULT_FEEDS_DIR}; output/feeds in production)")
    parser.add_argument("--state", default=DEFAULT_STATE, help=f"state file (default {DEFAULT_STATE})")
    parser.add_argument("--published", default=DEFAULT_PUBLISHED,
                        help="the build's output registry: only the pages it lists are counted "
                             f"(default {DEFAULT_PUBLISHED}, written by make html and make publish)")
    parser.add_argument("--total-base", type=int, default=None,
                        help="added to the visits counted for 'total' (default: $STATS_TOTAL_BASE, "
                             "else the value saved in the state, else 0)")
    args = parser.parse_args(argv)
    if args.total_base is None and os.environ.get("STATS_TOTAL_BASE", "").strip():
        try:
            args.total_base = int(os.environ["STATS_TOTAL_BASE"])
        except ValueError:
            parser.error(f"STATS_TOTAL_BASE is not a whole number: {os.environ['STATS_TOTAL_BASE']!r}")
    if args.total_base is not None and args.total_base < 0:
        parser.error(f"the total base must not be negative: {args.total_base}")
    return args


def main(argv=None) -> int:
    """Run once; messages and the summary line go to stderr (cron mails them)."""
    args = parse_arguments(argv)
    try:
        summary = run(args.logs, args.feeds_dir, args.state, args.total_base, args.published)
    except OSError as error:  # cannot write the state or the feeds
        print(f"stats: cannot write {error.filename or ''}: {error.strerror or error}; "
              "the next run tries again (nothing is counted twice)", file=sys.stderr)
        return 2
    for message in summary.messages:
        print(message, file=sys.stderr)
    if summary.counted:
        print(summary.line(), file=sys.stderr)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
