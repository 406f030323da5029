"""Render a Markdown file the way the build does (the glue between the
sanitiser's pure core and Pelican's reader).

The reader is the one Pelican would use for ``.md`` (``Readers`` sends
``readers_init``, so vi_locale's NFC reader when that plugin is loaded), and
the MARKDOWN settings are the build's (article_media adds its figures
extension at ``initialized``): ``make check`` starts Pelican with the site's
PLUGINS before rendering, so it sees exactly what the build renders.
"""

from markdown import Markdown
from pelican.readers import Readers


def fragments(settings, content, metadata):
    """The HTML fragments published from one file, in a fixed order: the
    body, then each Markdown field (``FORMATTED_FIELDS``: Summary)."""
    return (content or "",) + tuple(metadata.get(name) or "" for name in formatted_fields(settings))


def formatted_fields(settings):
    return [name.lower() for name in settings["FORMATTED_FIELDS"]]


def _read_text(reader, text):
    """``(content, metadata)`` of a file's text: the reader's own
    ``read_text`` (vi_locale's), else plain Python-Markdown with the same
    settings. Only the Markdown fields are kept: a broken Date, reported
    on its own, must not stop the rendering."""
    if hasattr(reader, "read_text"):
        return reader.read_text(text, only_formatted=True)
    md = reader._md = Markdown(**reader.settings["MARKDOWN"])  # _parse_metadata reads it, as in read()
    content = md.convert(text)
    fields = {name.lower() for name in reader.settings["FORMATTED_FIELDS"]}
    meta = {key: values for key, values in getattr(md, "Meta", {}).items() if key.lower() in fields}
    return content, reader._parse_metadata(meta)


def renderer(settings):
    """``render(text) -> fragments``: the HTML fragments the build
    publishes from a file's text (see :func:`fragments`)."""
    reader = Readers(settings).readers["md"]

    def render(text):
        content, metadata = _read_text(reader, text)
        return fragments(settings, content, metadata)

    return render
