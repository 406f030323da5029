"""Issue 9, the photo pipeline: what bad luck or a hostile tree can do.

Real sites are built from real Markdown into tmp folders, as `make html`
(``--fatal errors``) and `make publish` (publishconf, ``--fatal warnings``)
run Pelican; the cache-level cases that need no site run on PhotoCache
itself. Classes covered: permissions of published and cached files under
any umask; damaged cached renditions (truncated, rewritten, replaced, damage
done through output/); every way the manifest can be unreadable; images
beyond WebP's and JPEG's size limits; photos of pages that are or are not
written (drafts, hidden); sources that leave content/ through a symlink.
"""

import hashlib
import json
import os
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from conftest import ROOT, new_content, run_pelican, write_article
import portal.images as pipeline
import portal.photo_cache
from portal.images import JPEG_MAX, THUMB_SIZE, WEBP_MAX, WIDTHS, PhotoError, process_banner, process_photo
from portal.photo_cache import CacheError, PhotoCache, forget_photo_caches, parse_manifest, publish_files

CATEGORY = "Xây dựng Đảng"


# --------------------------------------------------------------------------
# helpers


def make_photo(path, size=(1600, 1000), colour=(200, 30, 30), seed=0):
    """A JPEG with a shape in it (so each seed gives different bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGB", size, colour)
    ImageDraw.Draw(im).ellipse([10 + seed, 10, size[0] // 2, size[1] // 2], fill=(255, 255, 255))
    im.save(path, "JPEG", quality=85)
    return path


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def article(content, slug, image="anh.jpg", status=None, title=None):
    header = {
        "Title": title or f"Bài {slug}",
        "Date": "2020-03-23 08:15",
        "Category": CATEGORY,
        "Author": "H. Sơn",
        "Image": image,
        "ImageCaption": "Chú thích ảnh",
    }
    if status:
        header["Status"] = status
    return write_article(content / "articles", slug, header, "Nội dung bài viết.\n")


def page_url(slug):
    return f"xay-dung-dang/{slug}.html"  # an article's address is its folder's name


@contextmanager
def umask(mask):
    """Run with ``mask`` as umask; Pelican's subprocess inherits it."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def html_build(content, work, **kwargs):
    """As `make html` runs Pelican."""
    return run_pelican(content, work / "output", cache=work / "cache", **kwargs)


def publish_build(content, work):
    """As `make publish` runs Pelican (after `make check`)."""
    return run_pelican(content, work / "output", cache=work / "cache",
                       settings="publishconf.py", fatal="warnings")


def ok(result):
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout, result.stdout
    return result


def snapshot(folder):
    """Every file under ``folder``: its bytes' digest and mode."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): (sha(p), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def lead_picture(output, slug):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((output / page_url(slug)).read_text(encoding="utf-8"), "html.parser")
    return soup.select_one(".article picture") or soup.select_one("picture")


def picture_files(picture):
    """The anh/ file names a <picture> refers to."""
    names = []
    for tag in picture.find_all(["source", "img"]):
        for part in tag.get("srcset", "").split(","):
            if part.strip():
                names.append(part.split()[0].rsplit("/", 1)[-1])
        if tag.get("src"):
            names.append(tag["src"].rsplit("/", 1)[-1])
    return sorted(set(names))


def manifest_warnings(stdout):
    return [line for line in stdout.splitlines() if "photo cache unreadable" in line]


def new_site(folder):
    """new_content plus the live-widget feeds `make publish` requires."""
    content = new_content(folder)
    shutil.copytree(ROOT / "content" / "feeds", content / "feeds")
    return content


@pytest.fixture
def site(tmp_path):
    """A content tree with one article and its photo."""
    content = new_site(tmp_path / "content")
    article(content, "mot")
    make_photo(content / "articles" / "mot" / "anh.jpg")
    return content


# --------------------------------------------------------------------------
# 1. permissions: the usual modes, honouring the umask


@pytest.mark.parametrize("mask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)],
                         ids=["umask-022", "umask-027"])
def test_published_and_cached_photos_get_the_umask_modes(site, tmp_path, mask, file_mode, dir_mode):
    make_photo(site / "banners" / "b.jpg", (700, 300), seed=9)
    (site / "banners.yml").write_text(
        "- id: thu-nghiem\n  title: Banner thử nghiệm\n  image: banners/b.jpg\n"
        "  link: https://example.org\n  slot: sidebar\n  order: 10\n", encoding="utf-8")
    banner_digest = sha(site / "banners" / "b.jpg")[:16]
    work = tmp_path / "w"
    with umask(mask):
        ok(html_build(site, work))
        cold = snapshot(work / "output" / "anh")
        ok(html_build(site, work))  # warm: everything comes from the cache
    anh = work / "output" / "anh"
    assert stat.S_IMODE(anh.stat().st_mode) == dir_mode
    banners = [name for name in cold if name.startswith(f"{banner_digest}-banner-")]
    assert sorted(banners) == [f"{banner_digest}-banner-276.jpg", f"{banner_digest}-banner-552.jpg"]
    assert len(cold) == 2 * len(WIDTHS) + 2 + 2  # 3 widths + thumbnail, WebP + JPEG; banner 1x, 2x
    for mode in (m for _, m in cold.values()):
        assert mode == file_mode
    for path in anh.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == file_mode, path
    cache = work / "cache" / "photos"
    for path in [cache / "manifest.json", *(cache / "files").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == file_mode, path
    assert stat.S_IMODE((cache / "files").stat().st_mode) == dir_mode


def test_pipeline_alone_writes_umask_modes(tmp_path):
    """Without any later permission pass: process_photo, process_banner and
    publish_files themselves create 0666 & ~umask files."""
    source = make_photo(tmp_path / "src" / "a.jpg", (900, 600))
    with umask(0o027):
        photo = process_photo(source, tmp_path / "files")
        banner = process_banner(source, tmp_path / "files", 200)
        names = [*photo.files(), banner["src"], banner["src2x"]]
        published = publish_files(names, tmp_path / "files", tmp_path / "out")
    for path in [*(tmp_path / "files" / n for n in names), *published]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".tmp-")]


# --------------------------------------------------------------------------
# 2. a damaged cached rendition is never republished


def damage_truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def damage_same_size(path):
    data = bytearray(Path(path).read_bytes())
    data[len(data) // 2:] = bytes(len(data) - len(data) // 2)  # zeros, same length
    with open(path, "r+b") as f:  # in place: same inode
        f.write(data)


def damage_replace(path):
    Path(path).unlink()
    Path(path).write_bytes(b"\xff\xd8\xff not a picture any more")


def damage_symlink(path):
    Path(path).unlink()
    os.symlink("/etc/passwd", path)


@pytest.mark.parametrize("damage", [damage_truncate, damage_same_size, damage_replace, damage_symlink])
def test_damaged_cached_rendition_is_reprocessed(site, tmp_path, damage):
    work = tmp_path / "w"
    ok(html_build(site, work))
    good = snapshot(work / "output" / "anh")
    victim = next(n for n in good if n.endswith("-800.jpg"))
    damage(work / "cache" / "photos" / "files" / victim)

    ok(html_build(site, work))
    assert snapshot(work / "output" / "anh") == good  # byte for byte the good build
    assert sha(work / "cache" / "photos" / "files" / victim) == good[victim][0]  # cache healed
    with Image.open(work / "output" / "anh" / victim) as im:
        im.load()
        assert im.size == (800, 500)


def test_damage_through_output_never_reaches_the_cache(site, tmp_path):
    work = tmp_path / "w"
    ok(html_build(site, work))
    good = snapshot(work / "output" / "anh")
    files = work / "cache" / "photos" / "files"
    cached = snapshot(files)
    inodes = {p.name: p.stat().st_ino for p in files.iterdir()}
    for name in good:  # an in-place "optimiser" ruins every published photo
        damage_truncate(work / "output" / "anh" / name)
        assert not os.path.samefile(work / "output" / "anh" / name, files / name)
    assert snapshot(files) == cached
    ok(html_build(site, work))
    assert {p.name: p.stat().st_ino for p in files.iterdir()} == inodes  # nothing reprocessed
    assert snapshot(work / "output" / "anh") == good


def test_banner_rendition_damage_is_reprocessed(tmp_path):
    source = make_photo(tmp_path / "content" / "banners" / "b.jpg", (700, 300))
    cache = PhotoCache(tmp_path / "cache", tmp_path / "content")
    first = cache.banner(source, 276)
    good = sha(cache.files_dir / first["src"])
    damage_truncate(cache.files_dir / first["src"])
    again = PhotoCache(tmp_path / "cache", tmp_path / "content")
    assert again.banner(source, 276) == first
    assert again.stats == {"processed": 1, "reused": 0, "failed": 0}
    assert sha(cache.files_dir / first["src"]) == good


def test_cache_verifies_size_by_stat_and_digest_only_when_rewritten(site, tmp_path, monkeypatch):
    """The cheap path: an untouched cache is checked with stat alone."""
    source = str(site / "articles" / "mot" / "anh.jpg")
    PhotoCache(tmp_path / "cache", site).process_many([source], workers=1)

    def must_not_read(path):
        raise AssertionError(f"{path} read on a warm build")

    monkeypatch.setattr(portal.photo_cache, "_file_record", must_not_read)
    warm = PhotoCache(tmp_path / "cache", site)
    warm.process_many([source], workers=1)
    assert warm.stats == {"processed": 0, "reused": 1, "failed": 0}


# --------------------------------------------------------------------------
# 3. an unreadable manifest: one warning naming it, a rebuild, no traceback


def valid_manifest_text(tmp_path):
    source = make_photo(tmp_path / "m" / "content" / "x.jpg", (500, 400))
    cache = PhotoCache(tmp_path / "m" / "cache", tmp_path / "m" / "content")
    cache.process_many([str(source)], workers=1)
    return cache.manifest_path.read_bytes()


# name: (damage(good bytes) -> bad bytes, exact str(CacheError), line)
BAD_MANIFESTS = {
    "empty": (lambda good: b"", "tệp rỗng (empty file)", None),
    "blank": (lambda good: b" \n\t", "tệp rỗng (empty file)", None),
    "truncated": (lambda good: good[: len(good) // 2], None, None),  # message depends on the cut
    "cut in a key": (lambda good: b'{"version": 2,\n "photos": {',
                     "không phải JSON hợp lệ (có thể bị cắt dở) (not valid JSON, perhaps truncated: "
                     "Expecting property name enclosed in double quotes)", 2),
    "not JSON": (lambda good: b"<html>oops</html>",
                 "không phải JSON hợp lệ (có thể bị cắt dở) (not valid JSON, perhaps truncated: "
                 "Expecting value)", 1),
    "not UTF-8": (lambda good: b'{"version": 2, "photos": {"\xff\xfe": 1}}',
                  "không phải văn bản UTF-8 (not UTF-8 at byte 27)", None),
    "NUL bytes": (lambda good: b"\x00\x00\x00",
                  "không phải JSON hợp lệ (có thể bị cắt dở) (not valid JSON, perhaps truncated: "
                  "Expecting value)", 1),
    "a list": (lambda good: b"[1, 2, 3]", "cấu trúc không đúng (wrong shape: not a JSON object)", None),
    "old version": (lambda good: b'{"version": 1, "photos": {}}', "phiên bản khác (version 1, expected 2)", None),
    "section not object": (lambda good: b'{"version": 2, "photos": []}',
                           "cấu trúc không đúng (wrong shape: 'photos' is not an object)", None),
    "entry wrong": (lambda good: b'{"version": 2, "photos": {"k": {"digest": 5}}}',
                    "cấu trúc không đúng (wrong shape: photos['k'])", None),
    "bool as width": (lambda good: good.replace(b'"width": 480', b'"width": true'),
                      None, None),
    "file record wrong": (lambda good: b'{"version": 2, "files": {"a.jpg": [1, "x", 2, 3]}}',
                          "cấu trúc không đúng (wrong shape: files['a.jpg'])", None),
    "path in a name": (lambda good: good.replace(b'"jpeg": "', b'"jpeg": "../../', 1),
                       None, None),
    "banner path": (lambda good: good.replace(b'"banners": {}', b'"banners": {"k": {"src": "/etc/x", '
                                              b'"src2x": "a.jpg", "animated": false, "width": 1, "height": 1}}'),
                    "cấu trúc không đúng (wrong shape: banners['k'])", None),
    "stamp wrong": (lambda good: b'{"version": 2, "stamps": {"a.jpg": "yesterday"}}',
                    "cấu trúc không đúng (wrong shape: stamps['a.jpg'])", None),
    "deep nesting": (lambda good: b"[" * 100_000 + b"]" * 100_000,
                     "không phải JSON hợp lệ (not valid JSON: RecursionError: maximum recursion depth "
                     "exceeded while decoding a JSON array from a unicode string)", None),
    "huge number": (lambda good: b'{"version": ' + b"9" * 5000 + b"}", None, None),
}


@pytest.mark.parametrize("name", BAD_MANIFESTS)
def test_parse_manifest_refuses_with_a_reason(tmp_path, name):
    damage, message, line = BAD_MANIFESTS[name]
    good = valid_manifest_text(tmp_path)
    with pytest.raises(CacheError) as caught:
        parse_manifest(damage(good))
    if message is not None:
        assert str(caught.value) == message
        assert caught.value.line == line
    elif name == "huge number":
        assert str(caught.value).startswith("không phải JSON hợp lệ (not valid JSON: ValueError: Exceeds the limit")
    elif name in ("bool as width", "path in a name"):
        assert str(caught.value).startswith("cấu trúc không đúng (wrong shape: photos[")
    else:
        assert str(caught.value).startswith("không phải JSON hợp lệ (có thể bị cắt dở)")
        assert caught.value.line >= 1


def test_parse_manifest_accepts_what_the_cache_writes(tmp_path):
    manifest = parse_manifest(valid_manifest_text(tmp_path))
    # a 500 px photo: one 480 px rendition and the thumbnail, WebP + JPEG
    assert len(manifest["photos"]) == 1 and len(manifest["files"]) == 4


@pytest.mark.parametrize("name", ["empty", "truncated", "not UTF-8", "entry wrong", "deep nesting", "huge number"])
def test_build_with_unreadable_manifest_warns_once_and_rebuilds(site, tmp_path, name):
    work = tmp_path / "w"
    ok(html_build(site, work))
    good = snapshot(work / "output" / "anh")
    manifest = work / "cache" / "photos" / "manifest.json"
    damage = BAD_MANIFESTS[name][0]
    manifest.write_bytes(damage(manifest.read_bytes()))

    result = ok(html_build(site, work))
    warnings = manifest_warnings(result.stdout)
    assert len(warnings) == 1, result.stdout
    assert f"{manifest}" in warnings[0]
    assert "bộ nhớ đệm ảnh không đọc được, đã bỏ và sẽ tạo lại" in warnings[0]
    assert snapshot(work / "output" / "anh") == good
    parse_manifest(manifest.read_bytes())  # rewritten whole
    again = ok(html_build(site, work))
    assert not manifest_warnings(again.stdout)


def test_truncated_manifest_names_its_line(site, tmp_path):
    work = tmp_path / "w"
    ok(html_build(site, work))
    manifest = work / "cache" / "photos" / "manifest.json"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text[: text.index('"files"') + 20], encoding="utf-8")
    line = text[: text.index('"files"') + 20].count("\n") + 1
    result = ok(html_build(site, work))
    [warning] = manifest_warnings(result.stdout)
    assert warning == (f"{manifest}:{line}: bộ nhớ đệm ảnh không đọc được, đã bỏ và sẽ tạo lại: "
                       "không phải JSON hợp lệ (có thể bị cắt dở) (photo cache unreadable, discarded "
                       "and rebuilt: not valid JSON, perhaps truncated: Unterminated string starting at)")


def test_unreadable_manifest_does_not_fail_make_publish(site, tmp_path):
    work = tmp_path / "w"
    ok(publish_build(site, work))
    (work / "cache" / "photos" / "manifest.json").write_bytes(b"\x00\x00\x00")
    result = ok(publish_build(site, work))
    assert len(manifest_warnings(result.stdout)) == 1


def test_manifest_in_place_of_a_folder_is_a_warning(tmp_path):
    source = make_photo(tmp_path / "content" / "x.jpg", (500, 400))
    (tmp_path / "cache" / "manifest.json").mkdir(parents=True)
    warnings = []
    cache = PhotoCache(tmp_path / "cache", tmp_path / "content", warn=warnings.append)
    result = cache.process_many([str(source)], workers=1)[str(source)]
    assert result.width == 500
    assert [w.split(": ", 1)[0] for w in warnings] == [str(cache.manifest_path)] * 2
    assert "không ghi được bộ nhớ đệm ảnh" in warnings[1]


def test_manifest_write_is_atomic_and_leaves_no_temp(tmp_path, monkeypatch):
    """A write that fails half way (here: fsync) keeps the old manifest."""
    sources = [make_photo(tmp_path / "content" / f"{i}.jpg", (500, 400), seed=i) for i in range(2)]
    cache = PhotoCache(tmp_path / "cache", tmp_path / "content")
    cache.process_many([str(sources[0])], workers=1)
    before = cache.manifest_path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline.os, "fsync", broken_fsync)
    warnings = []
    other = PhotoCache(tmp_path / "cache", tmp_path / "content", warn=warnings.append)
    other.process_many([str(s) for s in sources], workers=1)
    assert cache.manifest_path.read_bytes() == before
    assert sorted(p.name for p in cache.cache_dir.iterdir()) == ["files", "manifest.json"]
    assert len(warnings) == 1 and "No space left on device" in warnings[0]


def test_temp_names_are_unique(tmp_path):
    from portal.atomic import temporary_name

    names = {temporary_name(tmp_path / "manifest.json").name for _ in range(50)}
    assert len(names) == 50


# --------------------------------------------------------------------------
# 4. long images are published, not dropped


def test_long_infographics_are_published(tmp_path):
    content = new_site(tmp_path / "content")
    for slug, size in (("dai", (1000, 20000)), ("rong", (1300, 20000))):
        article(content, slug)
        make_photo(content / "articles" / slug / "anh.jpg", size)
    work = tmp_path / "w"
    result = ok(html_build(content, work))
    assert "WebP" not in result.stdout

    output = work / "output"
    # 1000 x 20000: 800 px is 16,000 tall, within WebP: WebP + JPEG.
    picture = lead_picture(output, "dai")
    assert picture.source["type"] == "image/webp"
    assert [c.split()[1] for c in picture.source["srcset"].split(", ")] == ["480w", "800w"]
    # 1300 x 20000: 1200 px is 18,462 tall, beyond WebP: JPEG at every width.
    picture = lead_picture(output, "rong")
    assert picture.source is None
    assert [c.split()[1] for c in picture.img["srcset"].split(", ")] == ["480w", "800w", "1200w"]
    assert (picture.img["width"], picture.img["height"]) == ("1200", "18462")
    for name in picture_files(picture):
        with Image.open(output / "anh" / name) as im:
            im.load()
            assert im.format == "JPEG"
    with Image.open(output / "anh" / picture.img["srcset"].split(", ")[-1].split()[0].rsplit("/", 1)[-1]) as im:
        assert im.size == (1200, 18462)


def test_width_narrowed_only_beyond_jpeg_limit():
    """A pure planning check (an image this long would take a while to
    decode): widths stay as asked up to JPEG's 65,535 px."""
    assert pipeline._plan(1300, 20000, WIDTHS, THUMB_SIZE)[0] == [480, 800, 1200]
    widths, _ = pipeline._plan(600, 100_000, WIDTHS, THUMB_SIZE)
    assert widths == [393]
    assert round(100_000 * 393 / 600) <= JPEG_MAX
    assert WEBP_MAX == 16383


# --------------------------------------------------------------------------
# 5. only photos of pages that are written reach output/


def test_publish_leaves_out_draft_photos_and_serves_hidden_ones(tmp_path):
    content = new_site(tmp_path / "content")
    photos = {}
    for seed, (slug, status) in enumerate((("dang", None), ("nhap", "draft"), ("an", "hidden"))):
        article(content, slug, status=status)
        photos[slug] = sha(make_photo(content / "articles" / slug / "anh.jpg", seed=seed * 40))
    work = tmp_path / "w"
    ok(publish_build(content, work))
    anh = work / "output" / "anh"
    published = {name[:16] for name in os.listdir(anh)}
    assert photos["dang"][:16] in published
    assert photos["an"][:16] in published
    assert photos["nhap"][:16] not in published
    assert not (work / "output" / "ban-nhap").exists()
    # the hidden article's page refers only to files that exist
    picture = lead_picture(work / "output", "an")
    assert picture is not None
    for name in picture_files(picture):
        assert (anh / name).is_file(), name

    # a preview build (make html / devserver) writes the draft: its photos too
    preview = tmp_path / "preview"
    ok(html_build(content, preview))
    assert photos["nhap"][:16] in {n[:16] for n in os.listdir(preview / "output" / "anh")}


# --------------------------------------------------------------------------
# 6. sources that leave content/ are never opened


@pytest.fixture
def escaping(tmp_path):
    """content/ with anh.jpg -> an image outside content/ and pw.jpg ->
    /etc/passwd."""
    content = tmp_path / "content"
    outside = make_photo(tmp_path / "outside" / "real.jpg", (700, 500), seed=77)
    (content / "a").mkdir(parents=True)
    os.symlink(outside, content / "a" / "anh.jpg")
    os.symlink("/etc/passwd", content / "a" / "pw.jpg")
    return content, outside


@pytest.fixture
def opened(monkeypatch):
    """Every path the pipeline opens, recorded."""
    seen = []
    real_open = os.open

    def spy(path, *args, **kwargs):
        seen.append(os.path.realpath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(pipeline.os, "open", spy)
    return seen


def test_cache_refuses_symlinks_out_of_content_unopened(escaping, tmp_path, opened):
    content, outside = escaping
    cache = PhotoCache(tmp_path / "cache", content)
    sources = [str(content / "a" / "anh.jpg"), str(content / "a" / "pw.jpg")]
    results = cache.process_many(sources, workers=2)
    for source in sources:
        assert results[source].reason == "outside"
        assert str(results[source]) == (
            "tệp ảnh nằm ngoài thư mục content/ (có thể là liên kết tượng trưng), hãy chép ảnh thật "
            "vào thư mục bài viết (file lies outside content/, symlinks resolved; copy the real photo in)")
        with pytest.raises(PhotoError) as caught:
            cache.banner(source, 276)
        assert caught.value.reason == "outside"
    assert str(outside) not in opened and "/etc/passwd" not in opened
    assert os.listdir(cache.files_dir) == []


@pytest.mark.parametrize("target", ["anh.jpg", "pw.jpg"])
def test_process_functions_refuse_symlinks_out_of_root(escaping, tmp_path, opened, target):
    content, outside = escaping
    for call in (lambda: process_photo(content / "a" / target, tmp_path / "o", root=content),
                 lambda: process_banner(content / "a" / target, tmp_path / "o", 100, root=content),
                 lambda: pipeline.photo_digest(content / "a" / target, root=content)):
        with pytest.raises(PhotoError) as caught:
            call()
        assert caught.value.reason == "outside"
    assert str(outside) not in opened and "/etc/passwd" not in opened


def test_symlink_inside_content_still_works(tmp_path):
    content = tmp_path / "content"
    real = make_photo(content / "shared" / "real.jpg", (600, 400))
    (content / "a").mkdir()
    os.symlink(real, content / "a" / "anh.jpg")
    cache = PhotoCache(tmp_path / "cache", content)
    result = cache.process_many([str(content / "a" / "anh.jpg")], workers=1)
    assert result[str(content / "a" / "anh.jpg")].width == 600


def test_build_publishes_nothing_of_a_symlinked_photo(tmp_path):
    content = new_site(tmp_path / "content")
    article(content, "mot")
    make_photo(content / "articles" / "mot" / "anh.jpg")
    work = tmp_path / "w"
    ok(publish_build(content, work))
    before = snapshot(work / "output")

    outside = make_photo(tmp_path / "outside" / "real.jpg", (700, 500), seed=77)
    article(content, "ngoai")
    os.symlink(outside, content / "articles" / "ngoai" / "anh.jpg")
    article(content, "matkhau")
    os.symlink("/etc/passwd", content / "articles" / "matkhau" / "anh.jpg")

    strict = publish_build(content, work)
    assert strict.returncode == 1 and "Traceback" not in strict.stdout, strict.stdout
    # Refused with path:line (Image: is line 5) by the first layer that
    # sees it: content_check before Pelican reads anything, or, should a
    # path get past it, the photo cache (whose own message is asserted in
    # test_cache_refuses_symlinks_out_of_content_unopened).
    for slug in ("matkhau", "ngoai"):
        prefix = f"{os.path.relpath(content)}/articles/{slug}/index.md:5: "
        assert [line for line in strict.stdout.splitlines()
                if line.startswith(prefix) and "'anh.jpg'" in line and "content/" in line], strict.stdout
    assert snapshot(work / "output") == before  # refused: output/ as it was

    preview = html_build(content, tmp_path / "preview", fatal=None)  # as make devserver
    assert preview.returncode == 0 and "Traceback" not in preview.stdout, preview.stdout
    secret = Path("/etc/passwd").read_bytes()
    digest = sha(outside)[:16]
    for path in (tmp_path / "preview" / "output").rglob("*"):
        if path.is_file():
            assert not path.name.startswith(digest), path
            assert secret not in path.read_bytes(), path
    # development: the rest of the site builds, the refused ones are not public
    assert (tmp_path / "preview" / "output" / page_url("mot")).is_file()
    assert not (tmp_path / "preview" / "output" / page_url("ngoai")).exists()
    assert not (tmp_path / "preview" / "output" / page_url("matkhau")).exists()


# --------------------------------------------------------------------------
# more of the same classes: odd things where a cache file or folder belongs,
# odd files where a photo belongs


def test_folder_in_place_of_a_cached_file_is_replaced(tmp_path):
    source = make_photo(tmp_path / "content" / "x.jpg", (500, 400))
    cache = PhotoCache(tmp_path / "cache", tmp_path / "content")
    photo = cache.process_many([str(source)], workers=1)[str(source)]
    victim = cache.files_dir / photo.renditions[0].jpeg
    good = sha(victim)
    victim.unlink()
    (victim / "inside").mkdir(parents=True)
    again = PhotoCache(tmp_path / "cache", tmp_path / "content")
    assert again.process_many([str(source)], workers=1)[str(source)] == photo
    assert again.stats == {"processed": 1, "reused": 0, "failed": 0}
    assert sha(victim) == good


@pytest.mark.parametrize("where", ["cache", "cache/files"])
def test_plain_file_in_place_of_a_cache_folder(tmp_path, where):
    source = make_photo(tmp_path / "content" / "x.jpg", (500, 400))
    (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / where).write_text("oops")
    warnings = []
    cache = PhotoCache(tmp_path / "cache", tmp_path / "content", warn=warnings.append)
    assert warnings == [f"{tmp_path / where}: không phải thư mục, đã bỏ và tạo lại bộ nhớ đệm ảnh "
                        "(not a folder: discarded, photo cache rebuilt)"]
    assert cache.process_many([str(source)], workers=1)[str(source)].width == 500


def test_fifo_named_like_a_photo_is_refused_without_hanging(tmp_path):
    import signal

    content = tmp_path / "content"
    content.mkdir()
    fifo = content / "anh.jpg"
    os.mkfifo(fifo)

    def hung(*_):
        raise AssertionError("opening a FIFO blocked the pipeline")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)  # a guard against hanging forever, not a speed check
    try:
        cache = PhotoCache(tmp_path / "cache", content)
        result = cache.process_many([str(fifo)], workers=1)[str(fifo)]
        with pytest.raises(PhotoError) as caught:
            process_photo(fifo, tmp_path / "out", root=content)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.reason == "not-found" and caught.value.reason == "not-found"


def test_hidden_page_gets_its_body_photos(tmp_path):
    content = new_site(tmp_path / "content")
    article(content, "mot")  # something for the search index
    make_photo(content / "articles" / "mot" / "anh.jpg")
    digest = sha(make_photo(content / "pages" / "so-do.jpg", (900, 600), seed=5))
    (content / "pages" / "so-do.md").write_text(
        "Title: Sơ đồ tổ chức\nSlug: so-do\nStatus: hidden\nSummary: Sơ đồ tổ chức của Ban.\n\n"
        '![Sơ đồ tổ chức](so-do.jpg "Sơ đồ tổ chức của Ban")\n', encoding="utf-8")
    work = tmp_path / "w"
    ok(publish_build(content, work))
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((work / "output" / "so-do.html").read_text(encoding="utf-8"), "html.parser")
    picture = soup.select_one("picture")
    assert picture is not None
    files = picture_files(picture)
    assert files and all(name.startswith(digest[:16]) for name in files)
    for name in files:
        assert (work / "output" / "anh" / name).is_file(), name


def test_glue_leaves_out_an_article_whose_photo_escapes_even_past_content_check(
        escaping, tmp_path, opened, monkeypatch, capsys):
    """Defence in depth: should resolve_media_path ever let an escaping
    symlink through, the plugin still publishes nothing of it."""
    import posixpath
    from types import SimpleNamespace

    import photos

    content, outside = escaping
    (content / "a" / "index.md").write_text("Title: A\nImage: anh.jpg\n\nx\n", encoding="utf-8")
    monkeypatch.setattr(photos, "resolve_media_path",  # a naive join, as before the gate
                        lambda root, source, ref: posixpath.join("a", ref))
    forget_photo_caches()
    instance = SimpleNamespace(metadata={"image": "anh.jpg"}, _content="",
                               source_path=str(content / "a" / "index.md"))
    from portal.settings import fill_defaults

    settings = fill_defaults({"PATH": str(content), "CACHE_PATH": str(tmp_path / "cache"), "SITEURL": ""})
    kept = photos._process([instance], settings, str(tmp_path / "output"))
    forget_photo_caches()
    assert kept == []
    assert capsys.readouterr().err.splitlines() == [
        f"{os.path.relpath(content / 'a' / 'index.md')}:2: cảnh báo: ảnh 'anh.jpg': tệp ảnh nằm ngoài thư mục "
        "content/ (có thể là liên kết tượng trưng), hãy chép ảnh thật vào thư mục bài viết (file lies "
        "outside content/, symlinks resolved; copy the real photo in) — bài viết này không được xuất "
        "bản cho đến khi sửa ảnh (article left out of the build)"]
    assert str(outside) not in opened
    assert os.listdir(tmp_path / "output" / "anh") == []


def pelican_command(content, work):
    """The command run_pelican runs for `make html`, to start it ourselves."""
    import sys

    return [sys.executable, "-m", "pelican", str(content), "-o", str(work / "output"),
            "-s", str(ROOT / "pelicanconf.py"), "--log-handler", "plain",
            "-e", f'CACHE_PATH="{work / "cache"}"', "--fatal", "errors"]


def kill_when(command, ready):
    """Start ``command``, SIGKILL it as soon as ``ready()`` holds (or when
    it ends by itself)."""
    import subprocess
    import time

    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        while process.poll() is None and not ready():
            time.sleep(0.005)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)  # the build and its photo workers
        process.wait()


def comparable(output):
    """The site as readers get it; Pagefind's own files differ run to run."""
    return {k: v for k, v in snapshot(output).items() if not k.startswith("pagefind/")}


def test_build_killed_at_any_moment_of_photo_work_then_rebuilt_equals_a_clean_one(tmp_path):
    content = new_site(tmp_path / "content")
    for i in range(4):
        article(content, f"b{i}")
        make_photo(content / "articles" / f"b{i}" / "anh.jpg", (1600, 1000), seed=i * 30)
    clean = tmp_path / "clean"
    ok(html_build(content, clean))
    expected = comparable(clean / "output")

    def files(work):
        folder = work / "cache" / "photos" / "files"
        return len(os.listdir(folder)) if folder.is_dir() else 0

    moments = {
        "first rendition written": lambda work: files(work) >= 1,
        "half the renditions": lambda work: files(work) >= 16,
        "manifest written": lambda work: (work / "cache" / "photos" / "manifest.json").exists(),
        "output being copied": lambda work: (work / "output.staging" / "anh").is_dir(),
    }
    for name, ready in moments.items():
        work = tmp_path / name.replace(" ", "-")
        kill_when(pelican_command(content, work), lambda: ready(work))
        result = ok(html_build(content, work))
        assert comparable(work / "output") == expected, name
        assert "Traceback" not in result.stdout
