"""Which request paths are page views: the build's output registry.

Each build writes the list of every file it published, with its kind
(``cache/outputs.json``)::

    {"version": 1, "files": {"tin-tuc-su-kien/abc.html": {"kind": "page", "source": "..."},
                             "anh/ab12-800.webp": {"kind": "photo", "source": "..."}, ...}}

Keys are paths inside the output folder (POSIX separators, NFC). The
counter trusts it rather than the URL layout or the output folder: only a
file the build published as a ``page`` is a page view, only one published
as a ``redirect`` is a click. The site's addresses are then decided in one
place (the build's settings), and made-up addresses, which nginx may still
answer 200 (a ``try_files`` fallback), count nothing: views.json holds at
most one key per published page, whatever anyone requests.

Lookups are exact: nginx serves a file by the bytes of its name, so an NFD
spelling of an NFC name was never this file.
"""

from __future__ import annotations

import json
from pathlib import Path

REGISTRY_VERSION = 1
PAGE, REDIRECT = "page", "redirect"
# What a counted request is: a page view (with its views.json key, or None
# for a folder's index page) or a click on a redirect page (with its key).
VIEW, CLICK = "view", "click"


class RegistryError(Exception):
    """The output registry is missing or cannot be used; the message says which."""


class Registry:
    """The pages and redirect pages of the last build."""

    def __init__(self, pages, redirects=()):
        self.pages = frozenset(pages)
        self.redirects = frozenset(redirects)

    @classmethod
    def load(cls, path) -> "Registry":
        """Read a registry file; RegistryError names the file and the problem."""
        path = Path(path)
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise RegistryError(f"output registry {path} not found") from None
        except (OSError, ValueError, RecursionError) as error:
            raise RegistryError(f"cannot read output registry {path}: {error}") from None
        files = _files_table(data, path)
        registry = cls((name for name, entry in files.items() if entry["kind"] == PAGE),
                       (name for name, entry in files.items() if entry["kind"] == REDIRECT))
        # A build always has a home page: without one, this is no finished
        # build's list, and counting against it would drop every page view.
        if "index.html" not in registry.pages:
            raise RegistryError(f"output registry {path} lists no page index.html: not a built site")
        return registry

    def lookup(self, path: str | None) -> tuple[str, str | None] | None:
        """``(VIEW, key)``, ``(CLICK, key)`` or None for a normalised path.

        ``""`` and ``a/`` name the folder's index.html; ``a`` names the file
        ``a`` if published, else the folder ``a/``.
        """
        if path is None:
            return None
        if path == "" or path.endswith("/"):
            name = path + "index.html"
        elif path in self.pages or path in self.redirects:
            name = path
        else:
            name = path + "/index.html"
        if name in self.pages:
            return VIEW, views_key(name)
        if name in self.redirects:
            return CLICK, name
        return None

    def is_view_key(self, key: str) -> bool:
        """True if ``key`` is a page views.json may show now."""
        return key in self.pages and views_key(key) == key

    def is_click_key(self, key: str) -> bool:
        return key in self.redirects


def views_key(name: str) -> str | None:
    """The key a published page is counted under in views.json: its path,
    for ``.html`` pages other than a folder's index page (home and category
    pages are page views, not keys)."""
    if not name.endswith(".html") or name == "index.html" or name.endswith("/index.html"):
        return None
    return name


def _files_table(data, path: Path) -> dict:
    """The registry's ``files``, its shape checked so a damaged file is
    refused with the entry named instead of counting against half a list."""
    if not isinstance(data, dict) or data.get("version") != REGISTRY_VERSION:
        raise RegistryError(f"output registry {path} is not of version {REGISTRY_VERSION}")
    files = data.get("files")
    if not isinstance(files, dict):
        raise RegistryError(f"output registry {path} is damaged: 'files' is not a table")
    for name, entry in files.items():
        if not name or name.startswith("/") or "\\" in name:
            raise RegistryError(f"output registry {path} is damaged: {name!r} is not a path inside the site")
        if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
            raise RegistryError(f"output registry {path} is damaged: files entry {name!r} has no kind")
    return files
