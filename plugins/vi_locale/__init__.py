"""Vietnamese for Pelican: NFC content and locale-free formatting filters.

Pelican's own slugify (through Unidecode) already turns ``Đ`` into ``d``;
what it does not do is normalise text, so an article typed on an NFD
keyboard would differ from its NFC twin in titles, tags and search. Every
reader's output is normalised here, before slugs and taxonomies are made.
"""

from pelican import signals
from pelican.readers import MarkdownReader

from .formatting import FILTERS, nfc


class NFCMarkdownReader(MarkdownReader):
    """Markdown reader that normalises the source to NFC before parsing."""

    def _parse_metadata(self, meta):
        return super()._parse_metadata(
            {nfc(key): [nfc(v) for v in values] for key, values in meta.items()}
        )

    def read(self, source_path):
        content, metadata = super().read(source_path)
        return nfc(content), metadata


def _install_reader(readers):
    for ext in NFCMarkdownReader.file_extensions:
        if ext in readers.reader_classes:
            readers.reader_classes[ext] = NFCMarkdownReader


def _add_filters(generator):
    generator.env.filters.update(FILTERS)


def register():
    signals.readers_init.connect(_install_reader)
    signals.generator_init.connect(_add_filters)
