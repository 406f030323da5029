"""What a page is rendered from, as one key: equal keys, equal pages.

An incremental build skips rendering a page whose key equals the key it
had when the published copy was rendered. The key must therefore change
whenever anything the page shows could change:

* the templates it is rendered with: the page's template and every
  template it extends or includes, found in the templates' syntax trees
  (:func:`template_closure`); an include whose name is computed
  (``"widgets/" ~ name ~ ".html"``) counts every template with that prefix;
* the values those templates name: each name a template of the closure
  reads is looked up in the page's context and fingerprinted
  (:class:`Fingerprints`). Articles and pages are fingerprinted whole
  (body, metadata, address, photos, related articles); the articles a
  listing shows come in through its paginator and page objects, so a
  changed title, date, summary, photo, order or page count changes every
  listing page that shows it;
* everything else that shapes output, as one ``stamp`` the caller gives:
  the settings, the code of our plugins and library, the package versions.

This is deliberately broad: a key that changes without need costs one
render, a key that fails to change publishes a stale page. Values nothing
can fingerprint exactly (an object whose only text is its memory address)
fall back to their type name; their influence on a page is through code,
which the stamp covers.

Pure: no Pelican import; objects are read by duck typing.
"""

import datetime
import hashlib
import re

from jinja2 import nodes

# Attributes of content objects that are the whole site, not the object:
# the context and settings are fingerprinted through the stamp and the
# names the templates read.
SKIPPED_ATTRIBUTES = frozenset({"_context", "settings", "_cache"})
MAX_DEPTH = 24
_ADDRESS = re.compile(r" at 0x[0-9a-f]+", re.IGNORECASE)
# Markdown placeholders Pelican resolves against other content's addresses.
_INTRASITE = re.compile(r"\{(?:filename|static|attach|index|category|tag|author)\}|\|(?:filename|static|attach)\|")
MISSING = "\0missing"


def digest(*parts):
    """A short hex digest of ``parts`` (strings)."""
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        hasher.update(part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\0")
    return hasher.hexdigest()


def _is_content(value):
    """An article or page: it has a source file and a rendered body."""
    return hasattr(value, "_content") and hasattr(value, "source_path")


class Fingerprints:
    """Fingerprints of the values of one build's context, memoised.

    Memoised by identity: context values are built before the first page
    is rendered and not changed while pages are written. The objects are
    kept referenced so an identity is never reused within a build.
    ``links`` is a callable giving the fingerprint of every content
    address, used only for bodies holding intrasite link placeholders.
    """

    def __init__(self, links=lambda: ""):
        self._memo = {}
        self._links = links
        self._link_digest = None
        self._cuts = 0  # how many times a cycle or the depth limit cut the walk short

    def of(self, value):
        return self._value(value, 0, set(), nested=False)

    def _value(self, value, depth, visiting, nested):
        if value is None or isinstance(value, (bool, int, float)):
            return repr(value)
        if isinstance(value, str):
            return "s" + value
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return "t" + value.isoformat() + str(getattr(value, "tzinfo", ""))
        memo_key = (id(value), nested)
        if memo_key in self._memo:
            return self._memo[memo_key][0]
        if id(value) in visiting or depth > MAX_DEPTH:
            self._cuts += 1
            return "cycle:" + type(value).__qualname__
        visiting.add(id(value))
        cuts = self._cuts
        try:
            result = self._compound(value, depth, visiting, nested)
        finally:
            visiting.discard(id(value))
        # A value whose walk was cut short depends on where the walk began:
        # remembering it would make fingerprints depend on page order. A
        # container below the top is a field list made for this walk (or
        # part of an object remembered itself): keeping it would only hold
        # memory.
        if self._cuts == cuts and (depth == 0 or not isinstance(value, (list, tuple, dict, set, frozenset))):
            self._memo[memo_key] = (result, value)
        return result

    def _compound(self, value, depth, visiting, nested):
        deeper = depth + 1
        if isinstance(value, (list, tuple)):
            return digest("list", *(self._value(v, deeper, visiting, nested) for v in value))
        if isinstance(value, (set, frozenset)):
            return digest("set", *sorted(self._value(v, deeper, visiting, nested) for v in value))
        if isinstance(value, dict):
            items = sorted((str(k), self._value(v, deeper, visiting, nested)) for k, v in value.items())
            return digest("dict", *(part for item in items for part in item))
        if callable(value) and not hasattr(value, "__dict__") or isinstance(value, type):
            return "code:" + getattr(value, "__qualname__", type(value).__qualname__)
        if _is_content(value):
            return self._content(value, deeper, visiting, nested)
        if hasattr(value, "__dict__"):
            return self._object(value, deeper, visiting, nested)
        if hasattr(value, "__slots__"):
            fields = {name: getattr(value, name, MISSING) for name in value.__slots__}
            return digest(type(value).__qualname__, self._value(fields, deeper, visiting, nested))
        return "r" + _ADDRESS.sub("", repr(value))

    def _object(self, value, depth, visiting, nested):
        if hasattr(value, "_name") and hasattr(value, "_slug"):
            # Pelican's categories, tags and authors: their slug is worked
            # out when first asked for (None until then), so it is taken
            # through the property, never from the attribute
            return digest(type(value).__qualname__, str(value.name), str(value.slug))
        # Attributes only: what properties compute (a category's or an
        # article's address, an article's summary) follows from the
        # attributes and the settings, both in the key, and computing
        # Pelican's addresses is the slowest part of fingerprinting.
        fields = {k: v for k, v in vars(value).items() if k not in SKIPPED_ATTRIBUTES}
        return digest(type(value).__qualname__, self._value(fields, depth, visiting, nested))

    def _content(self, value, depth, visiting, nested):
        """An article or page: its own fields, other content objects among
        them (related articles, translations) by address, then, unless it
        is itself nested in another, the own fields of each of those. So
        a page shows the titles and dates of its related articles, but one
        article's fingerprint never takes in the whole site."""
        own = self._own(value, depth, visiting)
        if nested:
            return own
        others = [self._own(item, depth, visiting) for item in _contents_in(value)]
        return digest(own, *others)

    def _own(self, value, depth, visiting):
        memo_key = (id(value), "own")
        if memo_key in self._memo:
            return self._memo[memo_key][0]
        cuts = self._cuts
        fields = {k: _address_only(v) for k, v in vars(value).items() if k not in SKIPPED_ATTRIBUTES}
        parts = [type(value).__qualname__, self._value(fields, depth, visiting, True)]
        text = (getattr(value, "_content", "") or "") + str(getattr(value, "_summary", "") or "")
        if _INTRASITE.search(text):
            parts.append(self.links())
        result = digest(*parts)
        if self._cuts == cuts:
            self._memo[memo_key] = (result, value)
        return result

    def links(self):
        if self._link_digest is None:
            self._link_digest = self._links()
        return self._link_digest


def _contents_in(value):
    """The content objects among ``value``'s fields (lists included), in order."""
    found = []
    for k, v in vars(value).items():
        if k in SKIPPED_ATTRIBUTES:
            continue
        for item in v if isinstance(v, (list, tuple)) else (v,):
            if _is_content(item):
                found.append(item)
    return found


def _address_only(value):
    if _is_content(value):
        return "content:" + str(getattr(value, "source_path", ""))
    if isinstance(value, (list, tuple)):
        return [_address_only(v) for v in value]
    return value


# --- templates ------------------------------------------------------------------------


def _template_names(ast):
    """Templates ``ast`` extends, includes or imports: ``(fixed names,
    prefixes of computed names)``; a computed name without a fixed
    prefix gives the prefix ``""`` (every template)."""
    fixed, prefixes = set(), set()
    for node in ast.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        target = node.template
        if isinstance(target, nodes.Const) and isinstance(target.value, str):
            fixed.add(target.value)
        elif isinstance(target, (nodes.Tuple, nodes.List)):
            fixed.update(item.value for item in target.items if isinstance(item, nodes.Const))
        else:
            prefixes.add(_leading_constant(target))
    return fixed, prefixes


def _leading_constant(node):
    """The constant text a computed template name starts with ("" if none)."""
    while isinstance(node, (nodes.Concat, nodes.Add)):
        node = node.nodes[0] if isinstance(node, nodes.Concat) else node.left
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else ""


class TemplateClosures:
    """For each page template: the names of everything it renders from
    and a digest of its sources, its own and of every template it uses."""

    def __init__(self, environment):
        self.environment = environment
        self._parsed = {}
        self._closures = {}
        self._all = None

    def _parse(self, name):
        if name not in self._parsed:
            source, _, _ = self.environment.loader.get_source(self.environment, name)
            ast = self.environment.parse(source)
            names = {n.name for n in ast.find_all(nodes.Name) if n.ctx == "load"}
            self._parsed[name] = (source, names, _template_names(ast))
        return self._parsed[name]

    def _every_template(self):
        if self._all is None:
            self._all = sorted(self.environment.list_templates())
        return self._all

    def closure(self, name):
        """``(sorted context names, digest of sources)`` of template ``name``."""
        if name not in self._closures:
            seen, queue = set(), [name]
            while queue:
                current = queue.pop()
                if current in seen:
                    continue
                seen.add(current)
                _, _, (fixed, prefixes) = self._parse(current)
                queue += sorted(fixed)
                for prefix in prefixes:
                    queue += [t for t in self._every_template() if t.startswith(prefix)]
            names = set().union(*(self._parse(t)[1] for t in seen))
            sources = digest(*(part for t in sorted(seen) for part in (t, self._parse(t)[0])))
            self._closures[name] = (sorted(names), sources)
        return self._closures[name]


def page_key(stamp, template_name, closures, fingerprints, context):
    """The key of one page: ``stamp``, the template closure's sources and
    the fingerprint of each value (in ``context``) its templates name."""
    names, sources = closures.closure(template_name)
    values = (fingerprints.of(context[n]) if n in context else MISSING for n in names)
    return digest(stamp, template_name, sources, *names, *values)
