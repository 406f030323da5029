"""`make check` on a 5,000-article synthetic site, against the time it takes
just to read the same files (the floor any checker pays), in the same run:
cold (every file rendered as the build renders it, for the sanitiser) and
warm (verdicts remembered by content hash).

Then hostile input (issue 9): for each shape of unfinished markup that
made Python-Markdown or our scans quadratic, one 60 KB article, checked
and read by the build's reader, against a normal article of the same size
in the same run. A linear check keeps the ratio small and the same at
every size; such files are refused before rendering.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


from content_check.__main__ import site_settings  # noqa: E402
from content_check.site import check_site  # noqa: E402
from pelican.settings import read_settings  # noqa: E402
from synthetic import ROOT, make_site  # noqa: E402

HEADER = "Title: Bài thử\nDate: 2020-03-23 08:15\nCategory: Xây dựng Đảng\nSummary: Lời dẫn.\n\n"
NORMAL = ("Đại hội Đảng bộ xã Đồng Tiến thí điểm bầu trực tiếp Bí thư, với [kết quả](/tin-moi/) "
          "và **những kinh nghiệm** quý.\n\n")
HOSTILE = {
    "unclosed <a ": "<a ",
    "unclosed <a on new lines": "x <a \n",
    "unclosed quoted attribute": '<a href="',
    "nested [": "[",
    "unclosed ](": "[x](",
    "unclosed <!--": "<!-- ",
    "unclosed <b": "<b",
    "many *emphasis": "*a ",
    "~~~ fences": "~~~\n",
    "indented paragraphs": "    đoạn thụt vào\n\nđoạn\n\n",
    "backtick runs": "`` ` ",
    "many [x](y)": "[a](b) ",
    "abbreviation definitions": "*[AB]: t\n",
    "character references": "&#x41;",
}


def best_of(runs, function):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def one_article_site(folder, body):
    content = Path(folder) / "content"
    shutil.rmtree(content, ignore_errors=True)
    (content / "pages").mkdir(parents=True)
    article = content / "articles" / "xay-dung-dang" / "bai-thu"
    article.mkdir(parents=True)
    (article / "index.md").write_text(HEADER + body, encoding="utf-8")
    return content, article / "index.md"


def hostile_table(folder, size):
    from pelican.readers import Readers

    from portal.markdown_source import SourceError

    rows = []

    def measure(body):
        content, path = one_article_site(folder, body)
        cache = Path(folder) / "cache"
        settings = site_settings(read_settings(str(ROOT / "pelicanconf.py"),
                                               override={"PATH": str(content), "CACHE_PATH": str(cache)}))

        def check():  # cold: the verdict is not remembered from the run before
            shutil.rmtree(cache, ignore_errors=True)
            return check_site(settings)
        check_time, problems = best_of(3, check)

        def read():
            try:
                return Readers(settings).readers["md"].read(str(path))  # vi_locale's, as the build reads
            except SourceError as error:
                return error
        read_time, outcome = best_of(3, read)
        return check_time, read_time, problems, outcome

    normal_body = (NORMAL * (size // len(NORMAL) + 1))[:size]
    normal_check, normal_read, _, _ = measure(normal_body)
    for name, unit in HOSTILE.items():
        body = (unit * (size // len(unit) + 1))[:size]
        check_time, read_time, problems, outcome = measure(body)
        refused = "refused" if isinstance(outcome, Exception) else "rendered"
        rows.append((name, check_time, check_time / normal_check, read_time, read_time / normal_read,
                     refused, len(problems)))
    return normal_check, normal_read, rows


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--hostile-size", type=int, default=60_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        content = make_site(folder, args.count)
        settings = site_settings(read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(content)}))
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            files = sorted(content.rglob("*.md"))
            read_time, _ = best_of(3, lambda: [f.read_text(encoding="utf-8") for f in files])
            cold_time, problems = best_of(1, lambda: check_site(settings))
            warm_time, _ = best_of(3, lambda: check_site(settings))
        finally:
            os.chdir(cwd)
    print(f"## make check, {args.count} synthetic articles\n")
    print("| work | seconds | ratio |")
    print("| --- | --- | --- |")
    print(f"| read every file (baseline) | {read_time:.2f} | 1.0 |")
    print(f"| make check, cold (every file rendered) | {cold_time:.2f} | {cold_time / read_time:.1f}x |")
    print(f"| make check, warm (nothing changed) | {warm_time:.2f} | {warm_time / read_time:.1f}x |")
    print(f"\n{len(problems)} problems found (expected 0)")

    with tempfile.TemporaryDirectory() as folder:
        normal_check, normal_read, rows = hostile_table(folder, args.hostile_size)
    print(f"\n## hostile input, {args.hostile_size // 1000} KB article, against a normal one of the same size\n")
    print(f"normal article: make check {normal_check:.3f} s, build's reader {normal_read:.3f} s\n")
    print("| input | make check s | ratio | reader s | ratio | outcome | problems |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, check_time, check_ratio, read_time, read_ratio, outcome, count in rows:
        print(f"| {name} | {check_time:.3f} | {check_ratio:.1f}x | {read_time:.3f} | {read_ratio:.1f}x "
              f"| {outcome} | {count} |")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
