"""What the portal's plugins and tools share, as plain functions.

Each plugin in ``plugins/`` imports Pelican and this package, never another
plugin; nothing here imports Pelican, so every module can be tested and
read on its own. One job per module:

- ``problems``: ``path:line: message`` problems and the one reporter;
- ``atomic``: the one atomic file write;
- ``settings``: every setting's default, filled once when Pelican starts;
- ``outputs``: the registry of every file a build publishes;
- ``checks``: the signal ``make check`` sends to every plugin's checks;
- ``vietnamese``, ``safe_text``, ``html_text``: Vietnamese formatting, text
  from data files, text from HTML;
- ``header``, ``markdown_source``, ``content_paths``, ``file_gate``,
  ``figures``: the staff's files as the build reads them;
- ``feeds``, ``images``, ``picture_html``: live feeds, the photo pipeline,
  its ``<picture>`` markup.
"""
