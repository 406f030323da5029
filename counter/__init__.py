"""Visitor and page-view counter: web-server access logs -> the live feeds.

The site is static, so its live numbers come from the web servers' access
logs ("combined" format, plain or gzip). Every run reads only what is new
since the previous run and writes, in the feeds folder:

* ``visitors.json``: ``{"updated": ISO time, "online": n, "today": n, "total": n}``
* ``views.json``: ``{"updated": ISO time, "views": {"<category>/<slug>.html": n},
  "clicks": {"<redirect page>.html": n}}`` (``clicks`` only once there are any)
* ``luot-xem/<shard>.json``: ``{"views": {...}}``, the same views split in
  256 shards by a hash of the address (``portal.view_shards``), what an
  article page fetches to show its count
* ``luot-xem/<shard>/<address>``: one HTML fragment per counted page, and
  ``thong-ke.html``, the visitor statistics: what readers without
  JavaScript see in an ``<iframe>`` (pages never carry a number)

Each file is rewritten only when its bytes differ from the file on disk.

Their exact format is ``feeds.schema.json`` beside this file (JSON Schema
2020-12): the only thing the counter and the site build share. The counter
is a tool of its own: standard library only, run by cron with the system's
``python3`` and no virtual environment from the project folder; of the
project it imports only ``portal.atomic``, the one atomic write, and
``portal.view_shards``, the shards' and fragments' form, which the build
shares (both standard library only, like this package).

Definitions (also in the README):

* page view: GET answered 200 or 304 whose path, normalised as nginx does
  (query and fragment dropped, percent-escapes decoded once, slashes merged,
  ``.``/``..`` removed), names a file the last build published as a page:
  kind ``page`` in the build's output registry (``--published``, default
  ``cache/outputs.json``); a path ending in ``/`` or naming a folder means
  the folder's ``index.html``. Photos, attachments, feeds, error pages,
  redirect pages and addresses the build never wrote are no page views, so
  a burst of requests for made-up addresses counts nothing; by a client that
  is not a bot (empty user agent, or one containing a word of ``BOT_WORDS``);
* click: the same request for a file of kind ``redirect`` (a banner's
  outbound link, an old address): counted per redirect page in ``clicks``,
  never a page view nor a visit;
* visitor: (IP, user agent); visit: a visitor's page views with no gap over
  30 minutes (exactly 30 minutes continues the visit);
* "now": the newest timestamp among all well-formed lines ever read (any
  request), never the machine's clock; but a line dated more than
  MAX_CLOCK_SKEW after the machine's clock is not counted at all;
* online: visitors with a page view in [now - 5 min, now];
* today: visits that began on now's calendar day in Vietnam (UTC+7);
* total: all visits ever counted + a base (``STATS_TOTAL_BASE``);
* views: page views per ``.html`` page, keyed by its path as published
  (a folder's ``index.html`` is a page view but no key), cumulative; a page
  the registry no longer lists keeps its count in the state, out of the feed.

Every cost is bounded by the input's size: a line over MAX_LINE_BYTES is
skipped (counted as too long), a gzip file decompressing to more than
MAX_GZIP_RATIO times its size (or MAX_GZIP_BYTES) is refused whole.

Exit status: 0 everything given was read (too long and malformed lines are
skipped, counted in the summary: anyone can send them); 1 something was
refused or could not be read (a log file, the output registry) or lines are
dated ahead of this machine's clock, each named on stderr, the rest counted;
2 nothing done (damaged state, cannot write, bad arguments).

Usage, from the project's folder::

    python3 -m counter [--feeds-dir DIR] [--state FILE] [--published FILE]
                       [--total-base N] LOGFILE...

One module per job: ``logline`` (one line: fields, time, bots, path),
``pages`` (the output registry: which paths are page views), ``logfiles``
(which bytes of which file are new; lines; gzip), ``scan`` (new lines ->
page views), ``visits``, ``state``,
``feeds`` (rendering and writing them, shards and fragments too), ``job`` (one run), ``__main__``
(the command line).
"""
