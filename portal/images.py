"""Publishable photos and banners: resized, upright, sRGB, metadata-free.

Staff drop photos from phones and cameras beside their articles. Those files
are large, often sideways (the EXIF Orientation tag does the rotating), may be
CMYK, 16-bit or wide-gamut, and carry GPS coordinates and camera data that
must never reach the public site. This module turns each source into:

* renditions at :data:`WIDTHS` (WebP plus a JPEG fallback, never upscaled);
* a centre-cropped 3:2 thumbnail for list pages (:data:`THUMB_SIZE`);

and resizes sidebar banners (animated GIFs included) for their slot at 1x and
2x. Output names are content-addressed (derived from the SHA-256 of the source
bytes), outputs are byte-for-byte deterministic, and :class:`portal.photo_cache.PhotoCache`
remembers what was already done so an unchanged site rebuilds without
touching a single pixel.

Decisions worth knowing:

* Transparency is flattened on white for *both* the WebP and the JPEG of a
  photo: the two are alternatives in one ``<picture>``, and a reader must see
  the same picture whichever one the browser picks. (Banners keep alpha: a
  static banner with transparency is published as PNG.)
* Colour: an embedded ICC profile (Display P3 from iPhones, Adobe RGB from
  cameras, CMYK press profiles) is converted to sRGB with LittleCMS, then
  dropped; browsers treat untagged images as sRGB, so the colours stay right
  without shipping the profile.
* Long images (infographics of 1000 x 20000 px and more) are published at
  the usual widths, never dropped: WebP cannot exceed 16,383 px a side, so a
  photo whose largest rendition is taller than that is JPEG only (all its
  widths, so browsers never prefer a small WebP to a sharp JPEG); a width
  is narrowed only if even JPEG's 65,535 px would be exceeded.
* Permissions: every file written here is created with mode 0666 less the
  umask, like any file Pelican writes (0644 under umask 022), never the
  0600 of a temporary file, or a web server running as another user gets
  403 for every photo.
* Sources are opened only if they lie inside the content folder with
  symlinks resolved (:class:`portal.photo_cache.PhotoCache` knows that folder).
* Every failure becomes a :class:`PhotoError` with a short Vietnamese and
  English reason, never a traceback: the people reading build logs are
  editors, not programmers.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import math
import os
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, ImageSequence, UnidentifiedImageError

from .atomic import write_atomic
from .content_paths import real_path_inside
from .vietnamese import vi_number

logger = logging.getLogger(__name__)

try:  # LittleCMS is optional in Pillow builds; without it profiles are dropped.
    from PIL import ImageCms
except ImportError:  # pragma: no cover - depends on the Pillow build
    ImageCms = None

__all__ = [
    "WIDTHS", "THUMB_SIZE", "PhotoError", "Rendition", "ProcessedPhoto",
    "photo_digest", "process_photo", "process_banner", "WEBP_MAX", "JPEG_MAX",
]

WIDTHS = (480, 800, 1200)
THUMB_SIZE = (360, 240)  # 3:2, cropped (centre), for listing pages

# Encoder settings. Changing any of them changes output bytes, so bump
# PIPELINE_VERSION too: it is part of every cache key and forces a rebuild.
JPEG_OPTIONS = {"quality": 82, "progressive": True, "optimize": True, "subsampling": "4:2:0"}
WEBP_OPTIONS = {"quality": 80, "method": 4}
PIPELINE_VERSION = 1

# Format limits, in pixels per side. libwebp refuses anything larger than
# 16,383, and long infographics (1000 x 20000 and more) are common: a photo
# whose largest rendition is beyond it is published as JPEG only (its
# <picture> has no WebP source), so the article keeps the readable widths
# readers' phones ask for. Only beyond JPEG's own 65,535 is a width narrowed.
WEBP_MAX = 16383
JPEG_MAX = 65535

BACKGROUND = (255, 255, 255)  # what transparency is flattened onto
_RESAMPLE = Image.Resampling.LANCZOS
# Smaller renditions are resized from the next larger one, not from the
# original: 1200->800 costs a third of 2000->800 and differs from it by at
# most 2 levels out of 255 (mean 0.3). Only steps of at least this factor are
# taken from an intermediate, so quality never rests on a near-1:1 resample.
_CASCADE_MIN_FACTOR = 1.5

_ORIENTATION_TAG = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}  # orientations that turn the picture by 90 degrees


# --------------------------------------------------------------------------
# Errors

_REASONS = {
    "not-found": ("không tìm thấy tệp ảnh", "file not found"),
    "not-image": ("tệp này không phải là ảnh hoặc có định dạng không hỗ trợ", "not an image"),
    "truncated": ("ảnh bị hỏng hoặc tải về chưa hết", "truncated image file"),
    "too-large": ("ảnh quá lớn", "image too large"),
    "unreadable": ("không đọc được ảnh", "unreadable image"),
    "outside": ("tệp ảnh nằm ngoài thư mục content/ (có thể là liên kết tượng trưng), "
                "hãy chép ảnh thật vào thư mục bài viết",
                "file lies outside content/, symlinks resolved; copy the real photo in"),
}


class PhotoError(Exception):
    """A photo that cannot be published.

    ``reason`` is one of ``'not-found'``, ``'not-image'``, ``'truncated'``,
    ``'too-large'``, ``'unreadable'``, ``'outside'`` so callers can branch on it;
    ``str(e)`` is a Vietnamese sentence for the editor followed by the English
    reason in parentheses, e.g. ``'ảnh bị hỏng hoặc tải về chưa hết (truncated
    image file)'``. It never includes a traceback: build logs are read by
    newsroom staff. ``detail_vi``/``detail_en`` add specifics (pixel counts,
    the underlying error); ``path`` is the source, when known.

    Instances travel back from worker processes, hence :meth:`__reduce__`
    (exceptions with a custom ``__init__`` do not unpickle otherwise).
    """

    def __init__(self, reason, detail_vi=None, detail_en=None, path=None):
        if reason not in _REASONS:
            raise ValueError(f"unknown PhotoError reason {reason!r}")
        self.reason = reason
        self.detail_vi = detail_vi
        self.detail_en = detail_en
        self.path = None if path is None else os.fspath(path)
        vi, en = _REASONS[reason]
        if detail_vi:
            vi = f"{vi}: {detail_vi}"
        if detail_en:
            en = f"{en}: {detail_en}"
        super().__init__(f"{vi} ({en})")

    def __reduce__(self):
        return (type(self), (self.reason, self.detail_vi, self.detail_en, self.path))

    def __eq__(self, other):
        return (isinstance(other, PhotoError)
                and self.__reduce__()[1] == other.__reduce__()[1])

    __hash__ = Exception.__hash__


def _one_line(exc):
    """``ExcType: message`` on a single line, for error details."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _too_large(pixels, limit, path):
    if pixels is None:
        return PhotoError("too-large", f"giới hạn {vi_number(limit)} điểm ảnh",
                          f"limit {limit} pixels", path)
    return PhotoError(
        "too-large",
        f"{vi_number(pixels)} điểm ảnh, vượt giới hạn {vi_number(limit)}",
        f"{pixels} pixels, limit {limit}",
        path,
    )


# --------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Rendition:
    """One published size: a WebP and its JPEG fallback, same dimensions.

    ``webp`` and ``jpeg`` are bare file names, relative to the output folder;
    ``webp`` is ``None`` for a size beyond WebP's limit (:data:`WEBP_MAX`).
    """

    width: int
    height: int
    webp: str | None
    jpeg: str

    def to_json(self):
        return {"width": self.width, "height": self.height, "webp": self.webp, "jpeg": self.jpeg}

    @classmethod
    def from_json(cls, d):
        webp = d["webp"]
        # Names from a manifest on disk are published: bare names only.
        if not (webp is None or bare_name(webp)) or not bare_name(d["jpeg"]):
            raise TypeError("rendition file names must be bare file names")
        return cls(_positive(d["width"]), _positive(d["height"]), webp, d["jpeg"])


def bare_name(name):
    """A file name with no folder part: it cannot write outside out_dir."""
    return (isinstance(name, str) and bool(name) and name not in (".", "..")
            and os.path.basename(name) == name and "/" not in name and "\x00" not in name)


def _positive(value):
    """A JSON pixel count: an int >= 1 (``bool`` is an int to Python)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"not a positive integer: {value!r}")
    return value


@dataclass(frozen=True)
class ProcessedPhoto:
    """What templates need to emit ``<picture>``/``srcset`` for one photo.

    ``width``/``height`` are those of the upright original (after EXIF
    orientation). ``renditions`` ascend by width and are never upscaled:
    widths larger than the original are dropped, and an original narrower
    than the smallest width gets one rendition at its own width.
    """

    digest: str
    width: int
    height: int
    renditions: tuple[Rendition, ...]
    thumb: Rendition

    def files(self):
        """Every file name this photo needs published (renditions + thumb)."""
        names = []
        for r in (*self.renditions, self.thumb):
            names += [name for name in (r.webp, r.jpeg) if name]
        return tuple(names)

    def to_json(self):
        return {
            "digest": self.digest,
            "width": self.width,
            "height": self.height,
            "renditions": [r.to_json() for r in self.renditions],
            "thumb": self.thumb.to_json(),
        }

    @classmethod
    def from_json(cls, d):
        if not isinstance(d["digest"], str) or not isinstance(d["renditions"], list) \
                or not d["renditions"]:
            raise TypeError("digest must be a string and renditions a non-empty list")
        return cls(
            digest=d["digest"],
            width=_positive(d["width"]),
            height=_positive(d["height"]),
            renditions=tuple(Rendition.from_json(r) for r in d["renditions"]),
            thumb=Rendition.from_json(d["thumb"]),
        )


# --------------------------------------------------------------------------
# Reading safely


def _open_source(path, root):
    """Open a source photo for reading, refusing anything outside ``root``.

    Git carries symlinks, so a pulled ``content/`` may hold ``anh.jpg ->
    /etc/passwd``. Callers upstream should already refuse those; this is
    the last line, so the pipeline never opens one whoever calls it. The
    real path is opened, with O_NOFOLLOW, so the file checked is the file
    read. ``root=None`` (direct calls from tests and tools) skips the check.
    """
    real = path
    if root is not None:
        if not real_path_inside(root, path):
            raise PhotoError("outside", path=path)
        real = os.path.realpath(path)
    try:
        # O_NONBLOCK: opening a FIFO named like a photo must not hang the
        # build (it is refused just below; regular files ignore the flag).
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder, a FIFO, a device
            os.close(fd)
            raise PhotoError("not-found", path=path)
        return os.fdopen(fd, "rb")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise PhotoError("not-found", path=path) from None
    except OSError as exc:
        raise PhotoError("unreadable", _one_line(exc), _one_line(exc), path) from None


def photo_digest(path, root=None):
    """SHA-256 hex of the file's bytes: the photo's identity.

    Names and cache keys derive from content, not from file names or mtimes,
    so renaming or touching a photo costs nothing and two articles sharing
    one photo share its files. Raises :class:`PhotoError` ('not-found',
    'unreadable', 'outside').
    """
    h = hashlib.sha256()
    with _open_source(path, root) as f:
        try:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        except OSError as exc:
            raise PhotoError("unreadable", _one_line(exc), _one_line(exc), path) from None
    return h.hexdigest()


def _read_source(path, root=None):
    """The file's bytes and their digest, read once.

    Decoding from the very bytes that were hashed means a file being
    replaced mid-build can never yield outputs named after other content.
    """
    with _open_source(path, root) as f:
        try:
            data = f.read()
        except OSError as exc:
            raise PhotoError("unreadable", _one_line(exc), _one_line(exc), path) from None
    return data, hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _strict_decoding():
    """Decompression-bomb warnings become errors; truncated files fail.

    Pillow only *warns* between 1x and 2x ``Image.MAX_IMAGE_PIXELS``; a build
    must refuse those too, so the warning is escalated. A site-wide
    ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` (set by some other plugin)
    would make half-downloaded photos publish with a grey bottom half, so it
    is forced off here and restored afterwards. Both are process-global
    settings: this is meant for single-threaded callers (each worker process
    of :class:`PhotoCache` is one).
    """
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


_KNOWN_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


def _unidentified(data, path):
    """Pillow could not identify the file: say why as precisely as we can."""
    if not data:
        return PhotoError("not-image", "tệp rỗng", "empty file", path)
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return PhotoError(
            "not-image",
            "ảnh HEIC/HEIF (iPhone) chưa được hỗ trợ, hãy xuất sang JPEG",
            "HEIC/HEIF is not supported, export as JPEG",
            path,
        )
    if data.startswith(_KNOWN_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        # The signature of a real image, but not even its header decodes:
        # almost always a copy or download that stopped early.
        return PhotoError("truncated", path=path)
    return PhotoError("not-image", path=path)


_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def _open(data, path):
    """Open ``data`` with Pillow and check its declared size (no decoding).

    Must run inside :func:`_strict_decoding`.
    """
    limit = Image.MAX_IMAGE_PIXELS
    try:
        im = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        match = _BOMB_PIXELS.search(str(exc))
        raise _too_large(int(match.group(1)) if match else None, limit, path) from None
    except UnidentifiedImageError:
        raise _unidentified(data, path) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if data.startswith(_KNOWN_MAGIC):
            raise PhotoError("truncated", path=path) from None
        raise PhotoError("unreadable", _one_line(exc), _one_line(exc), path) from None
    # Belt and braces: the check above depends on Pillow's warning path.
    pixels = im.size[0] * im.size[1]
    if limit is not None and pixels > limit:
        raise _too_large(pixels, limit, path)
    return im


def _load(im, path):
    """Decode the pixels; map decoder failures to PhotoError reasons."""
    try:
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(None, Image.MAX_IMAGE_PIXELS, path) from None
    except MemoryError:
        raise PhotoError("too-large", "không đủ bộ nhớ", "out of memory", path) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc).lower()
        if any(word in text for word in ("truncated", "broken", "premature", "end of file")) \
                or isinstance(exc, EOFError):
            raise PhotoError("truncated", path=path) from None
        raise PhotoError("unreadable", _one_line(exc), _one_line(exc), path) from None


def _orientation(im):
    """EXIF orientation (1..8), 1 when absent or unreadable."""
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # malformed EXIF is common; it only costs us rotation
        return 1
    return value if value in range(1, 9) else 1


def _upright(im):
    """Apply the EXIF orientation to ``im`` in place and return it.

    In place because ``im`` is always our own freshly decoded image: a copy
    of a 12-megapixel photo is ~36 MB and measurable time for nothing.
    Malformed EXIF: leave the image as it is rather than fail the photo.
    """
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except Exception:
        pass
    return im


# --------------------------------------------------------------------------
# Colour


_SRGB = None
_TRANSFORMS = {}


def _srgb_transform(icc, mode):
    """A cached LittleCMS transform from ``icc`` (in ``mode``) to sRGB RGB."""
    global _SRGB
    key = (hashlib.sha256(icc).digest(), mode)
    if key not in _TRANSFORMS:
        if _SRGB is None:
            _SRGB = ImageCms.createProfile("sRGB")
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        _TRANSFORMS[key] = ImageCms.buildTransform(
            source, _SRGB, mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
        if len(_TRANSFORMS) > 32:  # a build sees a handful of distinct profiles
            _TRANSFORMS.pop(next(iter(_TRANSFORMS)))
    return _TRANSFORMS[key]


def _split_alpha(im):
    """``(colour, alpha)``: colour in 'L', 'RGB' or 'CMYK'; alpha or None.

    Every exotic mode a photo can arrive in is mapped here, before any
    resizing: palette images must not be resampled as indices, and 16-bit
    greyscale must be scaled down, not clipped (Pillow's own I;16 -> L
    conversion clips, turning anything above 255 of 65535 white).
    """
    mode = im.mode
    if "transparency" in im.info and mode in ("L", "RGB", "P"):
        # Colour-key transparency (PNG tRNS, GIF): make it a real alpha band.
        im = im.convert("LA" if mode == "L" else "RGBA")
        mode = im.mode
    if mode in ("P", "PA", "RGBa", "RGBA"):
        im = im.convert("RGBA")
        return im.convert("RGB"), im.getchannel("A")
    if mode in ("LA", "La"):
        im = im.convert("LA")
        return im.getchannel("L"), im.getchannel("A")
    if mode in ("L", "RGB", "CMYK"):
        return im, None
    if mode == "1":
        return im.convert("L"), None
    if mode.startswith("I;16") or mode == "I":
        # 16-bit samples (PNG/TIFF): keep the top 8 bits.
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L"), None
    return im.convert("RGB"), None  # RGBX, YCbCr, LAB, HSV, F ...


def _to_srgb(colour, icc):
    """``colour`` (L/RGB/CMYK) as an sRGB 'RGB' image without a profile."""
    if icc and ImageCms is not None:
        try:
            return ImageCms.applyTransform(colour, _srgb_transform(icc, colour.mode))
        except Exception:
            pass  # broken or mismatched profile: fall back to plain conversion
    return colour if colour.mode == "RGB" else colour.convert("RGB")


def _normalise(im, keep_alpha):
    """Upright-decoded ``im`` -> clean sRGB 'RGB' (or 'RGBA' if kept).

    May return ``im`` itself, altered: callers pass an image they own.

    ``info`` is emptied: Pillow copies ``info`` into every derived image and
    some encoders read from it (JPEG re-emits ``comment``), so clearing it is
    what guarantees no metadata leaks into the published files.
    """
    icc = im.info.get("icc_profile")
    colour, alpha = _split_alpha(im)
    rgb = _to_srgb(colour, icc)
    if alpha is not None and alpha.getextrema()[0] < 255:
        if keep_alpha:
            rgb.putalpha(alpha)
        else:
            flat = Image.new("RGB", rgb.size, BACKGROUND)
            flat.paste(rgb, mask=alpha)
            rgb = flat
    rgb.info = {}
    return rgb


# --------------------------------------------------------------------------
# Writing


def _encode(im, fmt, **options):
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def _write_pair(im, out_dir, stem, webp=True):
    """Save ``im`` as ``stem.webp`` (unless not ``webp``) and ``stem.jpg``;
    return the names, ``None`` for the WebP not written."""
    jpeg = f"{stem}.jpg"
    if webp:
        webp = f"{stem}.webp"
        write_atomic(out_dir / webp, _encode(im, "WEBP", **WEBP_OPTIONS), durable=False)
    write_atomic(out_dir / jpeg, _encode(im, "JPEG", **JPEG_OPTIONS), durable=False)
    return webp or None, jpeg


def _scaled_height(width, height, new_width):
    return max(1, round(height * new_width / width))


def _check_sizes(widths, thumb_size):
    widths = tuple(sorted({int(w) for w in widths}))
    if not widths or widths[0] < 1:
        raise ValueError(f"widths must be positive integers, got {widths!r}")
    tw, th = (int(v) for v in thumb_size)
    if tw < 1 or th < 1:
        raise ValueError(f"thumb_size must be positive, got {thumb_size!r}")
    return widths, (tw, th)


def _plan(width, height, widths, thumb_size):
    """Rendition widths and the thumbnail size for an upright W x H original."""
    planned = [w for w in widths if w <= width] or [width]
    # JPEG cannot be taller than JPEG_MAX: only then is a width narrowed.
    widest = max(1, math.floor(JPEG_MAX * width / height))
    planned = sorted({min(w, widest) for w in planned})
    tw, th = thumb_size
    factor = min(1.0, width / tw, height / th)  # shrink the box, keep 3:2
    thumb = (max(1, round(tw * factor)), max(1, round(th * factor)))
    return planned, thumb


def _draft(im, upright_w, upright_h, need_w, thumb):
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that is still enough.

    A 12-megapixel phone photo only ever yields 1200 pixel renditions; DCT
    scaling skips most of the decoding work and memory. The requested size
    keeps every output a downscale (never an upscale) of what is decoded.
    """
    if im.format not in ("JPEG", "MPO"):
        return
    scale = max(need_w / upright_w, thumb[0] / upright_w, thumb[1] / upright_h)
    if scale >= 0.5:
        return
    raw_w, raw_h = im.size
    im.draft(None, (math.ceil(raw_w * scale), math.ceil(raw_h * scale)))


def _resize_base(made, w, h):
    """The smallest of ``made`` (largest first) worth resizing to w x h from:
    exactly that size, or at least _CASCADE_MIN_FACTOR times bigger."""
    best = made[0]
    for im in made[1:]:
        if im.size == (w, h) or (im.width >= w * _CASCADE_MIN_FACTOR
                                 and im.height >= h * _CASCADE_MIN_FACTOR):
            best = im
    return best


def _thumb_base(made, thumb):
    """The smallest of ``made`` whose centre crop still covers the thumbnail
    ``_CASCADE_MIN_FACTOR`` times over."""
    tw, th = thumb
    best = made[0]
    for im in made[1:]:
        if min(im.width / tw, im.height / th) >= _CASCADE_MIN_FACTOR:
            best = im
    return best


def process_photo(source_path, out_dir, widths=WIDTHS, thumb_size=THUMB_SIZE, root=None):
    """Publish one photo into ``out_dir``; return its :class:`ProcessedPhoto`.

    Steps, in this order on purpose: read and hash the bytes; check the
    declared pixel count (decompression bombs) before decoding anything;
    decode strictly (truncated files fail); apply EXIF orientation; convert to
    sRGB and flatten transparency on white; drop every metadata block; resize
    (Lanczos, never upscaling) and encode WebP + JPEG per width, plus a
    centre-cropped thumbnail.

    Files are named ``{digest[:16]}-{width}.webp``/``.jpg`` and
    ``{digest[:16]}-thumb.webp``/``.jpg``. The same input always gives
    byte-identical files, so rebuilds and deploys do not churn.

    A source outside ``root`` (symlinks resolved) is refused unread.

    Raises :class:`PhotoError` for any photo that cannot be published.
    """
    widths, thumb_size = _check_sizes(widths, thumb_size)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data, digest = _read_source(source_path, root)
    stem = digest[:16]
    try:
        with _strict_decoding():
            im = _open(data, source_path)
            orientation = _orientation(im)
            raw_w, raw_h = im.size
            width, height = (raw_h, raw_w) if orientation in _SWAPS_AXES else (raw_w, raw_h)
            planned, thumb = _plan(width, height, widths, thumb_size)
            _draft(im, width, height, planned[-1], thumb)
            _load(im, source_path)
            loaded = im.size
            _upright(im)
            if loaded[0] != loaded[1] and (im.size != loaded) != (orientation in _SWAPS_AXES):
                # exif_transpose read the tag differently from us (malformed
                # EXIF): trust the pixels, so renditions are never squashed.
                width, height = height, width
                planned, thumb = _plan(width, height, widths, thumb_size)
            rgb = _normalise(im, keep_alpha=False)

        # Largest first, each from the smallest image already made that is
        # comfortably bigger (see _CASCADE_MIN_FACTOR).
        made = [rgb]
        renditions = []
        # All or none: a <picture> offering WebP at some widths only would
        # make browsers pick a small WebP over a sharp JPEG (see WEBP_MAX).
        webp = max(planned[-1], _scaled_height(width, height, planned[-1])) <= WEBP_MAX
        for w in reversed(planned):
            h = _scaled_height(width, height, w)
            base = _resize_base(made, w, h)
            resized = base if base.size == (w, h) else base.resize((w, h), _RESAMPLE)
            made.append(resized)
            webp_name, jpeg = _write_pair(resized, out_dir, f"{stem}-{w}", webp)
            renditions.insert(0, Rendition(w, h, webp_name, jpeg))

        small = ImageOps.fit(_thumb_base(made, thumb), thumb, _RESAMPLE, centering=(0.5, 0.5))
        webp, jpeg = _write_pair(small, out_dir, f"{stem}-thumb")
    except PhotoError:
        raise
    except MemoryError:
        raise PhotoError("too-large", "không đủ bộ nhớ", "out of memory", source_path) from None
    except Exception as exc:  # a Pillow corner we did not foresee
        raise PhotoError("unreadable", _one_line(exc), _one_line(exc), source_path) from None
    return ProcessedPhoto(digest, width, height, tuple(renditions), Rendition(*thumb, webp, jpeg))


# --------------------------------------------------------------------------
# Banners


def _banner_sizes(width, height, slot):
    """(1x, 2x) sizes for a ``slot``-wide banner, never upscaled."""
    w1 = min(slot, width)
    w2 = min(2 * slot, width)
    return ((w1, _scaled_height(width, height, w1)), (w2, _scaled_height(width, height, w2)))


def _frames(im, sizes, path):
    """Composited frames of an animation, resized to each of ``sizes``.

    Returns ``({size: [RGBA frames]}, durations_ms)``. Pillow's GIF, APNG and
    WebP readers composite each frame onto the canvas honouring the previous
    frame's disposal method (GIF: leave / restore-to-background /
    restore-to-previous), so each frame seen here is exactly what a browser
    shows at that moment; resizing these full frames, rather than the raw
    sub-rectangles stored in the file, is what keeps disposal correct.
    Frames are resized as they are decoded so memory stays proportional to
    the small output, not to frames x full canvas.
    """
    resized = {size: [] for size in sizes}
    durations = []
    for frame in ImageSequence.Iterator(im):
        _load(frame, path)
        rgba = frame.convert("RGBA")
        rgba.info = {}
        for size in resized:
            resized[size].append(rgba if rgba.size == size else rgba.resize(size, _RESAMPLE))
        durations.append(int(frame.info.get("duration", 0) or 0))
    return resized, durations


def _check_animation_size(im, path):
    """Refuse animations whose frames add up to more than the pixel limit.

    Pillow's bomb check looks at one frame; a 2000-frame GIF of modest size
    would still take minutes to decode on every cold build.
    """
    limit = Image.MAX_IMAGE_PIXELS
    total = im.size[0] * im.size[1] * getattr(im, "n_frames", 1)
    if limit is not None and total > limit:
        raise PhotoError(
            "too-large",
            f"ảnh động tổng cộng {vi_number(total)} điểm ảnh, vượt giới hạn {vi_number(limit)}",
            f"animation totals {total} pixels, limit {limit}",
            path,
        )


def _merge_repeats(frames, durations):
    """Fold consecutive identical frames into one, summing durations.

    GIF and APNG writers do this silently; doing it ourselves lets us check
    the written file has exactly the frames we meant.
    """
    out_f, out_d = [frames[0]], [durations[0]]
    for frame, duration in zip(frames[1:], durations[1:]):
        if frame.tobytes() == out_f[-1].tobytes():
            out_d[-1] += duration
        else:
            out_f.append(frame)
            out_d.append(duration)
    return out_f, out_d


def _gif_frame(rgba, transparent):
    """Quantise one RGBA frame to a GIF palette (index 255 = transparent).

    Each frame gets its own 255-colour median-cut palette; no dithering,
    because per-frame dither noise flickers in animations. GIF transparency
    is 1-bit, so alpha is thresholded at 50%.
    """
    p = rgba.convert("RGB").quantize(
        colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    palette = p.getpalette()[: 255 * 3]
    palette += [0, 0, 0] * (256 - len(palette) // 3)
    p.putpalette(palette)
    if transparent:
        clear = rgba.getchannel("A").point(lambda a: 255 if a < 128 else 0, "1")
        p.paste(255, mask=clear)
    p.info = {"transparency": 255} if transparent else {}
    return p


def _encode_animation(frames, durations, fmt, loop):
    """Encode full RGBA frames as an animated GIF, WebP or APNG."""
    buf = io.BytesIO()
    looping = {} if loop is None else {"loop": loop}
    if fmt == "GIF":
        transparent = any(f.getchannel("A").getextrema()[0] < 128 for f in frames)
        pal = [_gif_frame(f, transparent) for f in frames]
        # Full composited frames: with transparency each must replace the
        # last (disposal 2, restore to background); opaque ones may simply
        # paint over it (disposal 1), which lets Pillow store only changes.
        pal[0].save(
            buf, "GIF", save_all=True, append_images=pal[1:], duration=durations,
            disposal=2 if transparent else 1, **looping,
        )
    elif fmt == "WEBP":
        frames[0].save(
            buf, "WEBP", save_all=True, append_images=frames[1:], duration=durations,
            loop=0 if loop is None else loop, **WEBP_OPTIONS,
        )
    else:  # APNG; OP_SOURCE blending because each frame is the whole picture
        from PIL import PngImagePlugin
        frames[0].save(
            buf, "PNG", save_all=True, append_images=frames[1:], duration=durations,
            disposal=PngImagePlugin.Disposal.OP_NONE, blend=PngImagePlugin.Blend.OP_SOURCE,
            **looping,
        )
    return buf.getvalue()


_ANIMATED_EXT = {"GIF": "gif", "WEBP": "webp", "PNG": "png"}


def process_banner(source_path, out_dir, width, root=None):
    """Resize a sidebar banner for a ``width``-pixel slot, at 1x and 2x.

    Returns ``{'width', 'height', 'src', 'src2x', 'animated'}`` where width
    and height are those of the 1x file (for the ``<img>`` attributes). Never
    upscaled: a source narrower than ``2*width`` gives a 2x at its own width,
    and narrower than ``width`` gives the same file for both.

    Banners keep their format family, because advertisers' creatives depend
    on it: an animated GIF stays an animated GIF (every frame, durations,
    loop count and transparency; animated WebP/APNG stay animated in their
    own format); a static image with real transparency becomes PNG; anything
    else JPEG. Names are ``{digest[:16]}-banner-{w}.{ext}``. A source
    outside ``root`` (symlinks resolved) is refused unread. Raises
    :class:`PhotoError`.
    """
    width = int(width)
    if width < 1:
        raise ValueError(f"banner width must be positive, got {width}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data, digest = _read_source(source_path, root)
    stem = f"{digest[:16]}-banner"
    try:
        with _strict_decoding():
            im = _open(data, source_path)
            animated = bool(getattr(im, "is_animated", False)) and im.format in _ANIMATED_EXT
            if animated:
                fmt, ext = im.format, _ANIMATED_EXT[im.format]
                loop = im.info.get("loop")
                _check_animation_size(im, source_path)
                sizes = _banner_sizes(*im.size, width)
                frames, durations = _frames(im, set(sizes), source_path)
            else:
                _load(im, source_path)
                still = _normalise(_upright(im), keep_alpha=True)
                sizes = _banner_sizes(*still.size, width)
                ext = "png" if still.mode == "RGBA" else "jpg"

        names = []
        for w, h in sizes:
            name = f"{stem}-{w}.{ext}"
            if name in names:  # source narrower than the slot: one file
                names.append(name)
                continue
            if animated:
                scaled, durs = _merge_repeats(frames[(w, h)], durations)
                blob = _encode_animation(scaled, durs, fmt, loop)
                _verify_animation(blob, len(scaled), source_path)
            else:
                scaled = still if still.size == (w, h) else still.resize((w, h), _RESAMPLE)
                if ext == "png":
                    blob = _encode(scaled, "PNG", optimize=True)
                else:
                    blob = _encode(scaled, "JPEG", **JPEG_OPTIONS)
            write_atomic(out_dir / name, blob, durable=False)
            names.append(name)
    except PhotoError:
        raise
    except MemoryError:
        raise PhotoError("too-large", "không đủ bộ nhớ", "out of memory", source_path) from None
    except Exception as exc:
        raise PhotoError("unreadable", _one_line(exc), _one_line(exc), source_path) from None
    (w1, h1), _ = sizes
    return {"width": w1, "height": h1, "src": names[0], "src2x": names[1], "animated": animated}


def _verify_animation(blob, expected, path):
    """Re-open what we wrote: still animated, with every frame we meant."""
    with Image.open(io.BytesIO(blob)) as check:
        frames = getattr(check, "n_frames", 1)
        if expected > 1 and (frames != expected or not check.is_animated):
            raise PhotoError(
                "unreadable",
                f"ảnh động sau khi thu nhỏ còn {frames}/{expected} khung hình",
                f"resized animation has {frames} of {expected} frames",
                path,
            )
