"""Settings for the published site: pelicanconf plus the public address and
strict checks (any warning about content fails the build)."""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: E402,F403

SITEURL = PUBLIC_URL  # noqa: F405
RELATIVE_URLS = False
PORTAL_STRICT = True
# Drafts are previewed with `make devserver`; they are never published.
DRAFT_SAVE_AS = ""
# Pelican's defaults would still write draft pages (drafts/pages/<slug>.html)
# and draft translations.
DRAFT_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
