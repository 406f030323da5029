"""The identity of everything that shapes a page rendered from Markdown.

Pelican's content cache keys on file times only, and ``make check``
remembers the sanitiser's verdict per file: both must be dropped when the
rendering changes. The stamp hashes the versions of the packages that
render (Markdown, nh3, Pygments, Pelican), the source of this library and
of every plugin the site loads (found by name, never imported here), and
the MARKDOWN and FORMATTED_FIELDS settings. Broad on purpose: any change of
our code renews it, which costs one full re-read, never a stale page.
"""

import glob
import hashlib
import importlib.util
import json
import os
from importlib.metadata import version

PACKAGES = ("markdown", "nh3", "pygments", "pelican")


def _source_files(settings):
    folders = [os.path.dirname(os.path.abspath(__file__))]
    for name in settings.get("PLUGINS") or ():
        spec = importlib.util.find_spec(name) if isinstance(name, str) else None
        if spec and spec.submodule_search_locations:
            folders += list(spec.submodule_search_locations)
        elif spec and spec.origin:
            folders.append(spec.origin)
    files = []
    for folder in folders:
        files += [folder] if folder.endswith(".py") else glob.glob(os.path.join(folder, "*.py"))
    return sorted(set(files))


def render_stamp(settings):
    digest = hashlib.sha256()
    for package in PACKAGES:
        digest.update(f"{package}={version(package)};".encode())
    for path in _source_files(settings):
        with open(path, "rb") as handle:
            digest.update(os.path.basename(path).encode() + handle.read())
    markdown = settings.get("MARKDOWN", {})
    names = sorted(e if isinstance(e, str) else type(e).__name__ for e in markdown.get("extensions", []))
    digest.update(json.dumps([names, markdown.get("extension_configs", {}), markdown.get("output_format"),
                              list(settings.get("FORMATTED_FIELDS", []))], sort_keys=True, default=str).encode())
    return digest.hexdigest()
