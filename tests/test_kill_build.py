"""A build killed at any moment never breaks the next one (issue 9).

`make html` is killed (SIGKILL, its whole process group, as an OOM killer
or a power cut would) at moments spread over one build's duration, from a
cold cache and from a warm one; each time the next `make html` must
succeed and produce, file by file, the bytes of a clean build (Pagefind's
own files excepted, README "Search"). A small content tree keeps this
quick while exercising every writer: Pelican's content cache, the photo
cache, the widget cache, the staging folder and the swap.
"""

import os
import shutil
import signal
import subprocess
import time

import pytest
from conftest import write_article
from PIL import Image
from test_build_safety import make, make_project, pages_of

KILLS = 12


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


def start(project):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen(["make", "-s", "-o", ".venv/.site-requirements", "html"], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def kill_after(project, delay):
    process = start(project)
    time.sleep(delay)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # already finished
    process.wait()


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
    return root


def test_a_killed_build_never_breaks_the_next(project):
    clean = make(project, "html")
    assert clean.returncode == 0, clean.stdout
    expected = pages_of(project / "output")

    forget_cache(project, cold=True)
    began = time.monotonic()
    timed = make(project, "html")
    duration = time.monotonic() - began
    assert timed.returncode == 0 and pages_of(project / "output") == expected

    failures = []
    for number in range(KILLS):
        delay = duration * (number + 1) / KILLS
        cold = number % 2 == 0
        forget_cache(project, cold)
        kill_after(project, delay)
        result = make(project, "html")
        moment = f"killed after {delay:.2f}s of {duration:.2f}s ({'cold' if cold else 'warm'} cache)"
        if result.returncode != 0 or "Traceback" in result.stdout:
            failures.append(f"{moment}: next build failed:\n{result.stdout}")
        elif pages_of(project / "output") != expected:
            produced = pages_of(project / "output")
            differing = sorted(name for name in produced.keys() | expected.keys()
                               if produced.get(name) != expected.get(name))
            failures.append(f"{moment}: output differs from a clean build: {differing}")
    assert not failures, "\n".join(failures)
