"""Which files of ``content/`` Pelican's own generators may read or copy.

Pure functions, no Pelican: given the content root and a path, say why the
file may not be published (a sentence for the staff), or ``None``.

Two classes of danger, both arriving with an ordinary ``git pull``:

* a symlink (file or folder) that leads outside ``content/``: Pelican
  follows it and publishes ``/etc/passwd``, or all of ``/etc``;
* an active file (SVG with a script, HTML, XML, JS...) in a static folder:
  copied as it is, it runs on the site's own origin. Static folders hold
  images only, so their types are an allowlist and the first bytes must
  match the name (a page renamed ``x.png`` is refused too).
"""

import os
import stat

from .content_paths import ATTACHMENT_TYPES, HARD_LINK, SYMLINKED_SOURCE, hard_linked, real_path_inside

# The first bytes of each image type the static folders may hold.
IMAGE_MAGIC = {
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),  # and b"WEBP" at offset 8, checked below
    ".ico": (b"\x00\x00\x01\x00",),
}
STATIC_TYPES = frozenset(IMAGE_MAGIC)
# An article may also link a document with {static}; documents are not
# active content in a browser (no SVG, HTML, XML or script among them).
LINKED_TYPES = STATIC_TYPES | ATTACHMENT_TYPES

# The same sentence as `make check` (content_check) for a symlinked article.
OUTSIDE = SYMLINKED_SOURCE
FOLDER_OUTSIDE = ("là thư mục liên kết (symlink) trỏ ra ngoài content/, tới {target}; hãy xóa liên kết "
                  "và chép các tệp cần đăng vào đây (a folder symlink leading outside content/, to {target}: "
                  "remove it and copy in the files to publish; nothing in it is published)")
LOOP = ("là thư mục liên kết (symlink) trỏ về chính thư mục chứa nó; hãy xóa liên kết "
        "(a folder symlink back to a folder that contains it, a loop: remove it)")
UNREADABLE = "không đọc được tệp: {reason}; hãy kiểm tra tệp (cannot read the file: {reason})"
NOT_REGULAR = ("không phải là một tệp thông thường; hãy xóa nó (not a regular file, e.g. a device "
               "or a pipe: remove it)")
BAD_TYPE = ("loại tệp «{ext}» không được đăng từ thư mục này; chỉ đăng ảnh {allowed}. Ảnh SVG hãy "
            "xuất ra PNG (file type «{ext}» is not published from this folder, only {allowed}: "
            "an SVG or page could run script on the site; export SVG as PNG)")
BAD_LINKED_TYPE = ("loại tệp «{ext}» không được liên kết bằng {{static}} hay {{attach}}; chỉ liên kết ảnh hoặc "
                   "tài liệu ({allowed}). Ảnh SVG hãy xuất ra PNG (file type «{ext}» cannot be published "
                   "through a {{static}} or {{attach}} link, only {allowed}: an SVG or page could run script "
                   "on the site; export SVG as PNG)")
BAD_CONTENT = ("tên tệp là ảnh «{ext}» nhưng nội dung không phải ảnh đó; hãy lưu lại ảnh đúng "
               "định dạng (named as a «{ext}» image but its content is not one: save it again "
               "in that format)")


def _allowed(types):
    return ", ".join(sorted(t.lstrip(".") for t in types))


def file_refusal(content_root, path, types=None, bad_type=BAD_TYPE):
    """Why ``path`` (absolute, or relative to the working folder) may not be
    read for the site, or ``None``. ``types`` (lower-case extensions with
    the dot) limits the file types, ``bad_type`` saying so; ``None``
    allows any."""
    if not real_path_inside(content_root, path):
        return OUTSIDE.format(target=os.path.realpath(path))
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        return UNREADABLE.format(reason=err.strerror or err)
    if not stat.S_ISREG(mode):
        return NOT_REGULAR
    if hard_linked(path):
        return HARD_LINK
    if types is None:
        return None
    ext = os.path.splitext(path)[1].lower()
    if ext not in types:
        return bad_type.format(ext=ext or os.path.basename(path), allowed=_allowed(types))
    if ext in IMAGE_MAGIC:
        return _content_refusal(path, ext)
    return None


def _content_refusal(path, ext):
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError as err:
        return UNREADABLE.format(reason=err.strerror or err)
    matches = head.startswith(IMAGE_MAGIC[ext]) and (ext != ".webp" or head[8:12] == b"WEBP")
    return None if matches else BAD_CONTENT.format(ext=ext)


def folder_refusal(content_root, path):
    """Why the folder ``path`` may not be entered, or ``None``."""
    if not real_path_inside(content_root, path):
        return FOLDER_OUTSIDE.format(target=os.path.realpath(path))
    return None


def walk(content_root, top, excluded=frozenset(), ignored=lambda name: False):
    """Yield ``(path, refusal)`` for every file under the folder ``top``
    (paths as ``os.path.join`` builds them from ``top``), ``refusal`` being
    ``None`` for files still to check one by one. Folder symlinks are
    followed only while they stay inside ``content_root`` and do not loop
    back to a folder above them; the refused folder is yielded instead of
    its files. ``excluded`` holds normalised folder paths not to enter;
    ``ignored(name)`` says which folder names to skip (IGNORE_FILES)."""
    stack = [(top, frozenset())]
    while stack:
        folder, above = stack.pop()
        above = above | {os.path.realpath(folder)}
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            yield folder, UNREADABLE.format(reason=err.strerror or err)
            continue
        for entry in entries:
            if not _is_dir(entry):
                yield entry.path, None
            elif os.path.normpath(entry.path) in excluded or ignored(entry.name):
                continue
            elif folder_refusal(content_root, entry.path):
                yield entry.path, folder_refusal(content_root, entry.path)
            elif os.path.realpath(entry.path) in above:
                yield entry.path, LOOP
            else:
                stack.append((entry.path, above))


def _is_dir(entry):
    try:
        return entry.is_dir()  # follows symlinks, as Pelican's walk does
    except OSError:
        return False


def static_refusals(content_root, static_paths, template_pages=(), ignored=lambda name: False):
    """``[(path, refusal)]`` for what the static folders and the template
    pages would be refused by the build, so ``make check`` says it too."""
    found = []
    for folder in static_paths:
        top = os.path.join(content_root, folder)
        if os.path.isdir(top) or os.path.islink(top):
            refusal = folder_refusal(content_root, top)
            if refusal:
                found.append((top, refusal))
                continue
            for path, refusal in walk(content_root, top, ignored=ignored):
                refusal = refusal or file_refusal(content_root, path, STATIC_TYPES)
                if refusal:
                    found.append((path, refusal))
        elif os.path.lexists(top):
            refusal = file_refusal(content_root, top, STATIC_TYPES)
            if refusal:
                found.append((top, refusal))
    for source in template_pages:
        path = os.path.join(content_root, source)
        # a missing one is not a danger; the build says it is missing
        refusal = file_refusal(content_root, path) if os.path.lexists(path) else None
        if refusal:
            found.append((path, refusal))
    return found
