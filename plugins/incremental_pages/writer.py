"""The Writer that renders a page only when its key changed (see the
package's docstring). Pelican calls ``write_file`` for every page; the
template is wrapped so the key is known before anything is rendered, and a
page to render is queued (rendered by ``rendering.render_in_parallel`` once
every key is known)."""

import os
import shutil

from pelican.writers import Writer

from portal import outputs, progress
from portal.page_keys import Fingerprints, TemplateClosures, digest, page_key
from portal.build_inputs import settings_stamp

from .early import EARLY_FOLDER, early_pages

# the writer of the current run (Pelican makes one per run)
current = []

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
        self._at_once = 0
        current[:] = [self]

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

    # Changed articles rendered at once, while Pelican still goes through
    # the rest: a reader can open them before the other keys are even known.
    # More than this (a template edit changes every page) wait in the queue,
    # which two processes render.
    AT_ONCE = 50

    def defer(self, filename, name, deferred):
        """Queue a page to render; a later write of the same file replaces
        it (Pelican's override), as the later render would have. A changed
        article, while fewer than AT_ONCE were, is rendered and put live now."""
        if name in self._keys:
            self.registry.set_key(filename, self._keys[name])
        job = (name, deferred.template, deferred.localcontext)
        if name in self.articles and self._at_once < self.AT_ONCE and filename not in self.jobs:
            self._at_once += 1
            outcome = self.render_job(filename, job)
            progress.count(outcome)
            if outcome == "written":
                self.put_live(filename, name)
            return
        self.jobs.pop(filename, None)
        self.jobs[filename] = job

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
        early_pages.put_live(filename, published, os.path.join(os.path.dirname(self.registry_file), EARLY_FOLDER))
        progress.count("live first")


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
