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

Modules: ``writer`` (the Writer, keys and the queue of pages to render),
``rendering`` (the queue on two processes), ``early`` (articles put live
first, and back if the build fails); this one connects them to Pelican.
"""

import atexit
import os
import sys

from pelican import signals

from portal import build_inputs, outputs, progress
from portal.settings import fill_pelican_defaults

from .early import early_pages
from .rendering import render_in_parallel
from .writer import IncrementalWriter, current

_generators = []


def render_pages(pelican):
    """``finalized`` (before search indexes and atomic_output publishes):
    render every page whose key changed, articles first, on
    ``RENDER_WORKERS`` processes; changed articles then go live at once."""
    if not current:
        return
    writer = current.pop()
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
        atexit.register(early_pages.settle, registry_file)
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


def _unless_unchanged(pelican):
    """``initialized``: a run whose inputs are all as the published site
    was built from (``portal.build_inputs``) publishes that very site, so
    it does nothing but say so. Checked at every run (the devserver runs
    the same instance again after each save)."""
    run = pelican.run

    def run_unless_unchanged():
        published = getattr(pelican, "published_output_path", pelican.output_path)
        registry_file = outputs.registry_file(pelican.settings, published)
        progress.reset()
        progress.start()
        if build_inputs.unchanged(outputs.load_identity(registry_file), pelican.settings, published):
            pages = len(outputs.load_keys(registry_file))
            for _ in range(pages):
                progress.count("kept")
            print("Không có gì thay đổi từ lần đăng trước; trang đang đăng giữ nguyên "
                  "(nothing changed since the last publish: the published site stays as it is)", file=sys.stderr)
            print(progress.summary(0), file=sys.stderr)
            return
        run()

    pelican.run = run_unless_unchanged


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.initialized.connect(_unless_unchanged)
    signals.get_generators.connect(_started)
    signals.all_generators_finalized.connect(_remember_generators)
    signals.get_writer.connect(writer_class)
    signals.finalized.connect(render_pages)
