"""Shared fixtures: build real sites from real Markdown into temporary
folders with the project's own settings, plugins and theme."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
# The article most tests write, by its header; each adds what it needs.
ARTICLE = {"Title": "Đại hội Đảng bộ xã Đồng Tiến", "Date": "2020-03-23 08:15", "Category": "Xây dựng Đảng",
           "Author": "H. Sơn"}


def run_pelican(content, output, settings="pelicanconf.py", cache=None, extra=(), fatal="errors"):
    """Run Pelican as `make html` does, on ``content``, into ``output``.

    Returns the CompletedProcess (stdout and stderr merged into ``.stdout``).
    """
    # Pelican keeps only the last -e: the cache path joins the caller's overrides
    extra = list(extra)
    at = extra.index("-e") + 1 if "-e" in extra else None
    if at is None:
        extra, at = extra + ["-e"], len(extra) + 1
    extra.insert(at, f'CACHE_PATH="{cache or Path(output).parent / "cache"}"')
    command = [
        sys.executable, "-m", "pelican", str(content), "-o", str(output),
        "-s", str(ROOT / settings), "--log-handler", "plain",
    ]
    if fatal:
        command += ["--fatal", fatal]
    command += extra
    env = dict(os.environ, COLUMNS="200", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        command, cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
    )


class Site:
    """A built site: read files and parse pages with BeautifulSoup."""

    def __init__(self, output, log=""):
        self.output = Path(output)
        self.log = log

    def path(self, relative):
        return self.output / relative

    def text(self, relative):
        return self.path(relative).read_text(encoding="utf-8")

    def soup(self, relative):
        return BeautifulSoup(self.text(relative), "html.parser")

    def exists(self, relative):
        return self.path(relative).exists()


def build(content, workdir, **kwargs):
    output = Path(workdir) / "output"
    result = run_pelican(content, output, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"build failed ({result.returncode}):\n{result.stdout}")
    return Site(output, result.stdout)


@pytest.fixture(scope="session")
def sample_cache(tmp_path_factory):
    """One build cache (processed photos) shared by the sample builds."""
    return tmp_path_factory.mktemp("sample-cache")


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory, sample_cache):
    """The sample portal of content/, built once for the session."""
    workdir = tmp_path_factory.mktemp("sample")
    return build(ROOT / "content", workdir, cache=sample_cache)


@pytest.fixture(scope="session")
def published_site(tmp_path_factory, sample_cache):
    """The sample portal as `make publish` builds it (strict, public URLs)."""
    workdir = tmp_path_factory.mktemp("published")
    return build(ROOT / "content", workdir, cache=sample_cache, settings="publishconf.py", fatal="warnings")


def write_settings(path, **overrides):
    """Write a settings file at ``path``: the project's pelicanconf.py (read
    with runpy, as publishconf.py does), then ``overrides``."""
    lines = ["import runpy",
             f"globals().update({{k: v for k, v in runpy.run_path({str(ROOT / 'pelicanconf.py')!r}).items() "
             "if k.isupper()})"]
    lines += [f"{name} = {value!r}" for name, value in overrides.items()]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def write_article(folder, slug, header, body="Nội dung bài viết.\n"):
    """Write ``folder/<slug>/index.md`` from a header dict (ordered)."""
    target = Path(folder) / slug
    target.mkdir(parents=True, exist_ok=True)
    lines = [f"{key}: {value}" for key, value in header.items()]
    (target / "index.md").write_text("\n".join(lines) + "\n\n" + body, encoding="utf-8")
    return target / "index.md"


def new_content(content):
    """An empty content tree with what every site needs (robots.txt, the
    board's emblem and header image)."""
    content = Path(content)
    (content / "pages").mkdir(parents=True)
    (content / "articles").mkdir()
    for folder in ("extra", "images"):
        shutil.copytree(ROOT / "content" / folder, content / folder)
    return content


def project_copy(root):
    """A copy of the project (its own content/ with what every site needs
    and the sample feeds, output/ and cache/) sharing the real .venv; file
    times are kept so make never reinstalls. For tests that run `make`."""
    root = Path(root)
    root.mkdir(parents=True)
    for name in ("Makefile", "pelicanconf.py", "publishconf.py", "pyproject.toml", "requirements.txt",
                 "requirements-test.txt"):
        shutil.copy2(ROOT / name, root / name)
    for name in ("plugins", "portal", "counter", "theme"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    (root / ".venv").symlink_to(ROOT / ".venv")
    content = new_content(root / "content")
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")
    return root


@pytest.fixture
def tiny_content(tmp_path):
    """A minimal content tree for focused builds."""
    return new_content(tmp_path / "content")


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session (tests/browser.py)."""
    from browser import chromium

    with chromium() as instance:
        yield instance


@pytest.fixture(scope="session")
def base_url(sample_site):
    """The sample portal served from 127.0.0.1."""
    from browser import serve

    with serve(sample_site.output) as url:
        yield url
