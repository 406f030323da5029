"""Vietnamese for Pelican: NFC content and locale-free formatting filters.

Pelican's own slugify (through Unidecode) already turns ``Đ`` into ``d``;
what it does not do is normalise text, so an article typed on an NFD
keyboard would differ from its NFC twin in titles, tags and search. Every
reader's output is normalised here, before slugs and taxonomies are made.
"""

from markdown import Markdown
from pelican import signals
from pelican.readers import MarkdownReader

from portal.markdown_source import read_markdown
from portal.settings import fill_pelican_defaults
from portal.vietnamese import FILTERS, nfc


class NFCMarkdownReader(MarkdownReader):
    """Markdown reader that normalises the source to NFC before parsing.

    Files are read by ``portal.markdown_source.read_markdown``: a file that is
    not UTF-8, holds control characters or markup Markdown cannot render in
    linear time raises ``SourceError`` (``path:line: message``), which
    Pelican logs as "Could not process" and leaves the file out."""

    def _parse_metadata(self, meta):
        return super()._parse_metadata(
            {nfc(key): [nfc(v) for v in values] for key, values in meta.items()}
        )

    def read(self, source_path):
        self._source_path = source_path
        return self.read_text(read_markdown(source_path))

    def read_text(self, text, only_formatted=False):
        """``(content, metadata)`` of a Markdown file's text, as ``read``
        gives them. ``make check`` renders with this too, with
        ``only_formatted``: just the Markdown fields (Summary), so a broken
        Date, reported on its own, does not stop the rendering."""
        self._md = Markdown(**self.settings["MARKDOWN"])
        content = self._md.convert(nfc(text))
        meta = getattr(self._md, "Meta", {})
        if only_formatted:
            meta = {k: v for k, v in meta.items() if k.lower() in self.settings["FORMATTED_FIELDS"]}
        return nfc(content), self._parse_metadata(meta)


def _install_reader(readers):
    for ext in NFCMarkdownReader.file_extensions:
        if ext in readers.reader_classes:
            readers.reader_classes[ext] = NFCMarkdownReader


def _add_filters(generator):
    generator.env.filters.update(FILTERS)


def register():
    signals.initialized.connect(fill_pelican_defaults)
    signals.readers_init.connect(_install_reader)
    signals.generator_init.connect(_add_filters)
