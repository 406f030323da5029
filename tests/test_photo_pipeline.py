"""Unit tests of the photo pipeline, portal/images.py.

Every input is built here with Pillow (or by hand, byte by byte), small
enough that the whole file runs in a few seconds: the point is to pin the
behaviours that matter for publishing staff photos (upright, no leaked
metadata, right colours, refusal of broken or hostile files, stable names
and bytes, a cache that really skips work, banners that stay animated).
"""

import io
import json
import os
import pickle
import random
import struct
import zlib

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFile, ImageSequence

from portal.images import THUMB_SIZE, WIDTHS, PhotoError, ProcessedPhoto, Rendition, photo_digest, process_banner, process_photo
from portal.photo_cache import PhotoCache, publish_files

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# --------------------------------------------------------------------------
# helpers


def near(actual, expected, tolerance=12):
    """Colours equal within lossy-compression noise."""
    return all(abs(a - e) <= tolerance for a, e in zip(actual[:3], expected[:3]))


def pixel(path, xy):
    with Image.open(path) as im:
        return im.convert("RGB").getpixel(xy)


def noise_image(size, seed=1):
    """Random pixels: incompressible, so a truncated file really lacks data."""
    data = random.Random(seed).randbytes(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, data)


def outputs(photo):
    """(Rendition, format, file name) for every file of a ProcessedPhoto."""
    for r in (*photo.renditions, photo.thumb):
        yield r, "WEBP", r.webp
        yield r, "JPEG", r.jpeg


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width, height):
    """A tiny PNG whose header declares width x height pixels.

    Only the IHDR matters: Pillow must refuse it from the declared size,
    before decoding a single row, which also keeps this test instant.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def swapped_primaries_profile():
    """An RGB ICC profile where 'red' is really sRGB blue and vice versa.

    Built from LittleCMS's own sRGB profile by swapping the rXYZ and bXYZ
    tag offsets: a pixel stored as (255, 0, 0) in this space *is* blue, so a
    pipeline that converts to sRGB must output blue, one that ignores the
    profile outputs red.
    """
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", icc[128:132])[0]
    entries = {}
    for i in range(count):
        at = 132 + 12 * i
        entries[bytes(icc[at:at + 4])] = at
    r, b = entries[b"rXYZ"], entries[b"bXYZ"]
    icc[r + 4:r + 12], icc[b + 4:b + 12] = icc[b + 4:b + 12], icc[r + 4:r + 12]
    return bytes(icc)


def photoshop_iptc_segment(caption=b"Secret caption"):
    """A raw APP13 'Photoshop 3.0' segment carrying an IPTC caption."""
    iptc = b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption
    if len(iptc) % 2:
        iptc += b"\x00"
    payload = b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
       b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
       b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>'
       b'</rdf:RDF></x:xmpmeta>')


# --------------------------------------------------------------------------
# orientation and metadata


@pytest.fixture(params=["with-icc", "without-icc"])
def phone_photo(tmp_path, request):
    """A 300x200 JPEG stored sideways (Orientation 6) with GPS, XMP, IPTC,
    a comment and (or not: a different code path) an ICC profile: everything
    a phone or agency adds."""
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im = Image.new("RGB", (300, 200), BLUE)
    ImageDraw.Draw(im).rectangle([0, 0, 59, 39], fill=RED)  # stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (10.0, 45.0, 30.0), 3: "E", 4: (106.0, 40.0, 0.0),
                27: b"ASCII\x00\x00\x00GPS fix"})
    path = tmp_path / "phone.jpg"
    im.save(path, "JPEG", quality=95, exif=exif, xmp=XMP, comment=b"secret comment",
            icc_profile=icc if request.param == "with-icc" else None,
            extra=photoshop_iptc_segment())
    # The fixture really carries what the test claims it strips.
    raw = path.read_bytes()
    assert b"Exif" in raw and b"http://ns.adobe.com/xap" in raw and b"GPS" in raw
    with Image.open(path) as check:
        assert {"exif", "xmp", "photoshop", "comment"} <= set(check.info)
        assert ("icc_profile" in check.info) == (request.param == "with-icc")
        assert check.getexif().get_ifd(0x8825)[1] == "N"
    return path


def test_exif_orientation_applied(phone_photo, tmp_path):
    photo = process_photo(phone_photo, tmp_path / "out")
    assert (photo.width, photo.height) == (200, 300)  # axes swapped
    # 200 px wide: narrower than every width, so one rendition at 200.
    assert [(r.width, r.height) for r in photo.renditions] == [(200, 300)]
    for r, fmt, name in outputs(photo):
        with Image.open(tmp_path / "out" / name) as im:
            assert im.format == fmt
            assert im.size == (r.width, r.height)
    big = photo.renditions[0]
    for name in (big.webp, big.jpeg):
        path = tmp_path / "out" / name
        # Stored top-left turns into displayed top-right.
        assert near(pixel(path, (195, 5)), RED), name
        assert near(pixel(path, (5, 5)), BLUE), name
        assert near(pixel(path, (195, 295)), BLUE), name


def test_every_metadata_block_stripped(phone_photo, tmp_path):
    photo = process_photo(phone_photo, tmp_path / "out")
    for _, _, name in outputs(photo):
        path = tmp_path / "out" / name
        with Image.open(path) as im:
            assert len(im.getexif()) == 0, name
            assert not im.getexif().get_ifd(0x8825), name
            leaked = {"exif", "xmp", "icc_profile", "photoshop", "comment"} & set(im.info)
            assert not leaked, (name, leaked)
        raw = path.read_bytes()
        for marker in (b"Exif", b"http://ns.adobe.com/xap", b"GPS", b"Photoshop",
                       b"ICC_PROFILE", b"PhoneMaker", b"secret", b"Secret caption"):
            assert marker not in raw, (name, marker)


def test_icc_profile_converted_to_srgb(tmp_path):
    source = tmp_path / "tagged.png"
    Image.new("RGB", (64, 48), RED).save(source, icc_profile=swapped_primaries_profile())
    photo = process_photo(source, tmp_path / "out")
    for _, _, name in outputs(photo):
        assert near(pixel(tmp_path / "out" / name, (10, 10)), BLUE, 20), name


# --------------------------------------------------------------------------
# colour modes


def test_cmyk_jpeg_not_inverted(tmp_path):
    source = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (64, 48), (255, 0, 0, 0)).save(source, quality=95)  # pure cyan
    with Image.open(source) as check:
        assert check.mode == "CMYK"
    photo = process_photo(source, tmp_path / "out")
    for _, _, name in outputs(photo):
        assert near(pixel(tmp_path / "out" / name, (10, 10)), (0, 255, 255)), name


def assert_halves(tmp_path, source, left, right):
    """Every published file of ``source`` shows ``left`` | ``right``."""
    photo = process_photo(source, tmp_path / "out")
    for _, _, name in outputs(photo):
        path = tmp_path / "out" / name
        w, h = Image.open(path).size
        assert near(pixel(path, (2, h // 2)), left), name
        assert near(pixel(path, (w - 3, h // 2)), right), name


def test_palette_png(tmp_path):
    im = Image.new("P", (60, 40))
    im.putpalette([*RED, *GREEN, *BLUE] + [0] * (253 * 3))
    ImageDraw.Draw(im).rectangle([30, 0, 59, 39], fill=2)
    im.save(tmp_path / "palette.png")
    assert_halves(tmp_path, tmp_path / "palette.png", RED, BLUE)


def test_palette_png_with_transparency_flattened_on_white(tmp_path):
    im = Image.new("P", (60, 40), 0)
    im.putpalette([*RED, *GREEN] + [0] * (254 * 3))
    ImageDraw.Draw(im).rectangle([30, 0, 59, 39], fill=1)
    im.save(tmp_path / "palette-trns.png", transparency=0)  # index 0 (red) is transparent
    assert_halves(tmp_path, tmp_path / "palette-trns.png", WHITE, GREEN)


def test_16_bit_greyscale_scaled_not_clipped(tmp_path):
    im = Image.new("I;16", (64, 32), 32768)  # mid grey in 16 bits
    ImageDraw.Draw(im).rectangle([32, 0, 63, 31], fill=8192)
    source = tmp_path / "grey16.png"
    im.save(source)
    with Image.open(source) as check:
        assert check.mode == "I;16"
    photo = process_photo(source, tmp_path / "out")
    for _, _, name in outputs(photo):
        path = tmp_path / "out" / name
        assert near(pixel(path, (4, 16)), (128, 128, 128)), name  # not 255
        w = Image.open(path).size[0]
        assert near(pixel(path, (w - 4, 16)), (32, 32, 32)), name


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparency_flattened_on_white_in_both_formats(tmp_path, mode):
    """Transparent -> white (not black) in the WebP *and* the JPEG: they are
    alternatives of one <picture> and must look the same."""
    opaque = (0, 0, 0, 255) if mode == "RGBA" else (0, 255)
    clear = (0, 0, 0, 0) if mode == "RGBA" else (0, 0)
    im = Image.new(mode, (60, 40), clear)
    ImageDraw.Draw(im).rectangle([30, 0, 59, 39], fill=opaque)
    source = tmp_path / "alpha.png"
    im.save(source)
    photo = process_photo(source, tmp_path / "out")
    for _, _, name in outputs(photo):
        path = tmp_path / "out" / name
        with Image.open(path) as out:
            assert out.mode == "RGB"
            w, h = out.size
        assert near(pixel(path, (2, h // 2)), WHITE), name
        assert near(pixel(path, (w - 3, h // 2)), (0, 0, 0)), name


# --------------------------------------------------------------------------
# refusing files


def test_decompression_bomb_refused_before_decoding(tmp_path):
    source = tmp_path / "bomb.png"
    source.write_bytes(bomb_png(30000, 30000))
    assert source.stat().st_size < 200
    with pytest.raises(PhotoError) as caught:
        process_photo(source, tmp_path / "out")
    error = caught.value
    assert error.reason == "too-large"
    text = str(error)
    assert "900000000" in text and str(Image.MAX_IMAGE_PIXELS) in text
    assert text.endswith(")") and "(image too large" in text
    assert not list((tmp_path / "out").glob("*"))


def test_decompression_warning_range_is_an_error_too(tmp_path, monkeypatch):
    """Between 1x and 2x the limit Pillow only warns; we refuse."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100)
    source = tmp_path / "big.png"
    Image.new("RGB", (150, 100), RED).save(source)  # 15000 px: warning range
    with pytest.raises(PhotoError) as caught:
        process_photo(source, tmp_path / "out")
    assert caught.value.reason == "too-large"
    assert "15000" in str(caught.value) and "10000" in str(caught.value)


def test_truncated_jpeg(tmp_path, monkeypatch):
    # Even if some other plugin allows truncated images globally.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    whole = io.BytesIO()
    noise_image((256, 256)).save(whole, "JPEG", quality=90)
    source = tmp_path / "cut.jpg"
    source.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(PhotoError) as caught:
        process_photo(source, tmp_path / "out")
    assert caught.value.reason == "truncated"
    assert str(caught.value) == "ảnh bị hỏng hoặc tải về chưa hết (truncated image file)"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored


def test_truncated_png(tmp_path):
    whole = io.BytesIO()
    noise_image((128, 128)).save(whole, "PNG")
    source = tmp_path / "cut.png"
    source.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(PhotoError) as caught:
        process_photo(source, tmp_path / "out")
    assert caught.value.reason == "truncated"


def test_text_file_named_jpg(tmp_path):
    source = tmp_path / "notes.jpg"
    source.write_text("Đây không phải là ảnh.\n", encoding="utf-8")
    with pytest.raises(PhotoError) as caught:
        process_photo(source, tmp_path / "out")
    assert caught.value.reason == "not-image"
    assert str(caught.value).endswith("(not an image)")


def test_iphone_heic_gets_a_helpful_message(tmp_path):
    source = tmp_path / "IMG_0001.HEIC"
    source.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    with pytest.raises(PhotoError) as caught:
        process_photo(source, tmp_path / "out")
    assert caught.value.reason == "not-image" and "HEIC" in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(PhotoError) as caught:
        process_photo(tmp_path / "nope.jpg", tmp_path / "out")
    assert caught.value.reason == "not-found"
    assert str(caught.value) == "không tìm thấy tệp ảnh (file not found)"
    with pytest.raises(PhotoError):
        photo_digest(tmp_path / "nope.jpg")


def test_photo_error_survives_pickling_without_traceback(tmp_path):
    """Errors come back from worker processes pickled."""
    error = PhotoError("too-large", "1.000 điểm ảnh", "1000 pixels", tmp_path / "x.png")
    again = pickle.loads(pickle.dumps(error))
    assert again == error and str(again) == str(error) and again.reason == "too-large"
    assert "Traceback" not in str(again)
    with pytest.raises(ValueError):
        PhotoError("mystery")


# --------------------------------------------------------------------------
# sizes, encoding, determinism


def test_renditions_never_upscaled_and_exact(tmp_path):
    source = tmp_path / "mid.jpg"
    noise_image((1000, 750)).save(source, quality=80)
    photo = process_photo(source, tmp_path / "out")
    assert (photo.width, photo.height) == (1000, 750)
    assert [(r.width, r.height) for r in photo.renditions] == [(480, 360), (800, 600)]
    assert (photo.thumb.width, photo.thumb.height) == THUMB_SIZE
    stem = photo.digest[:16]
    assert photo.renditions[0] == Rendition(480, 360, f"{stem}-480.webp", f"{stem}-480.jpg")
    assert (photo.thumb.webp, photo.thumb.jpeg) == (f"{stem}-thumb.webp", f"{stem}-thumb.jpg")
    for r, fmt, name in outputs(photo):
        with Image.open(tmp_path / "out" / name) as im:
            assert (im.format, im.size) == (fmt, (r.width, r.height))
    assert sorted(os.listdir(tmp_path / "out")) == sorted(photo.files())  # no temp files


def test_large_sideways_jpeg_uses_all_widths(tmp_path):
    """Exercises reduced-size JPEG decoding (draft) together with rotation:
    stored 1700x2600 with Orientation 6, displayed 2600x1700."""
    im = Image.new("RGB", (1700, 2600), GREEN)
    ImageDraw.Draw(im).rectangle([0, 0, 199, 199], fill=RED)
    exif = Image.Exif()
    exif[0x0112] = 6
    source = tmp_path / "big.jpg"
    im.save(source, quality=80, exif=exif)
    photo = process_photo(source, tmp_path / "out")
    assert (photo.width, photo.height) == (2600, 1700)
    assert [r.width for r in photo.renditions] == list(WIDTHS)
    assert [r.height for r in photo.renditions] == [314, 523, 785]
    path = tmp_path / "out" / photo.renditions[-1].jpeg
    with Image.open(path) as out:
        assert out.size == (1200, 785)
    assert near(pixel(path, (1190, 10)), RED)
    assert near(pixel(path, (10, 10)), GREEN)
    assert near(pixel(path, (600, 400)), GREEN)


def test_small_source_single_rendition_and_small_thumb(tmp_path):
    source = tmp_path / "tiny.png"
    Image.new("RGB", (300, 100), RED).save(source)
    photo = process_photo(source, tmp_path / "out")
    assert [(r.width, r.height) for r in photo.renditions] == [(300, 100)]
    # The 360x240 box shrinks to fit (factor 100/240), keeping 3:2.
    assert (photo.thumb.width, photo.thumb.height) == (150, 100)


def test_thumbnail_is_centre_crop(tmp_path):
    im = Image.new("RGB", (900, 300), RED)
    ImageDraw.Draw(im).rectangle([300, 0, 599, 299], fill=GREEN)
    ImageDraw.Draw(im).rectangle([600, 0, 899, 299], fill=BLUE)
    source = tmp_path / "wide.png"
    im.save(source)
    photo = process_photo(source, tmp_path / "out")
    thumb = tmp_path / "out" / photo.thumb.jpeg
    assert Image.open(thumb).size == (360, 240)
    # The middle 450 px (x 225..675) are kept: red edge, green centre, blue edge.
    assert near(pixel(thumb, (180, 120)), GREEN)
    assert near(pixel(thumb, (2, 120)), RED)
    assert near(pixel(thumb, (357, 120)), BLUE)


def test_encoder_settings(tmp_path):
    source = tmp_path / "p.jpg"
    noise_image((600, 400)).save(source, quality=90)
    photo = process_photo(source, tmp_path / "out")
    with Image.open(tmp_path / "out" / photo.renditions[-1].jpeg) as im:
        assert im.info.get("progressive") or im.info.get("progression")
        assert im.mode == "RGB"
    with Image.open(tmp_path / "out" / photo.renditions[-1].webp) as im:
        assert im.format == "WEBP" and im.mode == "RGB"


def test_outputs_are_byte_identical_across_runs(phone_photo, tmp_path):
    first = process_photo(phone_photo, tmp_path / "a")
    second = process_photo(phone_photo, tmp_path / "b")
    assert first == second
    for _, _, name in outputs(first):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_digest_and_json_round_trip(phone_photo, tmp_path):
    import hashlib
    photo = process_photo(phone_photo, tmp_path / "out")
    assert photo.digest == photo_digest(phone_photo)
    assert photo.digest == hashlib.sha256(phone_photo.read_bytes()).hexdigest()
    data = json.loads(json.dumps(photo.to_json()))
    assert ProcessedPhoto.from_json(data) == photo


# --------------------------------------------------------------------------
# cache


@pytest.fixture
def three_photos(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    paths = []
    for i, colour in enumerate((RED, GREEN, BLUE)):
        path = folder / f"p{i}.jpg"
        im = Image.new("RGB", (640, 480), colour)
        ImageDraw.Draw(im).ellipse([100, 100, 300, 300], fill=WHITE)
        im.save(path, quality=85)
        paths.append(str(path))
    return paths


def test_cache_second_run_processes_nothing(three_photos, tmp_path):
    cache = PhotoCache(tmp_path / "cache", tmp_path)
    first = cache.process_many(three_photos, workers=2)
    assert cache.stats == {"processed": 3, "reused": 0, "failed": 0}
    assert all(isinstance(v, ProcessedPhoto) for v in first.values())
    assert (tmp_path / "cache" / "manifest.json").is_file()
    names = [n for p in first.values() for n in p.files()]
    assert sorted(os.listdir(cache.files_dir)) == sorted(names)

    again = PhotoCache(tmp_path / "cache", tmp_path)  # as a new build would
    second = again.process_many(three_photos, workers=2)
    assert again.stats == {"processed": 0, "reused": 3, "failed": 0}
    assert second == first


def test_cache_reprocesses_only_the_changed_photo(three_photos, tmp_path):
    cache = PhotoCache(tmp_path / "cache", tmp_path)
    first = cache.process_many(three_photos, workers=1)
    Image.new("RGB", (500, 500), WHITE).save(three_photos[1], quality=85)
    second = cache.process_many(three_photos, workers=1)
    assert cache.stats == {"processed": 1, "reused": 2, "failed": 0}
    assert second[three_photos[0]] == first[three_photos[0]]
    assert second[three_photos[1]].digest != first[three_photos[1]].digest
    assert (second[three_photos[1]].width, second[three_photos[1]].height) == (500, 500)


def test_cache_errors_returned_not_raised_nor_cached(three_photos, tmp_path):
    broken = tmp_path / "src" / "broken.jpg"
    broken.write_text("not a photo")
    missing = str(tmp_path / "src" / "missing.jpg")
    sources = [*three_photos, str(broken), missing]
    cache = PhotoCache(tmp_path / "cache", tmp_path)
    results = cache.process_many(sources, workers=2)
    assert list(results) == sources
    assert results[str(broken)].reason == "not-image"
    assert results[missing].reason == "not-found"
    assert cache.stats == {"processed": 3, "reused": 0, "failed": 2}
    manifest = json.loads((tmp_path / "cache" / "manifest.json").read_text())
    assert len(manifest["photos"]) == 3
    # The broken photo is tried again next time (it may have been fixed).
    cache.process_many(sources, workers=2)
    assert cache.stats == {"processed": 0, "reused": 3, "failed": 2}


def test_cache_shares_identical_photos_and_heals_missing_files(three_photos, tmp_path):
    copy = tmp_path / "src" / "same-as-p0.jpg"
    copy.write_bytes(open(three_photos[0], "rb").read())
    cache = PhotoCache(tmp_path / "cache", tmp_path)
    results = cache.process_many([three_photos[0], str(copy)])
    assert cache.stats["processed"] == 1
    assert results[three_photos[0]] == results[str(copy)]
    # Someone cleaned the files folder but not the manifest: redo, not break.
    for name in os.listdir(cache.files_dir):
        os.unlink(cache.files_dir / name)
    cache.process_many([three_photos[0]])
    assert cache.stats["processed"] == 1


def test_cache_keys_include_parameters(three_photos, tmp_path):
    PhotoCache(tmp_path / "cache", tmp_path).process_many(three_photos[:1])
    other = PhotoCache(tmp_path / "cache", tmp_path, widths=(320,), thumb_size=(150, 100))
    result = other.process_many(three_photos[:1])[three_photos[0]]
    assert other.stats["processed"] == 1
    assert [r.width for r in result.renditions] == [320]
    assert (result.thumb.width, result.thumb.height) == (150, 100)


def test_corrupt_manifest_is_just_a_cold_cache(three_photos, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "manifest.json").write_text("{not json")
    warnings = []
    cache = PhotoCache(tmp_path / "cache", tmp_path, warn=warnings.append)
    assert len(warnings) == 1 and "manifest.json:1: " in warnings[0]
    cache.process_many(three_photos[:1])
    assert cache.stats["processed"] == 1
    json.loads((tmp_path / "cache" / "manifest.json").read_text())


def test_publish_files_copies(three_photos, tmp_path):
    cache = PhotoCache(tmp_path / "cache", tmp_path)
    photo = cache.process_many(three_photos[:1])[three_photos[0]]
    out = tmp_path / "output" / "images"
    (tmp_path / "output" / "images").mkdir(parents=True)
    (out / photo.thumb.jpeg).write_bytes(b"stale")  # replaced, not kept
    published = publish_files(photo.files(), cache.files_dir, out)
    assert sorted(p.name for p in published) == sorted(photo.files())
    for name in photo.files():
        assert (out / name).read_bytes() == (cache.files_dir / name).read_bytes()
        # A copy: damage done to output/ can never reach the cache.
        assert not os.path.samefile(out / name, cache.files_dir / name)
    publish_files(photo.files(), cache.files_dir, out)  # idempotent
    assert sorted(os.listdir(out)) == sorted(photo.files())
    for bad in ("../escape.jpg", "a/b.jpg", ".."):
        with pytest.raises(ValueError):
            publish_files([bad], cache.files_dir, out)


# --------------------------------------------------------------------------
# banners


def animated_frames(size=(400, 200), transparent=True):
    frames = []
    for i, colour in enumerate((RED, GREEN, BLUE, (255, 255, 0))):
        frame = Image.new("RGBA", size, (0, 0, 0, 0) if transparent else (*WHITE, 255))
        ImageDraw.Draw(frame).rectangle([i * 80, 20, i * 80 + 100, 180], fill=(*colour, 255))
        frames.append(frame)
    return frames


def composited(path):
    """Every frame as a browser would show it, RGBA."""
    with Image.open(path) as im:
        return [f.convert("RGBA") for f in ImageSequence.Iterator(im)]


def test_animated_gif_banner_stays_animated(tmp_path):
    frames = animated_frames()
    source = tmp_path / "ad.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:],
                   duration=[100, 200, 300, 400], loop=0, disposal=2)
    banner = process_banner(source, tmp_path / "out", 100)
    stem = photo_digest(source)[:16]
    assert banner == {"width": 100, "height": 50, "src": f"{stem}-banner-100.gif",
                      "src2x": f"{stem}-banner-200.gif", "animated": True}
    for name, size in ((banner["src"], (100, 50)), (banner["src2x"], (200, 100))):
        path = tmp_path / "out" / name
        with Image.open(path) as im:
            assert im.format == "GIF" and im.size == size
            assert im.is_animated and im.n_frames == 4
            assert im.info.get("loop") == 0
            durations = []
            for frame in ImageSequence.Iterator(im):
                durations.append(frame.info["duration"])
            assert durations == [100, 200, 300, 400]
        scale = size[0] / 400
        for i, frame in enumerate(composited(path)):
            assert frame.getpixel((1, 1))[3] == 0  # transparency kept
            x = int((i * 80 + 50) * scale)
            assert frame.getpixel((x, size[1] // 2))[3] == 255
            assert near(frame.getpixel((x, size[1] // 2)), composited(source)[i].getpixel((i * 80 + 50, 100)))
            if i:  # restore-to-background: the previous box is gone
                gone = int(((i - 1) * 80 + 20) * scale)
                assert frame.getpixel((gone, size[1] // 2))[3] == 0


@pytest.mark.parametrize("disposal", [0, 1, 3])
def test_animated_gif_disposal_methods_composite_correctly(tmp_path, disposal):
    """Partial frames over an opaque background: whatever the disposal, each
    output frame must look like the resized source frame."""
    base = Image.new("RGB", (200, 100), WHITE)
    frames = [base]
    for i, colour in enumerate((RED, GREEN, BLUE)):
        frame = frames[-1].copy() if disposal != 3 else base.copy()
        ImageDraw.Draw(frame).rectangle([10 + i * 60, 20, 50 + i * 60, 80], fill=colour)
        frames.append(frame)
    source = tmp_path / "partial.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=80,
                   disposal=disposal)  # Pillow stores only changed rectangles
    banner = process_banner(source, tmp_path / "out", 100)
    expected = [f.resize((100, 50), Image.Resampling.LANCZOS) for f in composited(source)]
    got = composited(tmp_path / "out" / banner["src"])
    assert len(got) == len(expected) == 4
    for want, have in zip(expected, got):
        for xy in ((15, 25), (45, 25), (75, 25), (5, 5), (95, 45)):
            assert near(have.getpixel(xy), want.getpixel(xy), 24), (xy, have.getpixel(xy), want.getpixel(xy))
    assert "loop" not in Image.open(tmp_path / "out" / banner["src"]).info  # plays once, as the source


def test_animated_webp_banner_stays_animated_webp(tmp_path):
    frames = animated_frames()
    source = tmp_path / "ad.webp"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=[100, 200, 300, 400],
                   loop=3, lossless=True)
    banner = process_banner(source, tmp_path / "out", 150)
    assert banner["animated"] and banner["src"].endswith(".webp")
    with Image.open(tmp_path / "out" / banner["src2x"]) as im:
        assert im.size == (300, 150) and im.n_frames == 4 and im.info["loop"] == 3


def test_static_banners_keep_their_family(tmp_path):
    # Transparent PNG logo -> PNG with alpha.
    logo = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse([200, 20, 400, 180], fill=(*RED, 255))
    logo_path = tmp_path / "logo.png"
    logo.save(logo_path)
    banner = process_banner(logo_path, tmp_path / "out", 150)
    assert banner["animated"] is False
    assert banner["src"].endswith("-banner-150.png") and banner["src2x"].endswith("-banner-300.png")
    with Image.open(tmp_path / "out" / banner["src2x"]) as im:
        assert im.mode == "RGBA" and im.size == (300, 100)
        assert im.getpixel((2, 2))[3] == 0 and im.getpixel((150, 50)) == (*RED, 255)

    # Photo banner narrower than 2x: 2x capped at the source width.
    photo_path = tmp_path / "photo.jpg"
    noise_image((250, 100)).save(photo_path)
    banner = process_banner(photo_path, tmp_path / "out", 200)
    assert (banner["width"], banner["height"]) == (200, 80)
    assert banner["src"].endswith("-200.jpg") and banner["src2x"].endswith("-250.jpg")
    with Image.open(tmp_path / "out" / banner["src2x"]) as im:
        assert im.size == (250, 100) and im.format == "JPEG"

    # Narrower than the slot: never upscaled, one file for both.
    banner = process_banner(photo_path, tmp_path / "out", 300)
    assert banner["src"] == banner["src2x"] and banner["width"] == 250


def test_long_animation_refused_by_total_pixels(tmp_path, monkeypatch):
    frames = animated_frames()  # 4 frames of 400x200 = 320000 pixels
    source = tmp_path / "long.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=100, loop=0)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200000)  # one frame is fine
    with pytest.raises(PhotoError) as caught:
        process_banner(source, tmp_path / "out", 100)
    assert caught.value.reason == "too-large" and "320000" in str(caught.value)


def test_banner_errors_and_cache(tmp_path):
    with pytest.raises(PhotoError) as caught:
        process_banner(tmp_path / "missing.gif", tmp_path / "out", 100)
    assert caught.value.reason == "not-found"

    frames = animated_frames(transparent=False)
    source = tmp_path / "ad.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=120, loop=0)
    cache = PhotoCache(tmp_path / "cache", tmp_path)
    first = cache.banner(source, 120)
    assert cache.stats["processed"] == 1
    assert (cache.files_dir / first["src"]).is_file()
    again = PhotoCache(tmp_path / "cache", tmp_path)
    assert again.banner(source, 120) == first
    assert again.stats == {"processed": 0, "reused": 1, "failed": 0}
    with Image.open(cache.files_dir / first["src"]) as im:
        assert im.n_frames == 4 and im.info["loop"] == 0


def test_warm_run_does_not_read_unchanged_photos(tmp_path, monkeypatch):
    """Size and modification time recorded: no hashing of unchanged files."""
    import portal.images as pipeline

    source = tmp_path / "a.jpg"
    Image.new("RGB", (600, 400), RED).save(source)
    first = PhotoCache(tmp_path / "cache", tmp_path).process_many([str(source)], workers=1)[str(source)]

    def must_not_hash(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(pipeline, "photo_digest", must_not_hash)
    cache = PhotoCache(tmp_path / "cache", tmp_path)
    assert cache.process_many([str(source)], workers=1)[str(source)] == first
    assert cache.stats == {"processed": 0, "reused": 1, "failed": 0}
    monkeypatch.undo()
    Image.new("RGB", (600, 400), GREEN).save(source)  # new bytes, new mtime
    changed = PhotoCache(tmp_path / "cache", tmp_path).process_many([str(source)], workers=1)[str(source)]
    assert changed.digest != first.digest
