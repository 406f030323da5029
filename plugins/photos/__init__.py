"""Article photos: responsive, upright and metadata-free, for every article.

After Pelican has read the articles and before it builds categories and
tags, every photo an article uses (``Image``, ``Gallery`` and the body's
``![...](photo.jpg)``) is processed by :mod:`portal.images` (cached by content
hash, on both cores) and the body's ``<img>`` become ``<picture>``. An
article with a photo that cannot be published (a decompression bomb, a
truncated file, a file that is not an image) is left out of the build with
a warning naming the article and the photo: the rest of the site still
builds in development, and ``make publish`` (``--fatal warnings``) fails.
Originals are never published: staff phones put GPS positions in them.

Only pages that Pelican writes get their photos processed and published
(see :func:`written`): drafts under `make publish` publish nothing, while
``Status: hidden`` articles, written at their address, get theirs. Under
``--fatal warnings`` every broken photo is named, then the build stops with
status 1 (no traceback) before anything is published.
"""

import logging
import os

from pelican import signals
from portal.header import list_entries
from portal.content_paths import is_local_reference, resolve_media_path

from portal.picture_html import ARTICLE_SIZES, body_image_sources, picture_html, replace_images
from portal import outputs
from portal.images import PhotoError
from portal.photo_cache import forget_photo_caches, photo_cache, publish_files
from portal.problems import Problem, report
from portal.settings import fill_pelican_defaults
from portal.vietnamese import nfc

logger = logging.getLogger(__name__)


def references(instance):
    """Every local photo an article or page uses, as written by the staff."""
    found = []
    if instance.metadata.get("image"):
        found.append(instance.metadata["image"])
    found += [name for name, _ in list_entries(instance.metadata.get("gallery"))]
    found += [src for src in body_image_sources(instance._content or "") if is_local_reference(src)]
    return list(dict.fromkeys(found))


class PhotoView:
    """What templates get for one photo: ``article.lead_image`` etc."""

    def __init__(self, photo, prefix, public_prefix, caption=""):
        self.photo, self.prefix, self.caption = photo, prefix, caption
        self.alt = caption
        largest = photo.renditions[-1]
        self.width, self.height = largest.width, largest.height
        self.public_url = f"{public_prefix}/{largest.jpeg}"  # Open Graph needs an absolute URL

    def picture(self, sizes=ARTICLE_SIZES, lazy=True):
        return picture_html(self.photo, self.prefix, self.alt, sizes, lazy)

    def thumbnail(self):
        return picture_html(self.photo, self.prefix, "", lazy=True, thumb=True)


def written(instances):
    """Those of ``instances`` Pelican will write: only their photos may
    reach output/. A draft under `make publish` (DRAFT_SAVE_AS = "") is not
    written, so its photos are not published; a ``Status: hidden`` article
    is written at its address, so its photos are."""
    return [instance for instance in instances if instance.save_as]


def _process(instances, settings, output_path):
    """Process the photos of ``instances``; returns the ones to keep."""
    root = settings["PATH"]
    url_dir = settings["PHOTOS_URL"]
    prefix = f"{settings['SITEURL']}/{url_dir}"
    public_prefix = f"{settings['PUBLIC_URL'] or settings['SITEURL']}/{url_dir}"
    wanted = {}  # id(instance) -> {reference: path}
    for instance in instances:
        for reference in references(instance):
            path = resolve_media_path(root, instance.source_path, reference)
            # A missing file is content_check's to report; a symlink out of
            # content/ goes on to the cache, which refuses it unread and so
            # leaves the article out with the reason.
            if path and os.path.isfile(os.path.join(root, path)):
                wanted.setdefault(id(instance), {})[reference] = os.path.join(root, path)
    cache = photo_cache(settings)
    paths = {path for mine in wanted.values() for path in mine.values()}
    results = cache.process_many(sorted(paths), workers=settings["PHOTO_WORKERS"])
    if cache.stats["processed"]:
        logger.info("Photos: %(processed)d processed, %(reused)d reused from cache", cache.stats)

    kept, files, problems = [], {}, []
    for instance in instances:
        mine = {ref: results[path] for ref, path in wanted.get(id(instance), {}).items()}
        broken = {ref: r for ref, r in mine.items() if isinstance(r, PhotoError)}
        if broken:
            for reference, error in broken.items():
                problems.append(left_out(instance, reference, error))
            continue
        for reference, photo in mine.items():
            files.update(dict.fromkeys(photo.files(), wanted[id(instance)][reference]))
        view = lambda ref, caption="": PhotoView(mine[ref], prefix, public_prefix, caption)  # noqa: E731
        image = instance.metadata.get("image")
        instance.lead_image = view(image, instance.metadata.get("imagecaption", "")) if image in mine else None
        instance.gallery = [view(name, caption) for name, caption in list_entries(
            instance.metadata.get("gallery")) if name in mine]

        def rewrite(attributes):
            src = attributes.get("src", "")
            if src not in mine:
                return None
            return picture_html(mine[src], prefix, attributes.get("alt", ""))

        instance._content = replace_images(instance._content or "", rewrite)
        kept.append(instance)
    # every broken photo named, then one summary: `make publish` stops here
    # with status 1 and no traceback, before anything is published
    report(problems, subject=("Ảnh", "photos"))
    registry = outputs.registry_for(output_path)
    for path in publish_files(sorted(files), cache.files_dir, os.path.join(output_path, url_dir),
                              reuse=registry.reuse):
        registry.record(path, "photo", files[path.name])
    return kept


def line_of(text, reference):
    """The first line (1-based) of ``text`` naming ``reference``: the
    ``Image:``/``Gallery:`` header or the ``![...](...)`` of the body; 1 if
    none does (a reference rewritten by a plugin)."""
    for number, line in enumerate(text.splitlines(), 1):
        if reference in line:
            return number
    return 1


def _line(instance, reference):
    """The line of the article naming ``reference``, as every staff message starts."""
    try:
        with open(instance.source_path, encoding="utf-8", errors="replace") as f:
            return line_of(nfc(f.read()), reference)
    except OSError:
        return 1


def left_out(instance, reference, error):
    """Why ``instance`` is left out of the build, as a warning at its line."""
    return Problem(os.path.relpath(instance.source_path), _line(instance, reference),
                   f"ảnh {reference!r}: {error} — bài viết này không được xuất bản cho đến khi sửa ảnh "
                   "(article left out of the build)", "warning")


ARTICLE_LISTS = ("articles", "translations", "hidden_articles", "hidden_translations",
                 "drafts", "drafts_translations")
PAGE_LISTS = ("pages", "translations", "hidden_pages", "hidden_translations",
              "draft_pages", "draft_translations")


def _process_lists(generator, names):
    """Process the photos of every written instance of the generator's
    lists ``names``; drop those whose photos cannot be published (an
    instance that is not written is left as it is: nothing of it reaches
    output/)."""
    lists = {name: getattr(generator, name) for name in names if hasattr(generator, name)}
    todo = written([instance for instances in lists.values() for instance in instances])
    kept = set(map(id, _process(todo, generator.settings, generator.output_path)))
    dropped = {id(instance) for instance in todo} - kept
    for name, instances in lists.items():
        setattr(generator, name, [i for i in instances if id(i) not in dropped])


def _articles(generator):
    _process_lists(generator, ARTICLE_LISTS)


def _pages(generator):
    _process_lists(generator, PAGE_LISTS)


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.get_generators.connect(forget_photo_caches)
    signals.article_generator_pretaxonomy.connect(_articles)
    signals.page_generator_finalized.connect(_pages)
