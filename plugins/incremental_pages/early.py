"""Article pages put live before the build ends (``ARTICLES_FIRST``), and
put back if it then fails."""

import os
import shutil

from portal import outputs

EARLY_FOLDER = "articles-first"


class EarlyPages:
    """Article pages put live before the build ends, and what they
    replaced. If the build then fails (an error, an exception, a stop),
    they are put back as they were at exit, so a failed build leaves the
    published site as it found it. A killed build cannot run this: its
    registry stays marked unsure and the next build renders everything."""

    def __init__(self):
        self.replaced = []  # (published path, the page it replaced or None)
        self.folder = None

    def begin(self, folder):
        self.replaced, self.folder = [], folder
        shutil.rmtree(folder, ignore_errors=True)  # left by a killed build: its pages are live now

    def put_live(self, filename, published, folder):
        if self.folder != folder:
            self.begin(folder)
        os.makedirs(folder, exist_ok=True)
        old = None
        if os.path.isfile(published):
            old = os.path.join(folder, str(len(self.replaced)))
            _link_or_copy(published, old)
        self.replaced.append((published, old))
        os.makedirs(os.path.dirname(published), exist_ok=True)
        temporary = published + ".incoming"
        if os.path.lexists(temporary):
            os.unlink(temporary)
        _link_or_copy(filename, temporary)
        os.replace(temporary, published)

    def settle(self, registry_file):
        """At exit: keep the pages if the site was published, else put the
        old ones back (the published tree then matches its registry again)."""
        if self.replaced and outputs.is_unsure(registry_file):
            for published, old in reversed(self.replaced):
                if old is None:
                    if os.path.lexists(published):
                        os.unlink(published)
                else:
                    os.replace(old, published)
            outputs.clear_unsure(registry_file)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.replaced, self.folder = [], None


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:  # no hard links on this file system
        shutil.copyfile(source, target)


early_pages = EarlyPages()
