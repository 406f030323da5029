"""Article media besides photos: figures in the body and attachments.

``![alt](photo.jpg "Caption")`` becomes ``<figure>`` (see :mod:`.figures`).
``Attachments`` lists files beside the article, one ``file | title`` per
line; each is published under ``tai-lieu/<article slug>/`` and listed as
"File đính kèm" with its title, type and size. ``make check`` reports a
missing file or a path leaving ``content/``; here such an entry is skipped.
"""

import hashlib
import os
import shutil
from pathlib import Path

from pelican import signals
from pelican.contents import Article, Page

from content_check.rules import list_entries
from live_widgets.counter import write_atomic
from content_check.site import ATTACHMENT_KINDS, resolve_media_path

from . import figures as figures_module
from .figures import FigureExtension

def attachment_entries(value):
    """``[(file, title)]`` from ``Attachments``; the title defaults to the
    file name."""
    return [(name, title or os.path.basename(name)) for name, title in list_entries(value)]


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
    write_atomic(Path(stamp_file), stamp.encode("utf-8"))
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
        if path is None or extension not in ATTACHMENT_KINDS:
            continue
        source = os.path.join(settings["PATH"], path)
        if not os.path.isfile(source):
            continue
        target = f"{settings.get('ATTACHMENTS_URL', 'tai-lieu')}/{instance.slug}/{os.path.basename(path)}"
        instance.attachments_list.append({
            "title": title, "kind": ATTACHMENT_KINDS[extension],
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
