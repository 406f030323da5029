"""``make check``'s memory of the sanitiser's verdict on each file.

Rendering every article as the build does (so that ``make check`` reports
exactly what the build's sanitiser removes) costs about 10 ms an article;
on a 5,000-article site a second run would wait a minute for nothing. The
verdict is a pure function of the file's text and of the rendering code,
so it is remembered by the hash of both: a changed file, Markdown, nh3,
Pygments or our rendering code makes a new key. The file is rewritten
atomically with only the entries this run used; an unreadable one is
discarded with a warning.
"""

import hashlib
import json
import os
import sys

from portal.atomic import write_atomic

FILE = "content-check-markup.json"


class MarkupCache:
    def __init__(self, folder, stamp, name=FILE):
        self.path = os.path.join(folder, name) if folder else None
        self.stamp = stamp
        self.old, self.new = self._load(), {}

    def _load(self):
        if not self.path or not os.path.exists(self.path):
            return {}
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
            entries = data["entries"] if data.get("stamp") == self.stamp else {}
            if not isinstance(entries, dict):
                raise ValueError("entries is not an object")
            return entries
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            print(f"make check: bỏ qua bộ nhớ đệm hỏng {self.path} ({error}); sẽ tạo lại "
                  f"(unreadable cache discarded, rebuilt)", file=sys.stderr)
            return {}

    @staticmethod
    def key(text):
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    @staticmethod
    def _valid(found):
        return isinstance(found, list) and all(
            isinstance(p, list) and len(p) == 3 and isinstance(p[0], int) and isinstance(p[1], str)
            and p[2] in ("error", "warning") for p in found)

    def known(self, text):
        """Whether a verdict for ``text`` is remembered (and well formed)."""
        key = self.key(text)
        return key in self.new or self._valid(self.old.get(key))

    def remember(self, text, found):
        self.new[self.key(text)] = [list(verdict) for verdict in found]

    def get(self, text, compute):
        """``compute()``'s ``[(line, message, severity)]`` for ``text``, remembered."""
        key = self.key(text)
        if key not in self.new:
            found = self.old.get(key)
            self.new[key] = found if self._valid(found) else [list(verdict) for verdict in compute()]
        return [tuple(verdict) for verdict in self.new[key]]

    def save(self):
        if not self.path or self.new == self.old:
            return
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, json.dumps({"stamp": self.stamp, "entries": self.new}).encode("utf-8"))
        except OSError:  # a cache that cannot be written only costs time next run
            pass
