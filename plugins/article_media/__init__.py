"""Article media besides photos: figures in the body and attachments.

``![alt](photo.jpg "Caption")`` becomes ``<figure>`` (see :mod:`.figures`).
``Attachments`` lists files beside the article, one ``file | title`` per
line; each is published under ``tai-lieu/<article slug>/`` and listed as
"File đính kèm" with its title, type and size, at a percent-encoded URL.
``make check`` reports a missing file or a path leaving ``content/`` (a
symlink included); here such an entry is skipped, and the real path is
checked again just before the copy, so nothing outside ``content/`` is
ever copied.
"""

import logging
import os
import posixpath
from urllib.parse import quote

from pelican import signals
from pelican.contents import Article, Page

from portal.problems import fail_cleanly
from portal.header import header_entries, list_entries, parse_header
from portal.problems import Problem
from portal.content_paths import ATTACHMENT_KINDS, real_path_inside, resolve_media_path
from portal import outputs
from portal.atomic import write_atomic
from portal.render_stamp import render_stamp
from portal.settings import fill_pelican_defaults

from portal.figures import FigureExtension
from portal.vietnamese import nfc

logger = logging.getLogger(__name__)


def attachment_entries(value):
    """``[(file, title)]`` from ``Attachments``; the title defaults to the
    file name."""
    return [(name, title or os.path.basename(name)) for name, title in list_entries(value)]


def drop_stale_content_cache(cache_path, stamp):
    """Pelican's content cache keys on file times only: a change to how
    Markdown is rendered would go unseen, and an old rendering could even
    link original photos (with their GPS data) for copying. Drop Pelican's
    own cache files when the rendering code changed; our photo and widget
    caches stay."""
    stamp_file = os.path.join(cache_path, "render-stamp")
    try:
        with open(stamp_file, encoding="utf-8") as handle:
            if handle.read() == stamp:
                return False
    except OSError:
        pass
    if os.path.isdir(cache_path):
        for name in os.listdir(cache_path):
            if name.endswith(("Generator", "-Readers")):
                os.remove(os.path.join(cache_path, name))
    os.makedirs(cache_path, exist_ok=True)
    write_atomic(stamp_file, stamp.encode("utf-8"))
    return True


def _add_extension(pelican):
    extensions = pelican.settings.setdefault("MARKDOWN", {}).setdefault("extensions", [])
    if not any(isinstance(e, FigureExtension) for e in extensions):
        extensions.append(FigureExtension())
    drop_stale_content_cache(pelican.settings["CACHE_PATH"], render_stamp(pelican.settings))


class AttachmentRefused(ValueError):
    """An attachment that must not be published; ``str()`` is the staff's
    message (Vietnamese, then English)."""


def url_path(relative):
    """The URL path of an output file saved at ``relative`` (``/``-separated):
    every segment percent-encoded as UTF-8, so ``#``, ``?``, ``%``, spaces and
    Vietnamese letters reach the server as the file's own name."""
    return quote(relative, safe="/")


def page_folder(save_as):
    """The folder an article's attachments go to, named after its own
    address (``tin-tuc-su-kien/abc.html`` -> ``tin-tuc-su-kien/abc``): two
    articles with one slug in two categories never share it."""
    stem = posixpath.splitext(save_as.replace(os.sep, "/"))[0]
    return posixpath.dirname(stem) if posixpath.basename(stem) == "index" else stem


def attachment_target(base, folder, name):
    """Where an attachment is saved under the output folder: ``base/folder/``
    (see :func:`page_folder`) and the file's name in NFC (the form the
    article names it in), so the saved name and its URL agree whatever form
    the disk holds."""
    target = "/".join((base.strip("/"), str(folder), nfc(os.path.basename(name))))
    if any(part in ("", ".", "..") for part in target.split("/")):
        raise AttachmentRefused(
            f"địa chỉ tệp đính kèm {target!r} không hợp lệ — kiểm tra Slug và tên tệp "
            "(attachment address is not a plain path)"
        )
    return target


def checked_source(content_root, source, name=None):
    """``source`` if it may be published; AttachmentRefused if its real
    path (symlinks resolved) leaves ``content_root``: a symlink pulled with
    git must never publish the host's files. ``name`` is the file as the
    article names it, for the message."""
    if not real_path_inside(content_root, source):
        raise AttachmentRefused(
            f"tệp {name or os.path.basename(source)!r} là liên kết (symlink) trỏ ra ngoài thư mục content/ "
            "nên không được đăng — hãy chép chính tệp vào thư mục bài viết "
            "(the file leaves content/ through a symlink; not published)"
        )
    return source


def unique_target(target, listed, name):
    """Refuse a second attachment saved under the same name (``a.pdf`` and
    ``tep/a.pdf``): one would overwrite the other and its link would serve
    the wrong file."""
    if any(item["target"] == target for item in listed):
        raise AttachmentRefused(
            f"tệp {name!r} trùng tên với một tệp đính kèm khác của bài — hãy đổi tên một trong hai tệp "
            "(another attachment of this article has the same file name)"
        )


def attachment_lines(source_path):
    """``{file name: header line}`` of the article's Attachments key, for
    messages (an unreadable header gives ``{}``: the message then says line 1)."""
    try:
        with open(source_path, encoding="utf-8", errors="replace") as handle:
            fields, _problems, _end = parse_header(nfc(handle.read()))
    except OSError:
        return {}
    return {name: line for line, name, _title in header_entries(fields, "attachments")}


def _refuse(instance, lines, name, reason):
    problem = Problem(os.path.relpath(instance.source_path), lines.get(name, 1),
                      f"Attachments: {reason}", "warning")
    # make publish (--fatal warnings) stops here with exit 1, not a traceback
    fail_cleanly(logger.warning, "%s", problem)


def _attachments(instance):
    if not isinstance(instance, (Article, Page)):
        return
    settings = instance.settings
    root = settings["PATH"]
    instance.attachments_list = []
    entries = attachment_entries(instance.metadata.get("attachments"))
    lines = attachment_lines(instance.source_path) if entries else {}
    for name, title in entries:
        # make check reports a bad path or type, a missing file or one whose
        # real path leaves content/ (resolve_media_path gives None); skip those.
        path = resolve_media_path(root, instance.source_path, name)
        extension = os.path.splitext(name)[1].lower()
        if path is None or extension not in ATTACHMENT_KINDS:
            continue
        source = os.path.join(root, path)
        if not os.path.isfile(source):
            continue
        try:
            target = attachment_target(settings["ATTACHMENTS_URL"], page_folder(instance.save_as or instance.slug), path)
            unique_target(target, instance.attachments_list, name)
        except AttachmentRefused as refused:
            _refuse(instance, lines, name, refused)
            continue
        instance.attachments_list.append({
            "title": title, "kind": ATTACHMENT_KINDS[extension],
            "size": os.path.getsize(source), "url": f"{settings['SITEURL']}/{url_path(target)}",
            "source": source, "target": target, "name": name,
        })


# Attachment files written in this build: output path -> source. Each
# article has its own folder, but a page and an article may still meet at
# one address; the second file of a name must not replace the first one's.
_written = {}


def _publish(generator, content):
    """Copy an article's attachments next to its page as it is written.
    The containment check is repeated here, just before the copy, so no
    file whose real path leaves content/ is ever copied."""
    for item in getattr(content, "attachments_list", []):
        name = item.get("name") or os.path.basename(item["source"])
        destination = os.path.join(generator.output_path, *item["target"].split("/"))
        try:
            checked_source(generator.settings["PATH"], item["source"], name)
            if _written.setdefault(destination, item["source"]) != item["source"]:
                raise AttachmentRefused(
                    f"tệp {name!r} trùng địa chỉ {item['target']!r} với tệp đính kèm của một bài khác "
                    "cùng Slug — hãy đổi tên tệp hoặc Slug (another article's attachment has the same address)"
                )
        except AttachmentRefused as refused:
            _refuse(content, attachment_lines(content.source_path), name, refused)
            continue
        outputs.registry_for(generator.output_path).copy(destination, item["source"], "attachment")


def _forget_written(*_args):
    _written.clear()


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.initialized.connect(_add_extension)
    signals.content_object_init.connect(_attachments)
    signals.article_generator_write_article.connect(_publish)
    signals.page_generator_write_page.connect(_publish)
    # every build (devserver rebuilds included) starts with none written
    signals.get_generators.connect(_forget_written)
