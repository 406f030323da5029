"""Checks across the whole content tree: photos and files that must exist,
captions and alt text, duplicate addresses, links to pages that do not
exist and unsafe link schemes. ``make check`` prints what this returns;
the build runs the same checks before Pelican reads anything."""

import fnmatch
import functools
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from types import SimpleNamespace

from pelican.utils import slugify

from portal.content_paths import (ATTACHMENT_TYPES, PHOTO_TYPES, SYMLINKED_SOURCE, MediaError, is_local_reference,
                                  on_disk_name, real_path_inside, resolve_media, resolve_media_path, site_file,
                                  url_scheme)
from portal.addresses import slug_origin, source_slug
from portal.file_gate import file_refusal, walk
from portal.header import header_entries, parse_header
from portal.markdown_source import SourceError, read_markdown
from portal.problems import Problem

from portal.render_stamp import render_stamp
from portal.vietnamese import nfc

from .links import find_links
from .markup_cache import MarkupCache
from .render import renderer
from .rules import check_header
from .sanitiser import markup_problems

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


def markdown_files(root, folders, ignores=(), excludes=()):
    """``(path, refusal)`` for every Markdown file of ``folders``, found as
    the build finds them: through the gate's rules (portal.file_gate, which
    plugins/source_gate applies to Pelican's file lists: folder symlinks
    followed only inside content/), with its words for what it refuses,
    skipping what Pelican skips (``IGNORE_FILES`` names, ``*_EXCLUDES``
    folders); ``refusal`` is None for a file that may be read."""

    def ignored(name):
        return any(fnmatch.fnmatch(name, pattern) for pattern in ignores)

    excluded = frozenset(os.path.normpath(os.path.join(root, e)) for e in excludes)
    found = []
    for folder in folders:
        top = os.path.join(root, folder)
        if not os.path.isdir(top):
            continue
        for path, refusal in walk(root, top, excluded, ignored):
            if refusal or path.endswith(".md"):
                found.append((path, refusal or file_refusal(root, path)))
    for path, refusal in sorted(found):
        if ignored(os.path.basename(path)):
            continue
        if path.endswith(".md") or refusal:
            if refusal is None and not real_path_inside(root, path):
                refusal = SYMLINKED_SOURCE.format(target=os.path.realpath(path))
            yield path, refusal


def read_documents(settings, problems=None, refusals=True):
    """Every Markdown file as a :class:`Document`. A file that cannot be
    read (not UTF-8, control characters, markup too hostile to render, a
    symlink out of content/) is left out, its problem appended to
    ``problems`` (what the gate refuses, a symlink out of content/, only
    with ``refusals``: in the build, Pelican's file lists are gated by
    plugins/source_gate, which reports it)."""
    root = settings["PATH"]
    categories = [nfc(c) for c in settings["MENU_CATEGORIES"]]
    documents = []
    for kind, key in (("article", "ARTICLE"), ("page", "PAGE")):
        for source, refusal in markdown_files(root, settings[f"{key}_PATHS"], settings["IGNORE_FILES"],
                                              settings.get(f"{key}_EXCLUDES", ())):
            path = os.path.relpath(source)
            try:
                if refusal:
                    if not refusals:
                        continue
                    raise SourceError(Problem(path, 1, refusal))
                text = nfc(read_markdown(source, path))
            except SourceError as error:
                if problems is not None:
                    problems.append(error.problem)
                continue
            parsed = parse_header(text)
            document = Document(path, source, kind, text, parsed[0], parsed[2])
            document.problems = check_header(path, text, kind, categories, parsed)
            document.url = url_of(document, settings)
            documents.append(document)
    return documents


def slug_of(text, settings):
    return _slug(text, tuple(map(tuple, settings["SLUG_REGEX_SUBSTITUTIONS"])))


@functools.lru_cache(maxsize=4096)
def _slug(text, substitutions):
    # Categories and tags repeat across thousands of articles.
    return slugify(text, regex_subs=substitutions)


def document_slug(document, settings):
    """The document's slug as the build makes it (plugins/stable_addresses):
    its Slug, else its folder (``<slug>/index.md``) or file name, never its
    title (portal.addresses)."""
    relative = os.path.relpath(os.path.abspath(document.source), os.path.abspath(settings["PATH"]))
    return source_slug(relative, document.value("slug"), document.value("title"),
                       lambda text: slug_of(text, settings))


def url_of(document, settings, status=None):
    """The address Pelican will give the document (as if its Status were
    ``status``, when given), or None if unknown."""
    slug = document_slug(document, settings)
    if not slug:
        return None
    if document.kind == "page":
        return settings["PAGE_URL"].format(slug=slug)
    if (status or document.value("status")).lower() == "draft":
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
        try:
            path = resolve_media(root, document.source, reference)
        except MediaError as error:
            problems.append(_problem(document, line, (
                f"{key}: đường dẫn {reference!r} không được phép — {error.reason}"
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


# Pelican's replacement indicators; any other {word} it cannot replace, and
# one whose target gives no slug, ends `make publish` (a warning) without a file.
INDICATORS = {"filename", "static", "attach", "category", "tag", "author", "index"}
_INDICATOR = re.compile(r"^\{(\w*)\}(.*)$", re.S)


def indicator_problem(url, settings):
    match = _INDICATOR.match(url)
    if not match:
        return None
    what, rest = match.groups()
    if what not in INDICATORS:
        return (f"liên kết {url[:50]!r}: “{{{what}}}” không phải chỉ dẫn của trang; dùng {{filename}}, "
                f"{{static}}, {{category}}, {{tag}} hoặc {{index}} (unknown link indicator {{{what}}})")
    if what in ("category", "tag", "author") and not slug_of(rest.split("#")[0].split("?")[0], settings):
        return (f"liên kết {url[:50]!r}: tên sau {{{what}}} không tạo được đường dẫn; viết tên bằng chữ hoặc số "
                f"(no address can be made from what follows {{{what}}})")
    return None


def name_problems(document, settings):
    """Tags, category and authors become addresses: a name that gives no
    slug (``!!!``) would merge into ``chu-de/`` or stop `make publish`."""
    problems = []
    for key in ("tags", "category", "author", "authors"):
        line = document.line(key)
        for name in (document.value(key).split(",") if key in ("tags", "authors") else [document.value(key)]):
            if name.strip() and not slug_of(name.strip(), settings):
                problems.append(_problem(document, line, (
                    f"{key.capitalize()}: {name.strip()[:40]!r} không tạo được đường dẫn; hãy dùng chữ hoặc số "
                    f"(no address can be made from this name)"), "error"))
    return problems


# Longest slug: a file name must stay under 255 bytes (plus ".html").
MAX_SLUG = 150


def slug_problem(document, settings):
    slug = document_slug(document, settings)
    if len(slug) > MAX_SLUG:
        given = bool(document.value("slug"))
        return _problem(document, document.line("slug") if given else 1, (
            f"đường dẫn của bài dài {len(slug)} ký tự (quá {MAX_SLUG}); hãy thêm khóa Slug ngắn gọn, ví dụ "
            f"Slug: {slug[:40].rstrip('-')}{'' if given else ', hoặc đổi tên ' + _renamed(document)} "
            "(address too long for a file name)"), "error")
    return None


def _renamed(document):
    """What staff rename to change the document's address: its folder or its file."""
    if slug_origin(document.path, document.value("slug")) == "folder":
        return f"thư mục {os.path.basename(os.path.dirname(document.path))!r} cho ngắn"
    return f"tệp {os.path.basename(document.path)!r} cho ngắn"


def duplicate_problem(document, owner, url):
    """Two documents at one address: what to change is where the slug came from."""
    if slug_origin(document.path, document.value("slug")) == "slug":
        line, fix, fix_en = document.line("slug"), "đổi khóa Slug", "change the Slug"
    elif slug_origin(document.path, "") == "folder":
        line, fix, fix_en = 1, "đổi tên thư mục của bài hoặc thêm khóa Slug", "rename the folder or add a Slug"
    else:
        line, fix, fix_en = 1, "đổi tên tệp hoặc thêm khóa Slug", "rename the file or add a Slug"
    return _problem(document, line, f"trùng địa chỉ với {owner} ({url}): {fix} (duplicate address: {fix_en})",
                    "error")


def check_links(document, settings, known_urls, drafts=frozenset()):
    """Site links that lead nowhere (unsafe schemes are the sanitiser's:
    :func:`markup_problems`)."""
    problems = []
    own = [u.rstrip("/") + "/" for u in (settings["PUBLIC_URL"], settings["SITEURL"]) if u]
    for line, kind, url, _text, _title in document.all_links:
        if indicator_problem(url, settings):
            problems.append(_problem(document, line, indicator_problem(url, settings), "error"))
            continue
        if url_scheme(url) is not None and not url.lower().startswith(("http:", "https:")):
            continue  # mailto:, tel:, or unsafe (reported by the sanitiser)
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
                path = on_disk_name(settings["PATH"], reference.lstrip("/"))
            else:
                path = resolve_media_path(settings["PATH"], document.source, reference)
            if not path or not site_file(settings["PATH"], path):
                problems.append(_problem(document, line, (
                    f"liên kết tới tệp không tồn tại {url!r} (link to a missing file)"
                ), "error"))
            elif os.path.normpath(os.path.join(settings["PATH"], path)) in drafts and \
                    document.value("status").lower() != "draft":
                # make publish leaves drafts out: the link would be a 404
                # that shows the draft's address (its title) to readers
                problems.append(_problem(document, line, (
                    f"liên kết {url!r} tới một bản nháp (Status: draft), bản này không được đăng; hãy bỏ "
                    "liên kết hoặc đăng bài kia trước (link to a draft, which is never published)"
                ), "error"))
            continue
        if not target.startswith("/") or target.startswith("//"):
            continue
        path = target.split("#")[0].split("?")[0].lstrip("/")
        if path in known_urls or path.rstrip("/") + "/" in known_urls:
            continue
        if site_file(settings["PATH"], on_disk_name(settings["PATH"], path)):
            continue
        problems.append(_problem(document, line, (
            f"liên kết tới trang không tồn tại {url!r}: kiểm tra lại địa chỉ (link to a page that does not exist)"
        ), "error"))
    return problems


def own_urls(settings):
    """The addresses the site writes besides articles and pages, found as
    Pelican finds them: each of DIRECT_TEMPLATES at ``<NAME>_URL``, else
    ``<NAME>_SAVE_AS``, else ``<name>.html``; TEMPLATE_PAGES' targets."""
    urls = {"", "index.html"}
    for name in settings["DIRECT_TEMPLATES"]:
        save_as = settings.get(f"{name.upper()}_SAVE_AS", f"{name}.html")
        for url in (settings.get(f"{name.upper()}_URL"), save_as):
            if url:
                urls.add(url)
                if url.endswith("/index.html"):
                    urls.add(url[:-len("index.html")])
    urls.update(settings["TEMPLATE_PAGES"].values())
    return urls


def site_urls(documents, settings):
    urls = own_urls(settings)
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


def _markup_verdict(document, render):
    """``[(line, message, severity)]`` of what the sanitiser removes from the file."""
    try:
        return [(p.line, p.message, p.severity) for p in markup_problems(document.path, document.text, render)]
    except Exception as error:  # noqa: BLE001 - Markdown or an extension failed on this text
        # the build's reader fails the same way and leaves the file out
        return [(1, f"không hiển thị được bài: {type(error).__name__}: {str(error)[:100]}; hãy báo cho "
                    "người quản trị kèm tệp này (the file cannot be rendered)", "error")]


# Below this many files to render, starting worker processes costs more
# than it saves (each file takes about 3 ms to render).
PARALLEL_FROM = 200
_worker_render = []


def _start_worker(settings):
    _worker_render.append(renderer(settings))


def _worker_verdict(path_and_text):
    path, text = path_and_text
    return _markup_verdict(SimpleNamespace(path=path, text=text), _worker_render[0])


def _render_missing(documents, settings, cache):
    """Render, on every core, the files `make check` has no verdict for: a
    cold check of 5,000 articles is otherwise ~14 s on one core. Few files
    are left to ``cache.get``, one by one."""
    todo = [d for d in documents if not cache.known(d.text)]
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8)
    if len(todo) < PARALLEL_FROM or workers < 2:
        return
    # fork: the workers inherit the settings (Markdown extension objects
    # included) instead of having them pickled
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(settings,)) as pool:
        verdicts = pool.map(_worker_verdict, [(d.path, d.text) for d in todo], chunksize=64)
        for document, found in zip(todo, verdicts):
            cache.remember(document.text, found)


def check_site(settings, documents=None, build=False):
    """Every problem of the content tree, sorted by file and line.

    For ``make check`` each file is rendered as the build renders it and
    what the sanitiser removes is reported. The build (``build``) reports
    the same from the HTML it rendered itself (``content_check._sanitise``),
    through the same :func:`markup_problems`, and leaves symlinked files to
    its gate.
    """
    problems = []
    if documents is None:
        documents = read_documents(settings, problems, refusals=not build)
    known = site_urls(documents, settings)
    drafts = {os.path.normpath(d.source) for d in documents if d.value("status").lower() == "draft"}
    # addresses the site itself writes: a page with Slug: index would
    # overwrite the home page (Pelican stops with a traceback)
    owners = {"index.html": "trang chủ (home page)", "404.html": "trang 404 (404 page)",
              "sitemap.xml": "sơ đồ trang (sitemap)", "robots.txt": "robots.txt"}
    cache = render_text = None
    if not build:
        render_text = renderer(settings)
        cache = MarkupCache(settings["CACHE_PATH"], render_stamp(settings))
        _render_missing(documents, settings, cache)
    for document in documents:
        problems.extend(document.problems)
        if cache:
            found = cache.get(document.text, lambda: _markup_verdict(document, render_text))
            problems.extend(Problem(document.path, *verdict) for verdict in found)
        problems.extend(check_media(document, settings))
        problems.extend(check_links(document, settings, known, drafts))
        problems.extend(name_problems(document, settings))
        long_slug = slug_problem(document, settings)
        if long_slug:
            problems.append(long_slug)
        url = document.url
        if url:
            if url in owners:
                problems.append(duplicate_problem(document, owners[url], url))
            else:
                owners[url] = document.path
    if cache:
        cache.save()
    return sorted(problems)
