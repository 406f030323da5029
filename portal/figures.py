"""Markdown extension: photos with a caption become figures.

Staff write ``![alt](photo.jpg "Caption")`` on a line of its own. Python
Markdown makes that ``<p><img title=...></p>``; readers and screen readers
need ``<figure>`` with ``<figcaption>``, and a run of such photos reads as a
gallery. Relative sources stay as written: the ``photos`` plugin resolves
them against the article's folder and replaces each ``<img>`` with a
responsive ``<picture>``. Table column alignment becomes ``align`` (the
sanitiser allows no ``style``).
"""

import re
import xml.etree.ElementTree as etree

from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

def _lone_image(element):
    """The ``<img>`` of a paragraph holding nothing but that image."""
    if element.tag != "p" or len(element) != 1 or (element.text or "").strip():
        return None
    child = element[0]
    if child.tag != "img" or (child.tail or "").strip():
        return None
    return child


def _figure_from(img):
    figure = etree.Element("figure", {"class": "figure"})
    caption = img.attrib.pop("title", "").strip()
    figure.append(img)
    img.tail = None
    if caption:
        etree.SubElement(figure, "figcaption").text = caption
    return figure


_ALIGN = re.compile(r"^\s*text-align:\s*(left|right|center);?\s*$")


def _align_attribute(cell):
    """Markdown's tables align a column with ``style="text-align: ..."``;
    the sanitiser allows no ``style`` (it can hide or overlay anything), so
    say it with ``align``, which can only align."""
    match = _ALIGN.match(cell.get("style", ""))
    if match:
        del cell.attrib["style"]
        cell.set("align", match.group(1))


class FigureTreeprocessor(Treeprocessor):
    def run(self, root):
        for img in root.iter("img"):
            img.set("loading", "lazy")
            img.set("decoding", "async")
        for cell in root.iter():
            if cell.tag in ("th", "td") and "style" in cell.attrib:
                _align_attribute(cell)
        self._make_figures(root)

    def _make_figures(self, parent):
        children = list(parent)
        run = []  # consecutive figures, grouped into a gallery when > 1
        rebuilt = []
        for child in children:
            img = _lone_image(child)
            if img is not None:
                run.append(_figure_from(img))
                continue
            rebuilt.extend(self._flush(run))
            run = []
            rebuilt.append(child)
        rebuilt.extend(self._flush(run))
        if len(rebuilt) != len(children) or any(a is not b for a, b in zip(rebuilt, children)):
            for child in children:
                parent.remove(child)
            parent.extend(rebuilt)

    @staticmethod
    def _flush(run):
        if len(run) < 2:
            return run
        gallery = etree.Element("div", {"class": "gallery"})
        for figure in run:
            # whitespace between figures, or text extractors (the search
            # index) glue one caption's last word to the next one's first
            figure.tail = "\n"
        gallery.extend(run)
        return [gallery]


class FigureExtension(Extension):
    def extendMarkdown(self, md):
        # After inline patterns (priority 20) have produced the <img> tags.
        md.treeprocessors.register(FigureTreeprocessor(md), "portal_figures", 5)
