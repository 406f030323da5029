"""``<picture>`` markup for processed photos (pure functions)."""

import re
from html import escape, unescape

from markupsafe import Markup

# The article column: full width on phones, up to about 820 px beside the
# sidebar on desktops.
ARTICLE_SIZES = "(min-width: 1232px) 820px, (min-width: 900px) calc(100vw - 412px), calc(100vw - 48px)"

IMG = re.compile(r"<img\b[^>]*>")
ATTRIBUTE = re.compile(r'([a-zA-Z-]+)="([^"]*)"')


def srcset(renditions, kind, prefix):
    return ", ".join(f"{prefix}/{getattr(r, kind)} {r.width}w" for r in renditions)


def picture_html(photo, prefix, alt="", sizes=ARTICLE_SIZES, lazy=True, thumb=False):
    """``<picture>`` with a WebP ``<source>`` and a JPEG ``<img>`` fallback,
    ``width``/``height`` set so the page does not jump while loading."""
    renditions = (photo.thumb,) if thumb else photo.renditions
    largest = renditions[-1]
    fallback = renditions[min(1, len(renditions) - 1)] if not thumb else largest
    loading = ' loading="lazy" decoding="async"' if lazy else ' fetchpriority="high"'
    sizes_attr = f' sizes="{escape(sizes)}"' if not thumb else ""
    # A photo taller than WebP allows is JPEG only (pipeline.WEBP_MAX).
    source = ""
    if all(r.webp for r in renditions):
        source = f'<source type="image/webp" srcset="{srcset(renditions, "webp", prefix)}"{sizes_attr}>'
    return Markup(
        f'<picture>{source}'
        f'<img src="{prefix}/{fallback.jpeg}" srcset="{srcset(renditions, "jpeg", prefix)}"{sizes_attr}'
        f' alt="{escape(alt)}" width="{largest.width}" height="{largest.height}"{loading}></picture>'
    )


def img_attributes(tag):
    # values come from rendered HTML (escaped); picture_html escapes again
    return {name.lower(): unescape(value) for name, value in ATTRIBUTE.findall(tag)}


def body_image_sources(content):
    """The ``src`` of every ``<img>`` in rendered HTML, in order."""
    return [img_attributes(tag).get("src", "") for tag in IMG.findall(content)]


def replace_images(content, replace):
    """Rewrite each ``<img>`` of ``content``: ``replace(attributes)`` returns
    new markup, or ``None`` to keep the tag as it is."""
    def substitute(match):
        result = replace(img_attributes(match.group(0)))
        return match.group(0) if result is None else result
    return IMG.sub(substitute, content)
