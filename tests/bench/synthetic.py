"""A synthetic portal of N articles for benchmarks, made from the sample
content's own sentences (realistic Vietnamese, realistic lengths).
Deterministic: the same N gives the same files."""

import random
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = {
    "tin-tuc-su-kien": "Tin tức - Sự kiện",
    "xay-dung-dang": "Xây dựng Đảng",
    "hoc-tap-va-lam-theo-bac": "Học tập và làm theo Bác",
    "van-hoa-xa-hoi": "Văn hóa - Xã hội",
    "quoc-phong-an-ninh": "Quốc phòng - An ninh",
}


def _sentences():
    sentences = []
    for path in sorted((ROOT / "content" / "articles").glob("*/*/index.md")):
        body = path.read_text(encoding="utf-8").split("\n\n", 1)[1]
        for paragraph in body.split("\n\n"):
            if paragraph.startswith(("#", "!")):
                continue
            sentences += [s.strip() for s in re.split(r"(?<=[.;!?])\s+", paragraph) if len(s.split()) > 5]
    return sentences


def make_site(target, count, words=800, seed=2020):
    """Write ``count`` articles (about ``words`` words each) under
    ``target/content``; returns the content folder."""
    rng = random.Random(seed)
    sentences = _sentences()
    content = Path(target) / "content"
    if content.exists():
        shutil.rmtree(content)
    (content / "pages").mkdir(parents=True)
    shutil.copytree(ROOT / "content" / "extra", content / "extra")
    slugs = list(CATEGORIES)
    for number in range(count):
        folder_slug = slugs[number % len(slugs)]
        title_words = rng.choice(sentences).rstrip(".;").split()[:12]
        title = " ".join(title_words) + f" (số {number})"
        slug = f"bai-{number:05d}"
        paragraphs, total = [], 0
        while total < words:
            paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 6)))
            paragraphs.append(paragraph)
            total += len(paragraph.split())
        paragraphs.insert(len(paragraphs) // 2, "## " + " ".join(rng.choice(sentences).split()[:6]))
        day = number % 28 + 1
        month = number // 28 % 12 + 1
        year = 2016 + number // 336 % 10
        header = (
            f"Title: {title}\nSlug: {slug}\nDate: {year}-{month:02d}-{day:02d} {8 + number % 9:02d}:{number % 60:02d}\n"
            f"Category: {CATEGORIES[folder_slug]}\nTags: {rng.choice(['đại hội', 'Đảng bộ', 'nông thôn mới', 'quốc phòng', 'văn hóa'])}\n"
            f"Author: P.V\nSummary: {rng.choice(sentences)}\nStatus: published\n\n"
        )
        folder = content / "articles" / folder_slug / slug
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(header + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return content
