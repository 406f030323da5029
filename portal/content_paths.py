"""Files of the content tree as the build may use them.

Git carries symlinks and hard links, and staff type file names in NFC while
some tools store NFD: every file the build reads from ``content/`` (an
article's photo, an attachment, a banner, a feed) is found and judged here,
so the build and ``make check`` refuse the same files in the same words.
"""

import html
import os
import posixpath
import re
import stat

from .vietnamese import nfc

PHOTO_TYPES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff"}
# Attachment types and how readers see them named ("PDF, 1,2 MB").
ATTACHMENT_KINDS = {
    ".pdf": "PDF", ".doc": "Word", ".docx": "Word", ".odt": "Văn bản ODT", ".rtf": "RTF",
    ".xls": "Excel", ".xlsx": "Excel", ".ods": "Bảng tính ODS", ".csv": "CSV",
    ".ppt": "PowerPoint", ".pptx": "PowerPoint", ".odp": "Trình chiếu ODP", ".txt": "Văn bản",
    ".zip": "ZIP", ".rar": "RAR", ".7z": "7z", ".mp3": "Âm thanh MP3", ".mp4": "Video MP4",
}
ATTACHMENT_TYPES = frozenset(ATTACHMENT_KINDS)


_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def url_scheme(url):
    """The scheme a browser would see: entities decoded, whitespace and
    control characters dropped, lower case (``JaVa&#x73;cript :`` → ``javascript``)."""
    cleaned = _INVISIBLE.sub("", html.unescape(html.unescape(url))).lower()
    match = _SCHEME.match(cleaned)
    return match.group(1) if match else None


def is_local_reference(url):
    """``photo.jpg``, ``../x.png``: a file of the content tree, written
    relative to the article (not a URL, a site path, an anchor or ``{static}``)."""
    return bool(url) and url_scheme(url) is None and not url.startswith(("/", "#", "{"))


def real_path_inside(content_root, path):
    """Whether ``path`` (absolute, or relative to the working folder) still
    lies inside ``content_root`` once every symlink is resolved. Git carries
    symlinks, so a pulled ``content/`` may point at ``/etc``; every file the
    build reads from ``content/`` must pass this before it is opened."""
    root = os.path.realpath(content_root)
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


class MediaError(ValueError):
    """Why a file named by an article cannot be used (``reason``: a
    sentence for the staff, Vietnamese then English)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


OUTSIDE = ("chỉ dùng tệp nằm trong thư mục content/, ghi đường dẫn tương đối so với bài viết "
           "(path must stay inside content/)")
SYMLINK = ("là liên kết tượng trưng (symlink) trỏ ra ngoài thư mục content/, tới {target}; hãy thay nó "
           "bằng chính tệp đó (a symlink leading outside content/, to {target}: replace it with the file itself)")


HARD_LINK = ("là liên kết cứng (hard link) tới một tệp có thể nằm ngoài thư mục content/; hãy chép chính "
             "tệp vào đây (cp, không dùng ln) (a hard link, possibly to a file outside content/: copy the "
             "file itself; nothing of it is published)")


def hard_linked(path):
    """Whether ``path`` is a regular file with another name somewhere: a
    hard link to ``/etc/shadow`` has a real path inside content/, so only
    the link count tells. Nothing in a content tree needs one."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_nlink > 1


# A file of content/ whose real path leaves it; plugins/source_gate says the same.
SYMLINKED_SOURCE = ("là liên kết (symlink) trỏ ra ngoài thư mục content/, tới {target}; hãy thay nó bằng "
                    "chính tệp đó hoặc xóa nó (a symlink leading outside content/, to {target}: replace it "
                    "with the file itself or remove it; nothing of it is published)")


def on_disk_name(root, relative):
    """``relative`` (under ``root``) as it is spelled on disk: the same name
    in NFC or NFD is the same file (macOS and some Windows tools store NFD;
    staff type NFC). Unchanged when nothing matches."""
    if os.path.lexists(os.path.join(root, relative)):
        return relative
    parts = []
    for part in relative.split("/"):
        folder = os.path.join(root, *parts)
        if not os.path.lexists(os.path.join(folder, part)):
            wanted = nfc(part)
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                return relative
            part = next((n for n in names if nfc(n) == wanted), part)
        parts.append(part)
    return "/".join(parts)


def resolve_media(content_root, source_path, reference):
    """``reference`` (relative to the article's folder) as the path, relative
    to ``content_root`` and spelled as on disk, of a file inside
    ``content_root``; raises :class:`MediaError` when it is absolute, leaves
    ``content_root``, or is a symlink whose real path does."""
    if not reference or reference.startswith(("/", "\\")) or os.path.isabs(reference) or ":" in reference[:3]:
        raise MediaError(OUTSIDE)
    folder = os.path.dirname(os.path.relpath(source_path, content_root)).replace(os.sep, "/")
    joined = posixpath.normpath(posixpath.join(folder, reference.replace("\\", "/")))
    if joined == ".." or joined.startswith("../"):
        raise MediaError(OUTSIDE)
    joined = on_disk_name(content_root, joined)
    path = os.path.join(content_root, joined)
    if not real_path_inside(content_root, path):
        raise MediaError(SYMLINK.format(target=os.path.realpath(path)))
    if hard_linked(path):
        raise MediaError(HARD_LINK)
    return joined


def resolve_media_path(content_root, source_path, reference):
    """:func:`resolve_media`, or ``None`` when the file may not be used
    (photos, attachments and banners skip it; ``make check`` says why)."""
    try:
        return resolve_media(content_root, source_path, reference)
    except MediaError:
        return None


def site_file(content_root, relative):
    """Whether ``relative`` names a file of the content tree whose real path
    stays inside it (a link to a symlinked ``/etc/passwd`` leads nowhere)."""
    path = os.path.join(content_root, relative)
    return os.path.isfile(path) and real_path_inside(content_root, path)


