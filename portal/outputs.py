"""The registry of every file a build publishes, and from what.

Pelican's Writer writes the pages and Atom feeds; our plugins publish photos,
attachments, live feeds, banner click pages and the search index. Each of
them records what it wrote here (the Writer's files are recorded from its
``content_written``/``feed_written`` signals), so after a build the project
knows exactly which files are in ``output/``, of what kind, made from which
source. The build refuses to publish a tree holding a file nobody recorded,
and writes the registry (``OUTPUT_REGISTRY``) beside the site: the counter
reads from it which addresses are pages, and incremental builds can tell
what no longer exists.

Kinds: ``page`` (a page readers read: articles, pages, lists, the home
page), ``redirect`` (a banner's click page, an article's old address),
``error`` (404), ``feed`` (Atom, live JSON feeds), ``photo``,
``attachment``, ``static`` (images of content/), ``theme`` (CSS, JS,
fonts), ``search`` (Pagefind's index), ``file`` (robots.txt, sitemap.xml).
"""

import json
import os
import shutil

from .atomic import write_atomic
from .vietnamese import nfc

VERSION = 1
KINDS = frozenset({"page", "redirect", "error", "feed", "photo", "attachment", "static", "theme", "search", "file"})


class OutputRegistry:
    """What one run wrote under ``root`` (the folder Pelican writes into)."""

    def __init__(self, root, published=None):
        self.root = os.path.abspath(root)
        # the tree readers are served now, whose unchanged files this run
        # hard-links instead of writing again (None: write everything)
        self.published = os.path.abspath(published) if published else None
        if self.published == self.root:
            self.published = None
        self.files = {}
        self.keys = {}
        # the earliest moment this build's output may change by the clock
        # alone (a banner's schedule); None: never
        self.valid_until = None
        # portal.build_inputs: what the run read (taken before it read it),
        # and the identity saved with the registry, when it may be trusted
        self.sources = None
        self.identity = None
        # files of content/ this run leaves with new bytes (the address
        # ledger): path -> digest of those bytes
        self.written_sources = {}

    def key(self, path):
        """``path`` (absolute, or relative to ``root``) as a registry key:
        relative to ``root``, ``/``-separated, NFC. Raises ValueError for a
        path outside ``root``."""
        path = os.fspath(path)
        # the common cases, thousands of times a build: a plain relative
        # path, or an absolute one below root, with no "." or ".." parts
        relative = path[len(self.root) + 1:] if path.startswith(self.root + os.sep) else path
        if relative and not os.path.isabs(relative) and all(
                part not in ("", ".", "..") for part in relative.split(os.sep)):
            return nfc(relative if os.sep == "/" else relative.replace(os.sep, "/"))
        full = os.path.normpath(os.path.join(self.root, path))
        relative = os.path.relpath(full, self.root)
        if relative == "." or relative.startswith(".." + os.sep) or relative == "..":
            raise ValueError(f"{path} is not inside the output folder {self.root}")
        return nfc(relative.replace(os.sep, "/"))

    def record(self, path, kind, source=None):
        """Note that ``path`` was published, of ``kind``, made from
        ``source`` (a file or folder of the project; None when nothing on
        disk: a page made from the settings alone)."""
        if kind not in KINDS:
            raise ValueError(f"unknown output kind {kind!r}")
        if source is not None:
            source = os.path.relpath(os.path.abspath(source)).replace(os.sep, "/")
        self.files[self.key(path)] = {"kind": kind, "source": source}

    def expires(self, moment):
        """The output depends on the clock: a build at ``moment`` or later
        may publish something else (an aware datetime)."""
        if self.valid_until is None or moment < self.valid_until:
            self.valid_until = moment

    def leaves_source(self, path, data):
        """This run, once it succeeds, leaves ``data`` in ``path`` (a file
        of content/ it writes itself): the next run reads those bytes."""
        from .build_inputs import digest_bytes

        self.written_sources[os.path.abspath(path)] = digest_bytes(data)

    def set_key(self, path, key):
        """The render key of the page at ``path`` (portal.page_keys): the
        next build renders it again only if its key changed."""
        self.keys[self.key(path)] = key

    def write(self, path, data, kind, source=None):
        """Write ``data`` (bytes or str) to ``path`` and record it; a file
        published with these very bytes is linked instead."""
        key = self.key(path)
        full = os.path.join(self.root, key)
        data = data.encode("utf-8") if isinstance(data, str) else data
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if not self.link_published(key, full, lambda old: same_bytes(old, data)):
            write_atomic(full, data, durable=False)
        self.record(full, kind, source)
        return full

    def copy(self, path, source, kind, recorded_source=None):
        """Copy the file ``source`` to ``path`` and record it (as made from
        ``recorded_source``, default ``source``)."""
        key = self.key(path)
        full = os.path.join(self.root, key)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if not self.reuse(full, source):
            shutil.copyfile(source, full)
        self.record(full, kind, recorded_source or source)
        return full

    def reuse(self, full, source):
        """Link the published copy of ``source`` at ``full`` if there is
        one: same size, and copied after ``source`` last changed (a copy
        gets the time it was made). True if linked."""
        try:
            wanted = os.stat(source)
        except OSError:
            return False

        def current(old):
            found = os.stat(old)
            return found.st_size == wanted.st_size and found.st_mtime_ns >= wanted.st_mtime_ns

        return self.link_published(self.key(full), full, current)

    def link_published(self, key, full, still_good=lambda old: True):
        """Hard-link the published file ``key`` at ``full`` when
        ``still_good(published path)``; never writes into either file."""
        if self.published is None:
            return False
        old = os.path.join(self.published, key)
        try:
            if os.path.islink(old) or not os.path.isfile(old) or not still_good(old):
                return False
            if os.path.lexists(full):
                os.unlink(full)
            os.link(old, full)
        except OSError:
            return False
        return True

    def record_folder(self, folder, kind, source=None):
        """Record every file below ``folder`` (a tool's own output, such as
        Pagefind's index, which we do not write file by file)."""
        for path in files_below(os.path.join(self.root, folder)):
            self.record(path, kind, source)

    def on_disk(self):
        return {self.key(path) for path in files_below(self.root)}

    def unrecorded(self):
        """Files under ``root`` that nothing recorded, sorted."""
        return sorted(self.on_disk() - set(self.files))

    def missing(self):
        """Recorded files that are not (or no longer) under ``root``."""
        return sorted(set(self.files) - self.on_disk())

    def pages(self):
        return sorted(key for key, entry in self.files.items() if entry["kind"] == "page")

    def to_bytes(self):
        files = {path: dict(entry, key=self.keys[path]) if path in self.keys else entry
                 for path, entry in sorted(self.files.items())}
        document = {"version": VERSION, "files": files}
        if self.identity:
            document["build"] = self.identity
        return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def same_bytes(path, data):
    """Whether the file at ``path`` holds exactly ``data``."""
    try:
        if os.path.getsize(path) != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def files_below(folder):
    """Every file (and symlink) below ``folder``, as absolute paths."""
    found = []
    for top, dirs, names in os.walk(folder):
        found += [os.path.join(top, name) for name in names]
        found += [os.path.join(top, name) for name in dirs if os.path.islink(os.path.join(top, name))]
    return found


def registry_file(settings, published_output):
    """Where the registry of the site published at ``published_output`` is
    kept: ``OUTPUT_REGISTRY``, relative to the folder holding output/."""
    return os.path.join(os.path.dirname(os.path.abspath(published_output)), settings["OUTPUT_REGISTRY"])


def _unsure_mark(path):
    return os.fspath(path) + ".unsure"


def mark_unsure(path):
    """The published tree is about to change before its registry at
    ``path`` is saved: until :func:`save` runs, the keys of ``path`` may
    describe another tree, and :func:`load_keys` will not trust them."""
    mark = _unsure_mark(path)
    if not os.path.lexists(mark):
        os.makedirs(os.path.dirname(os.path.abspath(mark)), exist_ok=True)
        write_atomic(mark, b"")


def is_unsure(path):
    """Whether the published tree changed and the registry at ``path``
    was not saved since (see :func:`mark_unsure`)."""
    return os.path.lexists(_unsure_mark(path))


def save(registry, path):
    """Write the registry to ``path`` atomically (the counter reads it from
    cron), then clear the unsure mark: from now on it describes output/."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomic(path, registry.to_bytes())
    clear_unsure(path)


def clear_unsure(path):
    """The published tree is again the one the registry at ``path`` describes."""
    try:
        os.unlink(_unsure_mark(path))
    except FileNotFoundError:
        pass


def load_keys(path):
    """``{file: render key}`` of the published site, or ``{}`` (render
    everything) when there is no registry, it cannot be read, or a build
    was stopped while the published tree and its registry disagreed."""
    if is_unsure(path):
        return {}
    try:
        files = load(path)
    except (OSError, ValueError):
        return {}
    return {name: entry["key"] for name, entry in files.items()
            if isinstance(entry, dict) and isinstance(entry.get("key"), str)}


def load_identity(path):
    """The identity of the build that published the registry at ``path``
    (see portal.build_inputs), or None when it cannot be trusted."""
    if is_unsure(path):
        return None
    try:
        return _document(path).get("build")
    except (OSError, ValueError):
        return None


def load(path):
    """``{relative path: {"kind", "source"}}`` from a saved registry.
    Raises ValueError naming what is wrong."""
    return _document(path)["files"]


def _document(path):
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if not isinstance(document, dict) or document.get("version") != VERSION or not isinstance(
            document.get("files"), dict):
        raise ValueError(f"{path}: not an output registry of version {VERSION}")
    return document


_current = {}


def begin(root, published=None):
    """A new, empty registry for the run that writes into ``root``;
    ``published`` is the tree readers are served, to link unchanged files
    from."""
    _current[os.path.abspath(root)] = registry = OutputRegistry(root, published)
    return registry


def registry_for(root):
    """The registry of the run writing into ``root`` (begun if none was:
    a plugin run without the one that publishes still records)."""
    return _current.get(os.path.abspath(root)) or begin(root)


def registry_of(path):
    """The current registry whose folder holds ``path``, or None (Pelican's
    Writer signals give a path only)."""
    full = os.path.abspath(path)
    for root, registry in _current.items():
        if full.startswith(root.rstrip(os.sep) + os.sep):
            return registry
    return None
