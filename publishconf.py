"""Settings for the published site: pelicanconf plus the public address and
strict checks (any warning about content fails the build)."""

import runpy
from pathlib import Path

# pelicanconf.py's settings, read from beside this file (no sys.path edit)
globals().update({name: value for name, value in runpy.run_path(str(Path(__file__).with_name("pelicanconf.py"))).items()
                  if name.isupper()})

SITEURL = PUBLIC_URL  # noqa: F821
RELATIVE_URLS = False
# Drafts are previewed with `make devserver`; they are never published.
DRAFT_SAVE_AS = ""
# Pelican's defaults would still write draft pages (drafts/pages/<slug>.html)
# and draft translations.
DRAFT_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
