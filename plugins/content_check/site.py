"""Checks across the whole content tree: photos and files that must exist,
captions and alt text, duplicate addresses, links to pages that do not
exist and unsafe link schemes. ``make check`` prints what this returns;
the build runs the same checks before Pelican reads anything."""

import functools
import os
import posixpath
import unicodedata
from dataclasses import dataclass, field

from pelican.utils import slugify

from .links import find_links, is_unsafe_url, url_scheme
from .rules import Problem, check_header, header_entries, parse_header

PHOTO_TYPES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff"}
# Attachment types and how readers see them named ("PDF, 1,2 MB").
ATTACHMENT_KINDS = {
    ".pdf": "PDF", ".doc": "Word", ".docx": "Word", ".odt": "Văn bản ODT", ".rtf": "RTF",
    ".xls": "Excel", ".xlsx": "Excel", ".ods": "Bảng tính ODS", ".csv": "CSV",
    ".ppt": "PowerPoint", ".pptx": "PowerPoint", ".odp": "Trình chiếu ODP", ".txt": "Văn bản",
    ".zip": "ZIP", ".rar": "RAR", ".7z": "7z", ".mp3": "Âm thanh MP3", ".mp4": "Video MP4",
}
ATTACHMENT_TYPES = frozenset(ATTACHMENT_KINDS)


@dataclass
class Document:
    path: str            # as shown to staff, relative to the working folder
    source: str          # absolute path
    kind: str            # "article" or "page"
    text: str
    fields: dict
    header_end: int
    problems: list = field(default_factory=list)
    url: str = None

    @functools.cached_property
    def all_links(self):
        """Every link, image and risky HTML of the file (``Summary`` is
        Markdown too), found once."""
        return find_links(self.text)

    @property
    def links(self):
        """Those of the body."""
        return [link for link in self.all_links if link[0] > self.header_end]

    def value(self, key, default=""):
        return self.fields.get(key, (0, default))[1]

    def line(self, key):
        return self.fields.get(key, (1, ""))[0]


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


def resolve_media_path(content_root, source_path, reference):
    """``reference`` (relative to the article's folder) as a path relative to
    ``content_root``; ``None`` when it is absolute or leaves ``content_root``."""
    if not reference or reference.startswith(("/", "\\")) or os.path.isabs(reference) or ":" in reference[:3]:
        return None
    folder = os.path.dirname(os.path.relpath(source_path, content_root)).replace(os.sep, "/")
    joined = posixpath.normpath(posixpath.join(folder, reference.replace("\\", "/")))
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def markdown_files(root, folders):
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(".md"):
                    yield os.path.join(dirpath, name)


def read_documents(settings):
    root = settings["PATH"]
    categories = [unicodedata.normalize("NFC", c) for c in settings.get("MENU_CATEGORIES", [])]
    documents = []
    for kind, folders in (("article", settings["ARTICLE_PATHS"]), ("page", settings["PAGE_PATHS"])):
        for source in markdown_files(root, folders):
            with open(source, encoding="utf-8", errors="replace") as handle:
                text = unicodedata.normalize("NFC", handle.read())
            path = os.path.relpath(source)
            parsed = parse_header(text)
            document = Document(path, source, kind, text, parsed[0], parsed[2])
            document.problems = check_header(path, text, kind, categories, parsed)
            document.url = url_of(document, settings)
            documents.append(document)
    return documents


def slug_of(text, settings):
    return _slug(text, tuple(map(tuple, settings.get("SLUG_REGEX_SUBSTITUTIONS", []))))


@functools.lru_cache(maxsize=4096)
def _slug(text, substitutions):
    # Categories and tags repeat across thousands of articles.
    return slugify(text, regex_subs=substitutions)


def url_of(document, settings):
    """The address Pelican will give the document, or None if unknown."""
    title = document.value("title")
    slug = document.value("slug") or (slug_of(title, settings) if title else "")
    if not slug:
        return None
    if document.kind == "page":
        return settings["PAGE_URL"].format(slug=slug)
    if document.value("status").lower() == "draft":
        return settings["DRAFT_URL"].format(slug=slug)
    return settings["ARTICLE_URL"].format(slug=slug, category=slug_of(document.value("category"), settings))


def _problem(document, line, message, severity="warning"):
    return Problem(document.path, line, message, severity)


def check_media(document, settings):
    """Photos and files named in the header and the body exist, stay inside
    content/, have the right type, and photos carry alt text and captions."""
    root = settings["PATH"]
    problems = []

    def exists(line, key, reference, types, what):
        path = resolve_media_path(root, document.source, reference)
        if path is None:
            problems.append(_problem(document, line, (
                f"{key}: đường dẫn {reference!r} không được phép — chỉ dùng tệp nằm trong thư mục "
                "content/, ghi đường dẫn tương đối so với bài viết (path must stay inside content/)"
            ), "error"))
            return False
        extension = os.path.splitext(reference)[1].lower()
        if extension not in types:
            problems.append(_problem(document, line, (
                f"{key}: {reference!r} không phải {what} được hỗ trợ ({', '.join(sorted(types))}) "
                "(unsupported file type)"
            )))
            return False
        if not os.path.isfile(os.path.join(root, path)):
            problems.append(_problem(document, line, (
                f"{key}: không tìm thấy tệp {reference!r} — hãy đặt tệp vào cùng thư mục với bài "
                "viết hoặc sửa tên tệp (file not found)"
            )))
            return False
        return True

    image = document.value("image")
    if image:
        exists(document.line("image"), "Image", image, PHOTO_TYPES, "ảnh")
        if not document.value("imagecaption"):
            problems.append(_problem(document, document.line("image"), (
                "ảnh đại diện chưa có chú thích: thêm dòng ImageCaption (lead photo has no ImageCaption)"
            )))
    for line, name, caption in header_entries(document.fields, "gallery"):
        exists(line, "Gallery", name, PHOTO_TYPES, "ảnh")
        if not caption:
            problems.append(_problem(document, line, (
                f"Gallery: ảnh {name!r} chưa có chú thích; viết “{name} | Chú thích” (photo has no caption)"
            )))
    for line, name, _title in header_entries(document.fields, "attachments"):
        exists(line, "Attachments", name, ATTACHMENT_TYPES, "loại tệp đính kèm")

    for line, kind, url, text, title in document.links:
        if kind != "image" or not is_local_reference(url):
            continue
        if exists(line, "ảnh trong bài", url, PHOTO_TYPES, "ảnh"):
            if not text.strip():
                problems.append(_problem(document, line, (
                    f"ảnh {url!r} thiếu mô tả (alt): viết ![Mô tả ảnh]({url} \"Chú thích\") "
                    "(image has no alt text)"
                )))
            if not (title or "").strip():
                problems.append(_problem(document, line, (
                    f"ảnh {url!r} chưa có chú thích: viết ![{text or 'Mô tả'}]({url} \"Chú thích\") "
                    "(image has no caption)"
                )))
    return problems


def check_links(document, settings, known_urls):
    """Unsafe schemes anywhere; site links that lead nowhere."""
    problems = []
    own = [u.rstrip("/") + "/" for u in (settings.get("PUBLIC_URL"), settings.get("SITEURL")) if u]
    for line, kind, url, _text, _title in document.all_links:
        if kind == "event":
            problems.append(_problem(document, line, (
                f"thuộc tính sự kiện {url}= không được phép trong bài; hãy xóa nó "
                f"(event handler {url}= not allowed)"
            ), "error"))
            continue
        if kind == "tag":
            problems.append(_problem(document, line, (
                f"thẻ <{url}> không được phép trong bài; hãy xóa nó (tag <{url}> not allowed)"
            ), "error"))
            continue
        if is_unsafe_url(url):
            problems.append(_problem(document, line, (
                f"liên kết không an toàn {url[:50]!r}: chỉ dùng http://, https://, mailto: hoặc "
                f"đường dẫn trong trang (unsafe link scheme {url_scheme(url)}:)"
            ), "error"))
            continue
        target = url
        for prefix in own:
            if target.startswith(prefix):
                target = "/" + target[len(prefix):]
        if target.startswith(("{static}", "{attach}")) and \
                os.path.splitext(target.split("#")[0])[1].lower() in PHOTO_TYPES:
            problems.append(_problem(document, line, (
                f"ảnh {url!r}: viết ![Mô tả](tên-ảnh.jpg \"Chú thích\"), không dùng {{static}} — "
                "ảnh gốc còn thông tin GPS sẽ bị đăng lên (original photo would be published as is)"
            ), "error"))
            continue
        if target.startswith("{filename}") or target.startswith("{static}"):
            reference = target.split("}", 1)[1].split("#")[0]
            if reference.startswith("/"):
                path = reference.lstrip("/")
            else:
                path = resolve_media_path(settings["PATH"], document.source, reference)
            if not path or not os.path.exists(os.path.join(settings["PATH"], path)):
                problems.append(_problem(document, line, (
                    f"liên kết tới tệp không tồn tại {url!r} (link to a missing file)"
                ), "error"))
            continue
        if not target.startswith("/") or target.startswith("//"):
            continue
        path = target.split("#")[0].split("?")[0].lstrip("/")
        if path in known_urls or path.rstrip("/") + "/" in known_urls:
            continue
        if os.path.isfile(os.path.join(settings["PATH"], path)):
            continue
        problems.append(_problem(document, line, (
            f"liên kết tới trang không tồn tại {url!r}: kiểm tra lại địa chỉ (link to a page that does not exist)"
        ), "error"))
    return problems


def site_urls(documents, settings):
    urls = {"", "index.html", settings.get("ARCHIVES_URL", ""), "sitemap.xml", "robots.txt", "404.html", "tim-kiem/"}
    for document in documents:
        if document.url and document.value("status").lower() != "draft":
            urls.add(document.url)
        if document.kind == "article":
            category = document.value("category")
            if category:
                urls.add(settings["CATEGORY_URL"].format(slug=slug_of(category, settings)))
            for tag in document.value("tags").split(","):
                if tag.strip():
                    urls.add(settings["TAG_URL"].format(slug=slug_of(tag.strip(), settings)))
    return urls


def check_site(settings, documents=None):
    """Every problem of the content tree, sorted by file and line."""
    documents = read_documents(settings) if documents is None else documents
    known = site_urls(documents, settings)
    problems = []
    owners = {}
    for document in documents:
        problems.extend(document.problems)
        problems.extend(check_media(document, settings))
        problems.extend(check_links(document, settings, known))
        url = document.url
        if url:
            if url in owners:
                problems.append(_problem(document, document.line("title"), (
                    f"trùng địa chỉ với {owners[url]} ({url}): đổi tiêu đề hoặc thêm khóa Slug "
                    "(duplicate slug)"
                ), "error"))
            else:
                owners[url] = document.path
    return sorted(problems)
