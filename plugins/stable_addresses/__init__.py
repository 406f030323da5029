"""Addresses that never break: slugs from folders, redirects from old addresses.

Pelican makes an article's slug from its title, so fixing a typo in a title
would break every link readers shared. Here the slug is the article's
folder (``content/articles/<chuyên-mục>/<slug>/index.md``), a file's stem
for any other file (``content/pages/lien-he.md``), or the ``Slug`` header
when given (:func:`portal.addresses.source_slug`, which ``make check``
uses too). It is set in the metadata before Pelican builds the article, so
every plugin sees the final address.

When staff rename a folder or change a Slug, the old address keeps
answering: the build keeps a ledger of every address it has published
(``ADDRESS_LEDGER``, a committed file in content/, see :mod:`.ledger`) and
leaves at each old address a small page sending readers to the new one
(meta refresh, link, canonical, ``noindex``), recorded in the output
registry as ``redirect``. An old address whose article cannot be found is
named in a warning (``make publish`` stops) and then 404s.

The ledger is written only after a build has succeeded (after
atomic_output's swap, when that plugin runs), atomically, and only when it
changed; ``make check`` reads it but never writes it.
"""

import logging
import os
import sys

from pelican import signals
from pelican.contents import Article
from pelican.utils import slugify

from portal import outputs
from portal.addresses import source_slug
from portal.atomic import write_atomic
from portal.checks import content_check_requested
from portal.content_paths import hard_linked, real_path_inside
from portal.problems import Problem, fail_cleanly, report
from portal.settings import fill_pelican_defaults

from .ledger import LedgerError, Published, address_file, line_of, minute, parse, plan, redirect_html, to_bytes

logger = logging.getLogger(__name__)

# Pelican tells a reader's context signal the metadata, not the file: a
# PATH_METADATA group that matches the whole source path (a lookahead, so
# a board's own PATH_METADATA still applies) carries it there, and it is
# taken out again before Pelican builds the content.
SOURCE_KEY = "stable_addresses_source"
CAPTURE = rf"(?=(?P<{SOURCE_KEY}>(?s:.*)))"


def _capture_sources(pelican):
    pattern = pelican.settings.get("PATH_METADATA") or ""
    if not pattern.startswith(CAPTURE):
        pelican.settings["PATH_METADATA"] = CAPTURE + pattern


def slug_maker(settings):
    """Pelican's slugify as Pelican calls it for a title."""
    def make(text):
        return slugify(text, regex_subs=settings["SLUG_REGEX_SUBSTITUTIONS"],
                       preserve_case=settings["SLUGIFY_PRESERVE_CASE"], use_unicode=settings["SLUGIFY_USE_UNICODE"])
    return make


def _set_slug(generator, metadata):
    source = metadata.pop(SOURCE_KEY, None)
    if source is None:
        return
    slug = source_slug(source, metadata.get("slug"), metadata.get("title"), slug_maker(generator.settings))
    if slug:
        metadata["slug"] = slug


def _drop_source(generator, metadata):
    metadata.pop(SOURCE_KEY, None)


def ledger_path(settings):
    """``ADDRESS_LEDGER`` inside content/, or None when the board turned it off."""
    name = settings["ADDRESS_LEDGER"]
    return os.path.join(settings["PATH"], name) if name else None


def read_ledger(path, content_root):
    """``(entries, text)``; a missing ledger is an empty one. LedgerError
    when it cannot be used (a symlink out of content/ or a hard link is
    refused unread, as every file of content/ is)."""
    if os.path.lexists(path) and not real_path_inside(content_root, path):
        raise LedgerError(f"là liên kết (symlink) trỏ ra ngoài thư mục content/, tới {os.path.realpath(path)} "
                          "(a symlink leading outside content/)")
    if hard_linked(path):
        raise LedgerError("là liên kết cứng (hard link) (a hard link)")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return {}, ""
    except OSError as error:
        raise LedgerError(f"không đọc được tệp ({error.strerror}) (cannot read the file)") from None
    return parse(data), data.decode("utf-8")


UNUSABLE = ("sổ địa chỉ không dùng được: {reason}; hãy lấy lại bản đúng từ git (git checkout -- {path}) rồi "
            "dựng lại; sổ không được ghi đè và không trang chuyển hướng nào được đăng (the address ledger "
            "cannot be used: restore it from git; it was not overwritten)")
LOST = ("địa chỉ {url} đã được đăng (bài {source}) nhưng nay không bài nào có địa chỉ này, người đọc mở liên kết "
        "cũ sẽ gặp trang 404. Nếu bài được đổi tên thư mục, hãy giữ nguyên Date và Category để địa chỉ cũ tự "
        "chuyển sang địa chỉ mới; nếu gỡ bài là có chủ ý, chạy make html một lần để sổ ghi nhận rồi commit "
        "{ledger} (an address published before now leads nowhere and will 404; keep Date and Category when "
        "renaming, or build once with make html to record the removal)")


def _unusable(path, error):
    return Problem(os.path.relpath(path), 1, UNUSABLE.format(reason=error, path=os.path.relpath(path)))


def written(generators):
    """Every article and page this build writes, drafts excluded: hidden
    ones are published at their address, drafts only previewed."""
    found = []
    for generator in generators:
        for name in ("articles", "translations", "hidden_articles", "hidden_translations",
                     "pages", "hidden_pages"):
            found += [item for item in getattr(generator, name, ()) if item.save_as and item.status != "draft"]
    return found


def published(item, root):
    # Pelican gives pages the default category too; only an article's counts
    category = item.category if isinstance(item, Article) else None
    return Published(
        source=os.path.relpath(os.path.abspath(item.source_path), os.path.abspath(root)).replace(os.sep, "/"),
        date=minute(getattr(item, "date", None)),
        category=category.slug if category is not None else None,
        title=item.title if isinstance(getattr(item, "title", None), str) else "",
    )


# The ledger each run will write once it has succeeded: output path -> (path, bytes).
_pending = {}


def _start_run(pelican):
    _pending.pop(os.path.abspath(pelican.output_path), None)
    # Connected now, during the run, so it comes after every plugin's own
    # finalized receiver (Pelican calls them in connection order): after
    # atomic_output's swap, which ends a failed publication with exit 1.
    signals.finalized.connect(_save_ledger)


def _publish_redirects(generators):
    settings = generators[0].settings
    path = ledger_path(settings)
    if not path:
        return
    output = generators[0].output_path
    try:
        ledger, text = read_ledger(path, settings["PATH"])
    except LedgerError as error:
        print(_unusable(path, error), file=sys.stderr)
        fail_cleanly(logger.error, "Sổ địa chỉ có lỗi, xem dòng trên (the address ledger cannot be used)")
        return
    items = {}
    for item in written(generators):
        items.setdefault(item.url, item)
    current = {url: published(item, settings["PATH"]) for url, item in items.items()}
    result = plan(ledger, current)
    registry = outputs.registry_for(output)
    site = settings["SITEURL"]
    public = settings["PUBLIC_URL"] or site
    for old, new in sorted(result.redirects.items()):
        target = address_file(old)
        if target in registry.files or os.path.lexists(os.path.join(output, target)):
            continue  # something else of the site answers there
        registry.write(target, redirect_html(f"{site}/{new}", f"{public}/{new}", current[new].title), "redirect",
                       items[new].source_path)
    shown = os.path.relpath(path)
    report([Problem(shown, line_of(text, url), LOST.format(url=url, source=ledger[url]["source"], ledger=shown),
                    "warning") for url in result.lost], subject=("Sổ địa chỉ", "the address ledger"))
    data = to_bytes(result.entries)
    _pending[os.path.abspath(output)] = (path, data)
    registry.leaves_source(path, data)  # the next build reads these bytes


def _save_ledger(pelican):
    # the folder this run wrote into (atomic_output's staging folder, if it runs)
    pending = _pending.pop(os.path.abspath(pelican.output_path), None)
    if not pending:
        return
    path, data = pending
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return  # unchanged: no write (the devserver would rebuild)
    except OSError:
        pass
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomic(path, data)


def _check(settings):
    """``make check``: the ledger the build will read must be usable."""
    path = ledger_path(settings)
    if not path:
        return []
    try:
        read_ledger(path, settings["PATH"])
    except LedgerError as error:
        return [_unusable(path, error)]
    return []


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.initialized.connect(_capture_sources)
    signals.article_generator_context.connect(_set_slug)
    signals.page_generator_context.connect(_set_slug)
    signals.static_generator_context.connect(_drop_source)
    signals.get_generators.connect(_start_run)
    signals.all_generators_finalized.connect(_publish_redirects)
    content_check_requested.connect(_check)
