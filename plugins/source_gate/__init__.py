"""Gate every file Pelican's generators read or copy from ``content/``.

Pelican lists files with ``Generator.get_files``, which walks with
``followlinks=True`` and never asks where a file really is: a symlink
pulled with git publishes the host's files, and anything dropped into a
static folder (an SVG with a script) is copied as it is. Here each
generator's ``get_files`` is replaced by the same walk with the rules of
``gate.py``; ``{static}`` links and ``TEMPLATE_PAGES`` go through the same
rules. Refused files are left out in every mode (so not even the
devserver publishes them) and reported as ``path:1: message`` errors,
which fails ``make html`` and ``make publish`` before anything is written:
``output/`` stays as it was.

What the standard generators will list is known from the settings, so it
is scanned and reported as soon as the first generator exists, before
content_check (or anything else) opens a file; anything found later (a
``{static}`` link, another generator's own list) is reported once every
generator has read its content.
"""

import fnmatch
import functools
import os

from pelican import signals
from pelican.generators import ArticlesGenerator, StaticGenerator, TemplatePagesGenerator

from portal.checks import content_check_requested
from portal.file_gate import (BAD_LINKED_TYPE, LINKED_TYPES, STATIC_TYPES, file_refusal, folder_refusal,
                              static_refusals, walk)
from portal.problems import Problem, report
from portal.settings import fill_pelican_defaults

# Context keys: one run's problems (by path) and those already printed,
# shared by the run's generators.
_PROBLEMS = "source_gate_problems"
_REPORTED = "source_gate_reported"
_LISTED = "source_gate_listed"  # (arguments) -> files: the scan ahead is not walked twice


def _refuse(generator, path, reason):
    shown = os.path.relpath(path)
    generator.context.setdefault(_PROBLEMS, {})[shown] = Problem(shown, 1, reason)


def ignored(settings):
    """``name -> bool``: whether Pelican ignores a file of that name (IGNORE_FILES)."""
    patterns = settings["IGNORE_FILES"]
    return lambda name: any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def _candidates(generator, top, exclude):
    """What Pelican's walk of ``top`` would find, as ``(path, refusal)``."""
    content = generator.path
    if os.path.isdir(top):
        refusal = folder_refusal(content, top)
        if refusal:
            return [(top, refusal)]
        excluded = frozenset(os.path.normpath(os.path.join(content, e)) for e in exclude or ())
        return walk(content, top, excluded, ignored(generator.settings))
    return [(top, None)] if os.path.lexists(top) else []


def gated_get_files(generator, paths, exclude=None, extensions=None, static=None):
    """``Generator.get_files`` (same arguments, same result) minus what the
    gate refuses; static folders (``static``, by default for the
    StaticGenerator) hold images only."""
    static = isinstance(generator, StaticGenerator) if static is None else static
    paths = [paths] if isinstance(paths, str) else list(paths)
    key = (tuple(paths), tuple(exclude or ()), extensions if extensions is False else
           tuple(extensions) if extensions else None, static)
    listed = generator.context.setdefault(_LISTED, {})
    if key not in listed:
        listed[key] = _gated_files(generator, paths, exclude, extensions, static)
    return set(listed[key])


def _gated_files(generator, paths, exclude, extensions, static):
    types = STATIC_TYPES if static else None
    files = set()
    for path in paths:
        top = os.path.join(generator.path, path) if path else generator.path
        for full, reason in _candidates(generator, top, exclude):
            relative = os.path.relpath(full, generator.path)
            if reason is None:
                if not generator._include_path(relative, extensions):
                    continue
                reason = file_refusal(generator.path, full, types)
            if reason:
                _refuse(generator, full, reason)
            else:
                files.add(relative)
    return files


def _gate_static_links(generator, generate_context):
    """Files linked with ``{static}`` from an article are copied too."""
    links = generator.context["static_links"]
    for relative in sorted(links):
        full = os.path.join(generator.path, relative)
        reason = file_refusal(generator.path, full, LINKED_TYPES, BAD_LINKED_TYPE)
        if reason:
            links.discard(relative)
            _refuse(generator, full, reason)
    generate_context()


def _template_pages(generator):
    """``TEMPLATE_PAGES`` (sources are read as templates from content/)
    minus what the gate refuses."""
    pages = {}
    for source, destination in generator.settings["TEMPLATE_PAGES"].items():
        full = os.path.join(generator.path, source)
        reason = file_refusal(generator.path, full)
        if reason:
            _refuse(generator, full, reason)
        else:
            pages[source] = destination
    return pages


def _scan_ahead(generator):
    """List now what the articles, pages and static generators will list,
    with the same arguments they will use, to report it early."""
    settings = generator.settings
    for kind, static in (("ARTICLE", False), ("PAGE", False), ("STATIC", True)):
        gated_get_files(generator, settings[f"{kind}_PATHS"], settings[f"{kind}_EXCLUDES"],
                        False if static else None, static=static)
    _template_pages(generator)
    _report_new(generator.context)


def _report_new(context):
    problems = context.get(_PROBLEMS, {})
    reported = context.setdefault(_REPORTED, set())
    new = sorted(p for path, p in problems.items() if path not in reported)
    reported.update(problems)
    report(new)


def _install(generator):
    if isinstance(generator, ArticlesGenerator):
        _scan_ahead(generator)
    generator.get_files = functools.partial(gated_get_files, generator)
    if isinstance(generator, StaticGenerator):
        generator.generate_context = functools.partial(
            _gate_static_links, generator, generator.generate_context)
    if isinstance(generator, TemplatePagesGenerator):
        # for this generator and run only: a fixed file comes back on the
        # devserver's next rebuild
        generator.settings = dict(generator.settings, TEMPLATE_PAGES=_template_pages(generator))


def _report_late(generators):
    if generators:
        _report_new(generators[0].context)


def _check(settings):
    """``make check``: what the gate would refuse in the static folders and
    template pages, in the build's words (articles and pages are checked
    by content_check, which reads them through the same gate's rules)."""
    found = static_refusals(settings["PATH"], settings["STATIC_PATHS"], settings["TEMPLATE_PAGES"], ignored(settings))
    return [Problem(os.path.relpath(path), 1, refusal) for path, refusal in found]


def register():
    signals.initialized.connect(fill_pelican_defaults)
    content_check_requested.connect(_check)
    signals.generator_init.connect(_install)
    signals.all_generators_finalized.connect(_report_late)
