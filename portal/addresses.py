"""Where a document is published: its slug comes from where it lives.

An article's address must not change when its title is edited (readers
share links on Facebook and Zalo), so the slug is made from the source
file's place in ``content/``, never from the title:

* an explicit ``Slug:`` header, when given;
* else the article's folder, for ``content/articles/<chuyên-mục>/<slug>/index.md``
  (what ``make article`` creates);
* else the file's stem, for any other file (``content/pages/gioi-thieu.md``).

The build (plugins/stable_addresses) and ``make check`` (plugins/content_check)
both call :func:`source_slug`, so they agree on every address. Pelican's
``slugify`` is passed in (this library does not import Pelican).
"""

import posixpath

from .vietnamese import nfc

# The file that stands for its folder: the folder names the article.
FOLDER_FILE_STEM = "index"


def source_name(relative_path):
    """The name an address is made from: the folder of an ``index.*`` file,
    else the file's stem (``a/b/index.md`` -> ``b``, ``pages/lien-he.md`` ->
    ``lien-he``). ``relative_path`` is ``/`` or OS separated; NFC."""
    path = nfc(str(relative_path)).replace("\\", "/")
    folder, name = posixpath.split(path)
    stem = posixpath.splitext(name)[0]
    if stem == FOLDER_FILE_STEM and posixpath.basename(folder):
        return posixpath.basename(folder)
    return stem


def source_slug(relative_path, slug, title, slugify):
    """The slug of the document at ``relative_path`` (relative to content/):
    ``slug`` (the ``Slug`` header) when not empty, else ``slugify`` of
    :func:`source_name`; the title only when the name gives no slug at all
    (a folder named ``!!!``). ``""`` when nothing gives one."""
    if slug and str(slug).strip():
        return str(slug).strip()
    made = slugify(source_name(relative_path))
    if made:
        return made
    return slugify(title) if title else ""


def slug_origin(relative_path, slug):
    """What staff change to change the address: ``"slug"`` (the header),
    ``"folder"`` or ``"file"``."""
    if slug and str(slug).strip():
        return "slug"
    path = str(relative_path).replace("\\", "/")
    return "folder" if posixpath.splitext(posixpath.basename(path))[0] == FOLDER_FILE_STEM else "file"
