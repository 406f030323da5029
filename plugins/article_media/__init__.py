"""Article photos: the lead photo from metadata and figures in the body.

``Image`` and ``ImageCaption`` name the lead photo relative to the article's
folder; it is exposed to templates as ``article.lead_image`` (``url``,
``caption``, ``path``). Body photos are handled by :mod:`.figures`.
"""

import logging
import os
import posixpath

from pelican import signals
from pelican.contents import Article, Page

from .figures import FigureExtension, is_relative

logger = logging.getLogger(__name__)


def resolve_media_path(content_root, source_path, reference):
    """Path of ``reference`` relative to ``content_root``, resolved against the
    folder of ``source_path``; ``None`` if it leaves ``content_root``."""
    folder = os.path.dirname(os.path.relpath(source_path, content_root))
    joined = posixpath.normpath(posixpath.join(folder.replace(os.sep, "/"), reference))
    if joined.startswith("../") or joined == ".." or posixpath.isabs(joined):
        return None
    return joined


def _add_extension(pelican):
    extensions = pelican.settings.setdefault("MARKDOWN", {}).setdefault("extensions", [])
    if not any(isinstance(e, FigureExtension) for e in extensions):
        extensions.append(FigureExtension())


def _lead_image(instance):
    if not isinstance(instance, (Article, Page)):
        return
    image = instance.metadata.get("image")
    instance.lead_image = None
    if not image:
        return
    settings = instance.settings
    if not is_relative(image):
        logger.error(
            "%s: Image: %r phải là tên tệp ảnh nằm cạnh bài viết "
            "(Image must be a file beside the article)",
            os.path.relpath(instance.source_path), image,
        )
        return
    path = resolve_media_path(settings["PATH"], instance.source_path, image)
    if path is None or not os.path.isfile(os.path.join(settings["PATH"], path)):
        logger.error(
            "%s: Image: không tìm thấy ảnh %r (lead photo not found); "
            "hãy đặt ảnh vào cùng thư mục với bài viết",
            os.path.relpath(instance.source_path), image,
        )
        return
    instance.lead_image = {
        "path": path,
        "url": f"{settings['SITEURL']}/{path}",
        "caption": instance.metadata.get("imagecaption", ""),
    }


def register():
    signals.initialized.connect(_add_extension)
    signals.content_object_init.connect(_lead_image)
