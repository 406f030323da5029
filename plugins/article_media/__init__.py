"""Article media besides photos: figures in the body and attachments.

``![alt](photo.jpg "Caption")`` becomes ``<figure>`` (see :mod:`.figures`).
``Attachments`` lists files beside the article, one ``file | title`` per
line; each is published under ``tai-lieu/<article slug>/`` and listed as
"File đính kèm" with its title, type and size. ``make check`` reports a
missing file or a path leaving ``content/``; here such an entry is skipped.
"""

import hashlib
import logging
import os
import shutil

from pelican import signals
from pelican.contents import Article, Page

from content_check.site import ATTACHMENT_TYPES, resolve_media_path

from . import figures as figures_module
from .figures import FigureExtension

logger = logging.getLogger(__name__)

KINDS = {
    ".pdf": "PDF", ".doc": "Word", ".docx": "Word", ".odt": "Văn bản ODT", ".rtf": "RTF",
    ".xls": "Excel", ".xlsx": "Excel", ".ods": "Bảng tính ODS", ".csv": "CSV",
    ".ppt": "PowerPoint", ".pptx": "PowerPoint", ".odp": "Trình chiếu ODP", ".txt": "Văn bản",
    ".zip": "ZIP", ".rar": "RAR", ".7z": "7z", ".mp3": "Âm thanh MP3", ".mp4": "Video MP4",
}


def attachment_entries(value):
    """``[(file, title)]`` from ``Attachments`` (list or string; title
    defaults to the file name)."""
    lines = value if isinstance(value, list) else str(value or "").splitlines()
    entries = []
    for line in lines:
        name, _, title = str(line).partition("|")
        if name.strip():
            entries.append((name.strip(), title.strip() or os.path.basename(name.strip())))
    return entries


def render_stamp():
    """Identity of the code that shapes rendered Markdown (this plugin's
    figures and the NFC reader) and of Markdown itself."""
    import markdown

    import vi_locale

    digest = hashlib.sha256(markdown.__version__.encode())
    for module in (figures_module, vi_locale):
        with open(module.__file__, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


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
    with open(stamp_file, "w", encoding="utf-8") as handle:
        handle.write(stamp)
    return True


def _add_extension(pelican):
    extensions = pelican.settings.setdefault("MARKDOWN", {}).setdefault("extensions", [])
    if not any(isinstance(e, FigureExtension) for e in extensions):
        extensions.append(FigureExtension())
    drop_stale_content_cache(pelican.settings["CACHE_PATH"], render_stamp())


def _attachments(instance):
    if not isinstance(instance, (Article, Page)):
        return
    settings = instance.settings
    instance.attachments_list = []
    for name, title in attachment_entries(instance.metadata.get("attachments")):
        path = resolve_media_path(settings["PATH"], instance.source_path, name)
        extension = os.path.splitext(name)[1].lower()
        if path is None or extension not in ATTACHMENT_TYPES:
            continue
        source = os.path.join(settings["PATH"], path)
        if not os.path.isfile(source):
            continue
        target = f"{settings.get('ATTACHMENTS_URL', 'tai-lieu')}/{instance.slug}/{os.path.basename(path)}"
        instance.attachments_list.append({
            "title": title, "kind": KINDS.get(extension, extension[1:].upper()),
            "size": os.path.getsize(source), "url": f"{settings['SITEURL']}/{target}",
            "source": source, "target": target,
        })


def _publish(generator, content):
    """Copy an article's attachments next to its page as it is written."""
    for item in getattr(content, "attachments_list", []):
        destination = os.path.join(generator.output_path, item["target"])
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        shutil.copyfile(item["source"], destination)


def register():
    signals.initialized.connect(_add_extension)
    signals.content_object_init.connect(_attachments)
    signals.article_generator_write_article.connect(_publish)
    signals.page_generator_write_page.connect(_publish)
