"""Incremental builds: render a page only when what it is made from changed.

Pelican renders and writes every page on every build. Here its Writer is
replaced (``get_writer``) by one that computes each page's key before
rendering it (:mod:`portal.page_keys`: the templates it uses, every value
they read, and a stamp of the settings, our code and the pinned packages).
When the key equals the one recorded for that file in the output registry
of the published site (``OUTPUT_REGISTRY``, saved by atomic_output when it
publishes), the page is not rendered: the published file is hard-linked
into the new tree instead. A page that is rendered but comes out byte for
byte as published is linked too, so its file (and the ETag and
Last-Modified a web server derives from it) does not change.

What no longer exists is simply not in the new tree: every build writes
into a fresh staging folder, so a deleted article leaves no page, and the
listings, feeds and sitemap that showed it have changed keys.

Two rules keep this exact rather than hopeful:

* nothing is ever written into a file in place: the staging tree holds
  links to the published files, so a write goes to a new file (the
  published copy stays as it is);
* the registry's keys are trusted only when the registry describes the
  tree readers are served: atomic_output marks the registry unsure before
  it changes the published tree and clears the mark once it has saved
  the new registry (see ``portal.outputs.load_keys``). A build killed in
  between renders everything next time.

Articles whose page changed are also put live at once (``ARTICLES_FIRST``):
a reader can open an edited or new article before the listings that show
it are rendered; the rest of the site follows when the build completes.
"""

import atexit
import logging
import os
import pickle
import shutil
import traceback

from pelican import signals
from pelican.writers import Writer

from portal import outputs, progress
from portal.page_keys import Fingerprints, TemplateClosures, digest, page_key
from portal.render_stamp import render_stamp
from portal.settings import fill_pelican_defaults

logger = logging.getLogger(__name__)

# Settings that name where this run writes, not what it writes.
_RUN_SETTINGS = frozenset({"OUTPUT_PATH", "WRITE_SELECTED"})


def settings_stamp(settings, fingerprints):
    """The stamp of one build: our code and packages (render_stamp) and
    every setting but where the output goes."""
    shown = {k: v for k, v in settings.items() if k.isupper() and k not in _RUN_SETTINGS}
    return digest(render_stamp(settings), fingerprints.of(shown))


class _Unchanged(str):
    """What a kept page "renders" to: nothing; the writer links instead."""


class _Deferred(str):
    """A page to render once every page's key is known (:func:`render_pages`)."""

    def __new__(cls, template, localcontext):
        deferred = super().__new__(cls, "")
        deferred.template, deferred.localcontext = template, localcontext
        return deferred


class IncrementalWriter(Writer):
    """Pelican's Writer, rendering only pages whose key changed.

    Class attributes are set per run by :func:`writer_class`.
    """

    published = None  # the folder readers are served from
    previous = {}  # registry key -> page key, of the published tree
    registry_file = None  # where that registry is saved
    articles = frozenset()  # registry keys of article pages, put live first

    def __init__(self, output_path, settings=None):
        super().__init__(output_path, settings=settings)
        self.registry = outputs.registry_for(output_path)
        self.fingerprints = Fingerprints()
        self.stamp = None
        self._closures = {}
        self._keep = set()
        self._keys = {}
        self.jobs = {}  # filename -> (registry key, template, context), in Pelican's order
        _writers[:] = [self]

    # Pelican calls write_file for every page; the template is wrapped so
    # the key is known before anything is rendered.
    def write_file(self, name, template, context, *args, **kwargs):
        if self.stamp is None:
            self._start(context)
        return super().write_file(name, _KeyedTemplate(template, self), context, *args, **kwargs)

    def _start(self, context):
        self.stamp = settings_stamp(self.settings, self.fingerprints)
        self.fingerprints._links = lambda: digest(*sorted(
            f"{path}={getattr(item, 'url', '')}"
            for mapping in ("generated_content", "static_content")
            for path, item in (context.get(mapping) or {}).items()))

    def closures(self, template):
        environment = template.environment
        if id(environment) not in self._closures:
            self._closures[id(environment)] = (TemplateClosures(environment), environment)
        return self._closures[id(environment)][0]

    def decide(self, template, localcontext):
        """Whether the page for ``localcontext`` must be rendered."""
        name = self.registry.key(localcontext["output_file"])
        key = page_key(self.stamp, template.name, self.closures(template), self.fingerprints, localcontext)
        self._keys[name] = key
        if self.previous.get(name) == key and self._published_file(name):
            self._keep.add(name)
            return False
        self._keep.discard(name)
        return True

    def _published_file(self, name):
        path = os.path.join(self.published, name)
        return os.path.isfile(path) and not os.path.islink(path)


    def _open_w(self, filename, encoding, override=False):
        name = self.registry.key(filename)
        if name in self._keep:
            self._written_files.add(filename)
            return _Output(self, filename, name)
        handle = super()._open_w(filename, encoding, override=override)
        if handle.name == os.devnull:
            return handle
        handle.close()
        return _Output(self, filename, name)

    def defer(self, filename, name, deferred):
        """Queue a page to render; a later write of the same file replaces
        it (Pelican's override), as the later render would have."""
        self.jobs.pop(filename, None)
        self.jobs[filename] = (name, deferred.template, deferred.localcontext)
        if name in self._keys:
            self.registry.set_key(filename, self._keys[name])

    def render_job(self, filename, job):
        """Render one queued page and put it in place; ``"written"`` or
        ``"same"`` (came out as published: linked)."""
        name, template, localcontext = job
        data = template.render(localcontext).encode("utf-8")
        if self.registry.link_published(name, filename, lambda old: outputs.same_bytes(old, data)):
            return "same"
        with open(filename, "wb") as handle:
            handle.write(data)
        return "written"

    def finish(self, filename, name, data):
        """Put the page or feed ``name`` at ``filename``: linked from the
        published tree when kept or identical, else written."""
        registry = self.registry
        if isinstance(data, _Unchanged):
            progress.count("kept")
            if registry.published and not registry.link_published(name, filename):
                shutil.copyfile(os.path.join(registry.published, name), filename)  # no hard links here
        elif registry.link_published(name, filename, lambda old: outputs.same_bytes(old, data)):
            progress.count("same")
        else:
            progress.count("written")
            with open(filename, "wb") as handle:
                handle.write(data)
        if name in self._keys:
            registry.set_key(filename, self._keys[name])

    def put_live(self, filename, name):
        if self.registry.published and name in self.articles:
            self._put_live(filename, os.path.join(self.registry.published, name))

    def _put_live(self, filename, published):
        """An article whose page changed goes live now, before listings;
        the page it replaces is kept aside until the build has published."""
        outputs.mark_unsure(self.registry_file)
        _early.put_live(filename, published, os.path.join(os.path.dirname(self.registry_file), EARLY_FOLDER))
        progress.count("live first")


EARLY_FOLDER = "articles-first"


class EarlyPages:
    """Article pages put live before the build ends, and what they
    replaced. If the build then fails (an error, an exception, a stop),
    they are put back as they were at exit, so a failed build leaves the
    published site as it found it. A killed build cannot run this: its
    registry stays marked unsure and the next build renders everything."""

    def __init__(self):
        self.replaced = []  # (published path, the page it replaced or None)
        self.folder = None

    def begin(self, folder):
        self.replaced, self.folder = [], folder
        shutil.rmtree(folder, ignore_errors=True)  # left by a killed build: its pages are live now

    def put_live(self, filename, published, folder):
        if self.folder != folder:
            self.begin(folder)
        os.makedirs(folder, exist_ok=True)
        old = None
        if os.path.isfile(published):
            old = os.path.join(folder, str(len(self.replaced)))
            _link_or_copy(published, old)
        self.replaced.append((published, old))
        os.makedirs(os.path.dirname(published), exist_ok=True)
        temporary = published + ".incoming"
        if os.path.lexists(temporary):
            os.unlink(temporary)
        _link_or_copy(filename, temporary)
        os.replace(temporary, published)

    def settle(self, registry_file):
        """At exit: keep the pages if the site was published, else put the
        old ones back (the published tree then matches its registry again)."""
        if self.replaced and outputs.is_unsure(registry_file):
            for published, old in reversed(self.replaced):
                if old is None:
                    if os.path.lexists(published):
                        os.unlink(published)
                else:
                    os.replace(old, published)
            outputs.clear_unsure(registry_file)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.replaced, self.folder = [], None


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:  # no hard links on this file system
        shutil.copyfile(source, target)


_early = EarlyPages()


class _KeyedTemplate:
    """A Jinja template that renders only when the writer says so."""

    def __init__(self, template, writer):
        self._template = template
        self._writer = writer

    def render(self, localcontext):
        if self._writer.decide(self._template, localcontext):
            return _Deferred(self._template, localcontext)
        return _Unchanged()

    def __getattr__(self, name):
        return getattr(self._template, name)


class _Output:
    """The file object Pelican writes a page or feed into."""

    def __init__(self, writer, filename, name):
        self._writer, self._filename, self._name = writer, filename, name
        self._parts = []

    def write(self, data):
        self._parts.append(data)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            parts = self._parts
            if len(parts) == 1 and isinstance(parts[0], _Deferred):
                self._writer.defer(self._filename, self._name, parts[0])
                return False
            if len(parts) == 1 and isinstance(parts[0], _Unchanged):
                data = parts[0]
            else:  # pages are text; the feed library writes bytes
                data = b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in parts)
            self._writer.finish(self._filename, self._name, data)
        return False


_generators = []
_writers = []


class RenderError(Exception):
    """A page could not be rendered in a worker; ``str()`` has its traceback."""


def _render_share(writer, jobs):
    return [(name, writer.render_job(filename, job)) for filename, job in jobs for name in (job[0],)]


def render_in_parallel(writer, jobs, workers):
    """Render ``jobs`` (``[(filename, job)]``): every ``workers``-th in a
    forked process (it inherits the templates and every page's context as
    they are: nothing is pickled but the results), the rest here at the
    same time. Returns ``[(registry key, outcome)]``."""
    if workers < 2 or len(jobs) < writer.settings["PARALLEL_RENDERING_MIN"]:
        return _render_share(writer, jobs)
    reader, writer_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: render its share, report, leave without cleanup
        os.close(reader)
        try:
            payload = pickle.dumps(("ok", _render_share(writer, jobs[1::2])))
        except BaseException:  # noqa: BLE001 - reported to the parent, which fails the build
            payload = pickle.dumps(("error", traceback.format_exc()))
        with os.fdopen(writer_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(writer_end)
    try:
        mine = _render_share(writer, jobs[0::2])
    finally:
        with os.fdopen(reader, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
    status, theirs = pickle.loads(payload) if payload else ("error", "the render worker died")
    if status != "ok":
        raise RenderError(theirs)
    return mine + theirs


def render_pages(pelican):
    """``finalized`` (before search indexes and atomic_output publishes):
    render every page whose key changed, articles first, on
    ``RENDER_WORKERS`` processes; changed articles then go live at once."""
    if not _writers:
        return
    writer = _writers.pop()
    workers = pelican.settings["RENDER_WORKERS"]
    jobs = list(writer.jobs.items())
    writer.jobs = {}
    first = [(f, job) for f, job in jobs if job[0] in writer.articles]
    rest = [(f, job) for f, job in jobs if job[0] not in writer.articles]
    used = workers if len(jobs) >= pelican.settings["PARALLEL_RENDERING_MIN"] else 1
    progress.phase("dựng trang (rendering)", f"{len(jobs)} trang trên {used} tiến trình "
                   f"({len(jobs)} pages in {used} processes)")
    for share in (first, rest):
        filenames = dict((job[0], f) for f, job in share)
        for name, outcome in render_in_parallel(writer, share, workers):
            progress.count(outcome)
            if outcome == "written" and share is first:
                writer.put_live(filenames[name], name)


def _remember_generators(generators):
    _generators[:] = generators


def _article_pages(registry, generators):
    return frozenset(registry.key(a.save_as) for g in generators for a in getattr(g, "articles", ()) if a.save_as)


def writer_class(pelican):
    """``get_writer`` receiver: the Writer class of this run."""
    settings = pelican.settings
    published = getattr(pelican, "published_output_path", pelican.output_path)
    registry_file = outputs.registry_file(settings, published)
    previous = outputs.load_keys(registry_file)
    articles = frozenset()
    # only over a published site this build's keys were checked against:
    # a first build has no listings to come before
    if settings["ARTICLES_FIRST"] and previous and os.path.isdir(published):
        articles = _article_pages(outputs.registry_for(pelican.output_path), _generators)
        atexit.register(_early.settle, registry_file)
    count = sum(len(getattr(g, "articles", ())) for g in _generators)
    progress.phase("so khóa trang (page keys)", f"{count} bài; {len(previous)} tệp đã đăng có khóa "
                   f"({count} articles; {len(previous)} published files with a key)")
    return type("IncrementalWriter", (IncrementalWriter,), {
        "published": published, "previous": previous, "registry_file": registry_file, "articles": articles})


def _started(pelican):
    # get_generators is sent at the start of every run (initialized only
    # once, even when the devserver rebuilds on every save)
    progress.reset()
    progress.phase("đọc nội dung (reading content)")


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.get_generators.connect(_started)
    signals.all_generators_finalized.connect(_remember_generators)
    signals.get_writer.connect(writer_class)
    signals.finalized.connect(render_pages)
