"""Publish all or nothing: build into a staging folder, swap it in on success.

Pelican writes straight into OUTPUT_PATH, so a build that fails half way
(a broken article header under ``--fatal errors``, a crash in a plugin)
would leave readers a half-written site. Here every run writes into
``<output>.staging``; only when Pelican reaches ``finalized`` is the old
output moved aside and the staging folder renamed into its place. A failed
run leaves the last good output untouched.

Before the swap every file and folder of the staging tree gets the usual
permissions (0666 / 0777 less the umask): the web server runs as another
user than the build, and some writers (temporary files renamed into place,
hard links from a cache) leave 0600 behind. One pass at the end covers
every route into output/.

The three folders must be real folders (or absent): a plain file, a
symlink or a folder the build cannot replace stops the build before
anything is written, with a message saying which path and what to do.

This plugin also keeps the run's output registry (:mod:`portal.outputs`):
it records what Pelican itself writes (pages and Atom feeds through the
Writer's signals, static and theme files it copies), refuses to publish a
tree holding any file that nobody recorded, and after the swap saves the
registry to ``OUTPUT_REGISTRY`` (relative to the folder holding output/).
"""

import logging
import os
import shutil
import stat
import sys

from pelican import signals

from portal import build_inputs, outputs, progress
from portal.atomic import current_umask
from portal.problems import Problem, logged_fatal
from portal.settings import fill_pelican_defaults

logger = logging.getLogger(__name__)


class OutputFolderError(Exception):
    """One of the output folders cannot be used; ``str()`` is the message."""


NOT_A_FOLDER = ("đã có ở đây nhưng không phải là thư mục ({kind}); hãy xóa hoặc đổi tên nó rồi dựng lại "
                "(exists but is {kind_en}, not a folder: remove or rename it, then build again; "
                "the published site was not changed)")
NOT_WRITABLE = ("không ghi được vào thư mục chứa nó; hãy cho người dựng trang quyền ghi "
                "(its folder is not writable: give the building user write access; "
                "the published site was not changed)")
CANNOT_REPLACE = ("không thay được thư mục này ({reason}); hãy kiểm tra quyền ghi và chỗ trống trên đĩa "
                  "rồi dựng lại (cannot replace it: {reason}; check write access and disk space, then "
                  "build again; the published site was not changed)")
KINDS = {"symlink": ("liên kết symlink", "a symlink"), "file": ("một tệp", "a file")}


def staging_path(output_path):
    return os.path.normpath(output_path) + ".staging"


def retired_path(output_path):
    return os.path.normpath(output_path) + ".old"


def folder_problem(path):
    """Why ``path`` cannot be one of our output folders, or ``None``. It
    must be absent or a real folder (not a symlink: the swap would replace
    the link, not what it points at), in a folder we can write."""
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        kind, kind_en = KINDS["symlink" if os.path.islink(path) else "file"]
        return NOT_A_FOLDER.format(kind=kind, kind_en=kind_en)
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(parent) and parent != os.path.dirname(parent):
        parent = os.path.dirname(parent)  # the build creates missing folders
    if not os.access(parent, os.W_OK | os.X_OK):
        return NOT_WRITABLE
    return None


def check_folders(output_path):
    """Raise OutputFolderError naming the first unusable output folder."""
    for path in (output_path, staging_path(output_path), retired_path(output_path)):
        problem = folder_problem(path)
        if problem:
            raise OutputFolderError(str(Problem(os.path.relpath(path), 1, problem)))


def normalise_modes(top, umask):
    """Give every folder under ``top`` (itself included) 0777 and every file
    0666, less ``umask``. Symlinks are neither followed nor changed; a
    file that has its mode already (most of an incremental build's tree,
    linked from the published one) is left alone."""
    folder_mode, file_mode = 0o777 & ~umask, 0o666 & ~umask
    os.chmod(top, folder_mode)
    for folder, dirs, files in os.walk(top):  # os.walk does not follow symlinks
        for name in dirs + files:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode) and stat.S_IMODE(mode) != folder_mode:
                os.chmod(path, folder_mode)
            elif stat.S_ISREG(mode) and stat.S_IMODE(mode) != file_mode:
                os.chmod(path, file_mode)


def swap_in(staging, output):
    """Replace ``output`` by ``staging`` with two renames (the window in
    between is a few microseconds, never a partially written tree)."""
    retired = retired_path(output)
    shutil.rmtree(retired, ignore_errors=True)
    if os.path.exists(output):
        os.rename(output, retired)
    try:
        os.rename(staging, output)
    except OSError:
        if os.path.exists(retired) and not os.path.lexists(output):
            os.rename(retired, output)  # readers keep the last good site
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _stop(err):
    """End the build with the message and exit status 1, no traceback."""
    print(err)
    logged_fatal(logger.error, "Không đăng được trang, xem dòng trên (the site was not published, see above)")
    raise SystemExit(1)


def _redirect(pelican):
    pelican.published_output_path = pelican.output_path
    pelican.output_path = staging_path(pelican.output_path)


def restore_retired(output):
    """A build killed between the swap's two renames leaves no ``output``
    but the last good site in ``output.old``: put it back first, so readers
    are served while this build runs (and whether it succeeds or not)."""
    retired = retired_path(output)
    if not os.path.lexists(output) and os.path.isdir(retired) and not os.path.islink(retired):
        os.rename(retired, output)
        # printed, not a logged warning: under `make publish` that would be
        # fatal, and the restore is good news
        print(f"{os.path.relpath(retired)}: đã khôi phục trang đang đăng (a killed build had left the "
              "published site here; put back)", file=sys.stderr)


def _start_run(pelican):
    # get_generators is sent at the start of every run (also under
    # autoreload), so a failed earlier run's leftovers go away here.
    try:
        restore_retired(pelican.published_output_path)
        check_folders(pelican.published_output_path)
        shutil.rmtree(pelican.output_path, ignore_errors=True)
        os.makedirs(pelican.output_path)
        registry = outputs.begin(pelican.output_path, pelican.published_output_path)
    except OutputFolderError as err:
        _stop(err)
    except OSError as err:
        _stop(Problem(os.path.relpath(pelican.output_path), 1, CANNOT_REPLACE.format(reason=err.strerror)))
    # what this run reads, before it reads it: saved with the registry, it
    # lets the next build tell that nothing changed (portal.build_inputs)
    registry.sources = build_inputs.Sources(pelican.settings)
    _warnings.attach()


def page_kind(key, context):
    """The registry kind of a file Pelican's Writer wrote (``key`` relative
    to the output folder; the context holds the settings)."""
    if key == context.get("NOTFOUND_SAVE_AS"):
        return "error"
    return "page" if key.endswith(".html") else "file"


def _page_written(path, context):
    registry = outputs.registry_of(path)
    if registry:
        content = context.get("article") or context.get("page")
        registry.record(path, page_kind(registry.key(path), context), getattr(content, "source_path", None))


def _feed_written(path, context, feed):
    registry = outputs.registry_of(path)
    if registry:
        registry.record(path, "feed")


_static = []
_warnings = build_inputs.WarningCount()


def _remember_static(generator):
    _static[:] = [generator]


def record_copies(registry, settings, static_generators):
    """Record what Pelican copied itself: the static files of content/ and
    the theme's static folders (copied to THEME_STATIC_DIR)."""
    for generator in static_generators:
        for static in generator.staticfiles:
            if static.save_as:
                registry.record(static.save_as, "static", static.source_path)
    for folder in settings["THEME_STATIC_PATHS"]:
        top = os.path.join(settings["THEME"], folder)
        for path in outputs.files_below(top):
            copied = os.path.join(settings["THEME_STATIC_DIR"], os.path.relpath(path, top))
            if os.path.lexists(os.path.join(registry.root, copied)):
                registry.record(copied, "theme", path)


UNRECORDED = ("{path}: tệp này được ghi vào trang mà không qua sổ đăng ký đầu ra; báo cho người phát triển "
              "(written into the site without being recorded in portal.outputs: a plugin bypasses the "
              "registry; the published site was not changed)")


def removed_count(registry_file, registry):
    """How many files of the published site this build leaves out."""
    try:
        before = outputs.load(registry_file)
    except (OSError, ValueError):
        return 0
    return len(set(before) - set(registry.files))


def _identity(registry, output):
    """What the next build compares to tell nothing changed, or None when
    it must do the work anyway: a file changed while this one read it, or a
    warning it printed must be printed again. Taken after the swap: the
    old tree's removal changes the link counts of the files both share."""
    sources = registry.sources.state(registry.written_sources) if registry.sources else None
    if not sources or _warnings.count:
        return None
    return build_inputs.identity(sources, build_inputs.tree_state(output), registry.valid_until,
                                 registry.written_sources)


def _publish(pelican):
    output = pelican.published_output_path
    progress.phase("đăng trang (publishing)")
    registry = outputs.registry_for(pelican.output_path)
    record_copies(registry, pelican.settings, _static)
    stray = registry.unrecorded()
    if stray:
        for path in stray:
            print(UNRECORDED.format(path=os.path.relpath(os.path.join(output, path))), file=sys.stderr)
        _stop(f"{len(stray)} tệp không có trong sổ đăng ký đầu ra ({len(stray)} unrecorded output files)")
    registry_file = outputs.registry_file(pelican.settings, output)
    removed = removed_count(registry_file, registry)
    try:
        check_folders(output)
        normalise_modes(pelican.output_path, current_umask())
        outputs.mark_unsure(registry_file)
        swap_in(pelican.output_path, output)
        registry.identity = _identity(registry, output)
        outputs.save(registry, registry_file)
    except OutputFolderError as err:
        _stop(err)
    except OSError as err:
        _stop(Problem(os.path.relpath(err.filename or output), 1, CANNOT_REPLACE.format(reason=err.strerror)))
    logger.info("Published %s", output)
    print(progress.summary(removed), file=sys.stderr)


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.initialized.connect(_redirect)
    signals.get_generators.connect(_start_run)
    signals.content_written.connect(_page_written)
    signals.feed_written.connect(_feed_written)
    signals.static_generator_finalized.connect(_remember_static)
    signals.finalized.connect(_publish)
