"""Render a Markdown file the way the build does (the glue between the
sanitiser's pure core and Pelican's reader)."""



def markdown_settings(settings):
    """``settings`` with the figures extension in ``MARKDOWN`` as the build
    has it (article_media adds it when Pelican starts); never mutated."""
    # imported here: article_media imports content_check
    from article_media.figures import FigureExtension

    markdown = dict(settings.get("MARKDOWN", {}))
    markdown["extension_configs"] = dict(markdown.get("extension_configs", {}))
    extensions = list(markdown.get("extensions", []))
    if not any(isinstance(e, FigureExtension) for e in extensions):
        extensions.append(FigureExtension())
    markdown["extensions"] = extensions
    return dict(settings, MARKDOWN=markdown)


def fragments(settings, content, metadata):
    """The HTML fragments published from one file, in a fixed order: the
    body, then each Markdown field (``FORMATTED_FIELDS``: Summary)."""
    return (content or "",) + tuple(metadata.get(name) or "" for name in formatted_fields(settings))


def formatted_fields(settings):
    return [name.lower() for name in settings.get("FORMATTED_FIELDS", ["summary"])]


def renderer(settings):
    """``render(text) -> fragments``: the HTML fragments the build
    publishes from a file's text (see :func:`fragments`)."""
    from vi_locale import NFCMarkdownReader

    reader_settings = markdown_settings(settings)

    def render(text):
        content, metadata = NFCMarkdownReader(markdown_settings(reader_settings)).read_text(text, only_formatted=True)
        return fragments(settings, content, metadata)

    return render
