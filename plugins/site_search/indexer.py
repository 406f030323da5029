"""Build one shard's Pagefind index, and keep it in the build cache.

Pagefind has no incremental mode, so each shard is indexed whole, alone:
the CLI from the pinned ``pagefind[bin]`` wheel (no network) runs on a
folder holding only that shard's pages, at their own paths, so every
result keeps the address it has on the site. (The wheel's Python API,
``PagefindIndex.add_html_file``, would spare the folder, but its client
reads one answer per 0.1 s: 5 s for 50 pages.)

Each page is given to Pagefind as what it indexes of it and nothing else
(:func:`indexed_part`): the ``<html>`` tag (its language), the
``data-pagefind-*`` meta tags, and the ``data-pagefind-body`` element. That
part is also what a shard's manifest hashes, so the "Các tin khác" list,
the sidebar or the menu of a page, which change when another article is
added, never rebuild a shard, and the index is a function of the hashes
alone.

Cache layout, under ``CACHE_PATH/search/``::

    <shard>/manifest.json   what the index was built from, and its files
    <shard>/bundle/...      the index, as published under pagefind/<shard>/

A shard is built in ``.<shard>.work/`` and swapped in with two renames once
Pagefind succeeded and the manifest is written, so a killed or failed
build leaves the shard's previous index (or none) and never half of one; a
shard without a manifest is rebuilt.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from .shards import is_current, manifest_bytes

MANIFEST = "manifest.json"
BUNDLE = "bundle"
LANGUAGE = "vi"
# What the search page loads of a bundle: Pagefind's module and
# WebAssembly, its entry file and page list, index, filter and fragment
# chunks. Its UIs, worker and playground are left out (search.js is ours).
_KEPT_TOP = ("pagefind.js", "pagefind-entry.json")
_KEPT_FOLDERS = ("index", "filter", "fragment")


class SearchIndexError(RuntimeError):
    """Pagefind could not build an index, or built a wrong one."""


_BODY = re.compile(rb"<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*\sdata-pagefind-body\b[^>]*>")
_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_META = re.compile(rb"<meta\b[^>]*\sdata-pagefind-(?:meta|filter|sort)\b[^>]*>", re.IGNORECASE)
_HTML = re.compile(rb"<html\b[^>]*>", re.IGNORECASE)


def _element_end(data, start, name):
    """The end of the element whose start tag, named ``name``, is at
    ``start``: the closing tag that brings its nesting back to zero.
    Pelican's output (sanitised by content_check) is well-formed; None if
    it is not closed."""
    depth = 0
    for tag in _TAG.finditer(data, start):
        if tag.group(2).lower() != name or tag.group(0).endswith(b"/>"):
            continue
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return None


def indexed_part(data):
    """What Pagefind indexes of the page ``data`` (bytes), as a page of its
    own; None when the page has no ``data-pagefind-body``. Raises
    SearchIndexError when that element is not closed."""
    body = _BODY.search(data)
    if body is None:
        return None
    end = _element_end(data, body.start(), body.group(1).lower())
    if end is None:
        raise SearchIndexError("the data-pagefind-body element is not closed")
    html = _HTML.search(data)
    metas = [m.group(0) for m in _META.finditer(data) if m.start() < body.start() or m.start() >= end]
    return b"".join([b"<!DOCTYPE html>", html.group(0) if html else b"<html>", b'<head><meta charset="utf-8">',
                     *metas, b"</head><body>", data[body.start():end], b"</body></html>"])


def pagefind_version():
    return metadata.version("pagefind_bin")


def code_digest():
    """The digest of this plugin's code: a change in how pages are split or
    indexed rebuilds every shard."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def page_hash(data):
    return hashlib.sha256(data).hexdigest()


def pagefind_command(site, output, exclude_selectors, language=LANGUAGE):
    """The Pagefind command line that indexes the pages of ``site`` into
    the folder ``output``."""
    command = [
        sys.executable, "-m", "pagefind",
        "--site", str(site),
        "--output-path", str(output),
        "--force-language", language,
        "--quiet",
    ]
    for selector in exclude_selectors:
        command += ["--exclude-selectors", selector]
    return command


def kept(relative):
    """Whether a file of Pagefind's bundle is published."""
    top, _, rest = relative.partition("/")
    if rest:
        return top in _KEPT_FOLDERS
    return top in _KEPT_TOP or top.endswith(".pf_meta") or (top.startswith("wasm.") and top.endswith(".pagefind"))


def bundle_files(bundle):
    """The files of ``bundle`` (relative, '/'-separated), sorted."""
    bundle = Path(bundle)
    return sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())


def _run(command, timeout):
    try:
        return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, env=dict(os.environ, NO_COLOR="1"))
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SearchIndexError(f"could not run Pagefind: {error}") from error


def _page_count(bundle):
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        return sum(language["page_count"] for language in entry["languages"].values())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_pagefind(site, paths, bundle, exclude_selectors, timeout=1800):
    """Index the pages ``paths`` (relative to the built ``site``) into the
    new folder ``bundle``; returns the kept files. Raises SearchIndexError
    with Pagefind's own output on failure."""
    site, bundle = Path(site), Path(bundle)
    pages = bundle.parent / "site"
    for path in paths:
        part = indexed_part((site / path).read_bytes())
        if part is None:
            raise SearchIndexError(f"{path}: no data-pagefind-body (changed since it was read?)")
        (pages / path).parent.mkdir(parents=True, exist_ok=True)
        (pages / path).write_bytes(part)
    try:
        result = _run(pagefind_command(pages, bundle, exclude_selectors), timeout)
    finally:
        shutil.rmtree(pages, ignore_errors=True)
    count = _page_count(bundle)
    if result.returncode != 0 or count is None:
        output = result.stdout.strip() or "(no output)"
        raise SearchIndexError(f"Pagefind failed (exit {result.returncode}):\n{output}")
    if count != len(paths):
        raise SearchIndexError(f"Pagefind indexed {count} of {len(paths)} pages (each needs data-pagefind-body)")
    for relative in bundle_files(bundle):
        if not kept(relative):
            os.unlink(bundle / relative)
    return bundle_files(bundle)


class ShardCache:
    """The cached shards under ``root`` (``CACHE_PATH/search``)."""

    def __init__(self, root):
        self.root = Path(root)

    def folder(self, name):
        return self.root / name

    def bundle(self, name):
        return self.folder(name) / BUNDLE

    def manifest(self, name):
        try:
            return (self.folder(name) / MANIFEST).read_bytes()
        except OSError:
            return None

    def is_current(self, name, inputs):
        bundle = self.bundle(name)
        return is_current(self.manifest(name), inputs, lambda f: (bundle / f).is_file())

    def files(self, name):
        from .shards import read_manifest

        return read_manifest(self.manifest(name))[1]

    def build(self, name, site, paths, inputs, exclude_selectors):
        """Index shard ``name`` and put it in the cache; returns seconds."""
        start = time.perf_counter()
        work = self.root / f".{name}.work"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            files = run_pagefind(site, paths, work / BUNDLE, exclude_selectors)
            (work / MANIFEST).write_bytes(manifest_bytes(inputs, files))
            self._swap_in(name, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return time.perf_counter() - start

    def _swap_in(self, name, work):
        target, old = self.folder(name), self.root / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.rename(target, old)
        os.rename(work, target)
        shutil.rmtree(old, ignore_errors=True)

    def tidy(self, names):
        """Drop leftovers of killed builds and shards that no longer exist."""
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            if entry.name not in names:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
