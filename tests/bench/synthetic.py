"""A synthetic portal of N articles for benchmarks, made from the sample
content's own sentences (realistic Vietnamese, realistic lengths).
Deterministic: the same N and options give the same files.

``make_site(target, count)`` alone writes what bench_check and bench_search
measure (5 categories, one tag, no photos). The keyword options make the
portal bench_build measures: more categories, several tags per article,
photos (small JPEGs made with Pillow) on some articles, attachments on
others, a view counted for every article, and the sample site's pages,
feeds, banners and images copied in.
"""

import io
import json
import random
import re
import shutil
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = {
    "tin-tuc-su-kien": "Tin tức - Sự kiện",
    "xay-dung-dang": "Xây dựng Đảng",
    "hoc-tap-va-lam-theo-bac": "Học tập và làm theo Bác",
    "van-hoa-xa-hoi": "Văn hóa - Xã hội",
    "quoc-phong-an-ninh": "Quốc phòng - An ninh",
}
# The sample site's five plus three more a provincial board publishes; the
# folder names are what Pelican's slugify makes of the names (the addresses).
MORE_CATEGORIES = {
    **CATEGORIES,
    "kinh-te": "Kinh tế",
    "du-luan-xa-hoi": "Dư luận xã hội",
    "thong-tin-doi-ngoai": "Thông tin đối ngoại",
}
ONE_TAG = ["đại hội", "Đảng bộ", "nông thôn mới", "quốc phòng", "văn hóa"]
# Tags as the sample articles write them (one spelling per slug), and more.
TAG_POOL = [
    "đại hội", "Đảng bộ", "nông thôn mới", "quốc phòng", "văn hóa", "chuyên đề năm 2020",
    "Chỉ thị 05-CT/TW", "Bù Đốp", "đại đoàn kết", "đoàn viên thanh niên", "Đồng Xoài", "Tháng Thanh niên",
    "điển hình tiên tiến", "Hớn Quản", "cựu chiến binh", "làm kinh tế giỏi", "Phú Riềng", "biên giới",
    "bộ đội biên phòng", "COVID-19", "giao quân", "nghĩa vụ quân sự", "an ninh trật tự",
    "phòng chống tội phạm", "Bình Long", "diễn tập", "khu vực phòng thủ", "dân quân tự vệ", "Chơn Thành",
    "y tế", "Huy hiệu Đảng", "Bù Đăng", "Đồng Phú", "giao thông nông thôn", "hạt điều", "Bù Gia Mập",
    "hợp tác xã", "an sinh xã hội", "dân tộc thiểu số", "cồng chiêng", "giáo dục", "khuyến học",
    "Lộc Ninh", "nhiệm kỳ 2020-2025", "sinh hoạt chi bộ", "Phước Long", "xây dựng Đảng",
    "phát triển đảng viên", "cải cách hành chính", "chuyển đổi số",
]
AUTHORS = ["P.V", "H. Sơn", "Hoàng Phúc", "Hồng Nhung", "Kim Oanh", "Minh Hải", "Quốc Đạt",
           "Thanh Tùng", "Thu Hà", "Văn Thành", "Đức Anh", "Đức Dũng", "Bảo Ngọc"]


def _sentences():
    sentences = []
    for path in sorted((ROOT / "content" / "articles").glob("*/*/index.md")):
        body = path.read_text(encoding="utf-8").split("\n\n", 1)[1]
        for paragraph in body.split("\n\n"):
            if paragraph.startswith(("#", "!")):
                continue
            sentences += [s.strip() for s in re.split(r"(?<=[.;!?])\s+", paragraph) if len(s.split()) > 5]
    return sentences


def paragraphs_of(rng, sentences, words):
    """About ``words`` words of paragraphs, with one heading in the middle."""
    paragraphs, total = [], 0
    while total < words:
        paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 6)))
        paragraphs.append(paragraph)
        total += len(paragraph.split())
    paragraphs.insert(len(paragraphs) // 2, "## " + " ".join(rng.choice(sentences).split()[:6]))
    return paragraphs


def photo_jpeg(rng, width=800, height=533):
    """A small photo-like JPEG (gradient sky, shapes, noise-free): distinct
    bytes per call, so the photo cache processes each one."""
    from PIL import Image, ImageDraw, ImageFilter

    top = tuple(rng.randint(60, 200) for _ in range(3))
    bottom = tuple(rng.randint(20, 160) for _ in range(3))
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / (height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    for _ in range(rng.randint(8, 16)):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randint(20, width // 3), rng.randint(20, height // 3)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1.5))
    data = io.BytesIO()
    image.save(data, "JPEG", quality=82)
    return data.getvalue()


def pdf_bytes(title, pages=2):
    """A small valid PDF (text pages, Flate-compressed) for attachments."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None,
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for number in range(pages):
        text = f"BT /F1 14 Tf 72 720 Td ({title} - trang {number + 1}) Tj ET".encode("latin-1", "replace")
        stream = zlib.compress(text * 40)
        objects.append(f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode("latin-1") + stream
                       + b"\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {len(objects)} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>"
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        body = body if isinstance(body, bytes) else body.encode("latin-1")
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _copy_sample(content):
    """The sample site's pages, images, banners, banners.yml and feeds."""
    source = ROOT / "content"
    shutil.rmtree(content / "pages")
    for folder in ("pages", "images", "banners", "feeds"):
        shutil.copytree(source / folder, content / folder)
    shutil.copy2(source / "banners.yml", content / "banners.yml")


def make_site(target, count, words=800, seed=2020, *, categories=None, tags=None, photo_every=0,
              attachment_every=0, sample=False, views=False):
    """Write ``count`` articles (about ``words`` words each) under
    ``target/content``; returns the content folder.

    Options (the defaults give the same files as ever):
    ``categories``: ``{folder: name}`` (default the sample's five;
    ``MORE_CATEGORIES`` has eight); ``tags``: ``(fewest, most)`` tags per
    article from ``TAG_POOL`` (default one of five); ``photo_every``: one
    article in that many has a photo, beside its ``index.md``, alternately
    the lead photo (``Image:``/``ImageCaption:``) and a figure in the body
    (``![alt](photo.jpg "Caption")``); ``attachment_every``: one article in
    that many has a PDF under ``Attachments:``; ``sample``: copy the sample
    site's pages, images, banners (and banners.yml) and feeds; ``views``:
    with ``sample``, replace views.json by one counting every article.
    """
    rng = random.Random(seed)
    media_rng = random.Random(seed + 1)  # photos etc. never shift the text
    sentences = _sentences()
    categories = categories or CATEGORIES
    content = Path(target) / "content"
    if content.exists():
        shutil.rmtree(content)
    (content / "pages").mkdir(parents=True)
    shutil.copytree(ROOT / "content" / "extra", content / "extra")
    if sample:
        _copy_sample(content)
    slugs = list(categories)
    counted = {}
    for number in range(count):
        folder_slug = slugs[number % len(slugs)]
        title_words = rng.choice(sentences).rstrip(".;").split()[:12]
        title = " ".join(title_words) + f" (số {number})"
        slug = f"bai-{number:05d}"
        paragraphs = paragraphs_of(rng, sentences, words)
        day = number % 28 + 1
        month = number // 28 % 12 + 1
        year = 2016 + number // 336 % 10
        if tags:
            article_tags = ", ".join(media_rng.sample(TAG_POOL, media_rng.randint(*tags)))
        else:
            article_tags = rng.choice(ONE_TAG)
        author = media_rng.choice(AUTHORS) if tags else "P.V"
        header = (
            f"Title: {title}\nSlug: {slug}\nDate: {year}-{month:02d}-{day:02d} {8 + number % 9:02d}:{number % 60:02d}\n"
            f"Category: {categories[folder_slug]}\nTags: {article_tags}\n"
            f"Author: {author}\nSummary: {rng.choice(sentences)}\n"
        )
        folder = content / "articles" / folder_slug / slug
        folder.mkdir(parents=True)
        if photo_every and number % photo_every == 0:
            name = f"anh-{number:05d}.jpg"
            (folder / name).write_bytes(photo_jpeg(media_rng))
            caption = re.sub(r'["\[\]()]', "", " ".join(media_rng.choice(sentences).split()[:14])).rstrip(".,;:")
            if number // photo_every % 2 == 0:
                header += f"Image: {name}\nImageCaption: {caption}\n"
            else:
                alt = " ".join(caption.split()[:6]).rstrip(".,;:")
                paragraphs.insert(1, f'![{alt}]({name} "{caption}")')
        if attachment_every and number % attachment_every == 3 % attachment_every:
            name = f"ke-hoach-{number:05d}.pdf"
            (folder / name).write_bytes(pdf_bytes(f"Ke hoach so {number}", pages=media_rng.randint(1, 4)))
            header += f"Attachments:\n    {name} | Kế hoạch số {number}/KH-BTG\n"
        header += "Status: published\n\n"
        (folder / "index.md").write_text(header + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        counted[f"{folder_slug}/{slug}.html"] = media_rng.randint(20, 5000) if views else 0
    if sample and views:
        ordered = dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))
        (content / "feeds" / "views.json").write_text(
            json.dumps({"updated": "2020-08-14T11:00:00+07:00", "views": ordered}, ensure_ascii=False, indent=1)
            + "\n", encoding="utf-8")
    return content
