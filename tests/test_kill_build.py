"""A build killed at any moment never breaks the next one (issue 9).

`make html` is killed (SIGKILL, its whole process group, as an OOM killer
or a power cut would) at 10 moments spread over one build's duration and 4
times while Pelican writes its content cache, from a cold cache and from a
warm one; each time the next `make html` must
succeed and produce, file by file, the bytes of a clean build (Pagefind's
own files excepted, README "Search"). A small content tree keeps this
quick while exercising every writer: Pelican's content cache, the photo
cache, the widget cache, the staging folder and the swap.
"""

import functools
import os
import random
import shutil
import signal
import subprocess
import time

import pytest
from conftest import write_article
from PIL import Image
from test_build_safety import make, make_project, pages_of

KILLS = 10


def add_articles(content, count=4):
    for number in range(count):
        article = write_article(content / "articles" / "van-hoa-xa-hoi", f"bai-{number}", {
            "Title": f"Ngày hội văn hóa các dân tộc lần thứ {number + 1}",
            "Date": f"2020-0{number + 1}-15 09:00",
            "Category": "Văn hóa - Xã hội",
            "Author": "Thu Hà",
            "Summary": "Ngày hội thu hút đông đảo đồng bào tham gia.",
            "Image": "anh.jpg",
            "ImageCaption": "Tiết mục văn nghệ",
        }, "## Hoạt động\n\nNhiều hoạt động văn hóa, thể thao diễn ra sôi nổi.\n")
        Image.new("RGB", (1600, 1000), (20 * number, 90, 160)).save(article.parent / "anh.jpg")


def add_long_draft(content):
    """A long draft (about 1.3 MB, rendered but never indexed) makes
    Pelican's content cache big enough that writing it takes a few tenths
    of a second, a window the kills below can hit."""
    words = ["đại", "hội", "đảng", "bộ", "xã", "đồng", "tiến", "kết", "quả", "kinh", "nghiệm"]
    pick = random.Random(9).choice  # varied text: gzip has real work to do
    paragraphs = (" ".join(pick(words) for _ in range(80)) for _ in range(2500))
    write_article(content / "articles" / "van-hoa-xa-hoi", "ban-thao-dai", {
        "Title": "Bản thảo tư liệu lịch sử Đảng bộ",
        "Date": "2020-06-01 08:00",
        "Category": "Văn hóa - Xã hội",
        "Status": "draft",
    }, "\n\n".join(paragraphs) + "\n")


def start(project):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen(["make", "-s", "-o", ".venv/.site-requirements", "html"], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def kill_once(project, happened, extra):
    """Start `make html`, wait until ``happened()``, then ``extra`` seconds,
    and kill its whole process group."""
    process = start(project)
    while process.poll() is None and not happened():
        time.sleep(0.0005)
    time.sleep(extra)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # already finished
    process.wait()


def kill_after(project, delay):
    kill_once(project, lambda: True, delay)


def cache_state(project):
    folder = project / "cache/pelican"
    try:
        return {(e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in os.scandir(folder) if "Readers" in e.name}
    except OSError:
        return set()


def kill_while_writing_cache(project, extra):
    """Kill ``extra`` seconds after Pelican starts writing its content cache:
    the moment anything named *Readers* in the cache folder appears or
    changes (Pelican's own file, or a temporary one beside it)."""
    before = cache_state(project)
    kill_once(project, lambda: cache_state(project) != before, extra)


def forget_cache(project, cold):
    """Cold: no cache at all. Warm: the cache stays, but every article is
    read (and its cache entry written) again."""
    if cold:
        shutil.rmtree(project / "cache", ignore_errors=True)
    else:
        for index in (project / "content/articles").rglob("index.md"):
            index.touch()


@pytest.fixture
def project(tmp_path):
    root = make_project(tmp_path / "portal")
    add_articles(root / "content")
    add_long_draft(root / "content")
    return root


def test_a_killed_build_never_breaks_the_next(project):
    clean = make(project, "html")
    assert clean.returncode == 0, clean.stdout
    expected = pages_of(project / "output")

    forget_cache(project, cold=True)
    began = time.time()
    timed = make(project, "html")
    duration = time.time() - began
    assert timed.returncode == 0 and pages_of(project / "output") == expected
    # Spread over a build, then right as the content cache is being written
    # (found by watching it: timing alone misses on a loaded machine).
    kills = [(f"after {duration * (n + 1) / KILLS:.2f}s of {duration:.2f}s",
              functools.partial(kill_after, project, duration * (n + 1) / KILLS)) for n in range(KILLS)]
    kills += [(f"{extra}s into writing the content cache",
               functools.partial(kill_while_writing_cache, project, extra)) for extra in (0, 0.005, 0.05, 0.2)]

    failures = []
    for number, (when, kill) in enumerate(kills):
        cold = number % 2 == 0
        forget_cache(project, cold)
        kill()
        result = make(project, "html")
        moment = f"killed {when} ({'cold' if cold else 'warm'} cache)"
        if result.returncode != 0 or "Traceback" in result.stdout:
            failures.append(f"{moment}: next build failed:\n{result.stdout}")
        elif pages_of(project / "output") != expected:
            produced = pages_of(project / "output")
            differing = sorted(name for name in produced.keys() | expected.keys()
                               if produced.get(name) != expected.get(name))
            failures.append(f"{moment}: output differs from a clean build: {differing}")
    assert not failures, "\n".join(failures)


# --- incremental builds ---------------------------------------------------------------


def files_of(folder):
    """``{relative path: bytes}`` of every published file, Pagefind's aside."""
    folder = folder.resolve()
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not str(p.relative_to(folder)).startswith("pagefind/")}


def edit(project, number, text):
    path = project / "content/articles/van-hoa-xa-hoi" / f"bai-{number}" / "index.md"
    path.write_text(path.read_text(encoding="utf-8") + f"\n{text}\n", encoding="utf-8")


def test_a_killed_incremental_build_leaves_the_site_whole_and_the_next_completes_it(project):
    """One article edited, the build killed while it renders, indexes or
    switches the site: readers are served every file of the site before,
    each whole (the old bytes, or those of the finished build: the edited
    article goes live first by design); the next build gives exactly what
    a clean build gives."""
    assert make(project, "html").returncode == 0
    before = files_of(project / "output")
    began = time.time()
    edit(project, 0, "Đoạn đo thời gian.")
    assert make(project, "html").returncode == 0
    duration = time.time() - began
    unsure = project / "cache/outputs.json.unsure"
    kills = [(f"after {duration * n / 4:.2f}s of {duration:.2f}s", functools.partial(kill_after, project, duration * n / 4))
             for n in range(1, 4)]
    kills += [(f"{extra}s after the published tree began to change", functools.partial(kill_once, project, unsure.exists, extra))
              for extra in (0, 0.002, 0.03)]
    failures = []
    for number, (when, kill) in enumerate(kills):
        before = files_of(project / "output")
        edit(project, number % 4, f"Đoạn sửa lần {number}.")
        kill()
        served = files_of(project / "output")
        # the finished build of the same content, for comparison
        result = make(project, "html")
        finished = files_of(project / "output")
        if result.returncode != 0 or "Traceback" in result.stdout:
            failures.append(f"killed {when}: next build failed:\n{result.stdout}")
            continue
        missing = sorted(set(before) - set(served))
        broken = sorted(p for p in served if served[p] not in (before.get(p), finished.get(p)))
        if missing or broken:
            failures.append(f"killed {when}: served site not whole: missing {missing[:5]}, neither old nor new {broken[:5]}")
        clean_root = project.parent / f"clean-{number}"
        shutil.rmtree(clean_root, ignore_errors=True)
        shutil.copytree(project, clean_root, symlinks=True,
                        ignore=shutil.ignore_patterns("output*", "cache"))
        assert make(clean_root, "html").returncode == 0
        if files_of(clean_root / "output") != finished:
            clean = files_of(clean_root / "output")
            differing = sorted(n for n in clean.keys() | finished.keys() if clean.get(n) != finished.get(n))
            failures.append(f"killed {when}: the next build differs from a clean build: {differing[:8]}")
        shutil.rmtree(clean_root, ignore_errors=True)
    assert not failures, "\n".join(failures)
