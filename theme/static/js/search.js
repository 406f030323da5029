/* The search page (/tim-kiem/?q=...): our own small UI on Pagefind's JS API,
   loaded from this site.

   The index is in shards (plugins/site_search: one per year, the static
   pages apart), each a Pagefind index of its own, listed newest first in
   pagefind/shards.json (data-search-shards on the script tag). The first
   is loaded as Pagefind's primary index and the others are merged into it
   with mergeIndex: one search runs on every shard and Pagefind sorts the
   results of all of them by score (each shard scores with its own word
   statistics). Filters (category, year) are the pages' own, so they work
   across shards.

   Vietnamese. Pagefind folds tone marks itself ("hoi" finds "hội") but not
   đ, which has no Unicode decomposition. Every page carries its title and
   its đ-words with đ→d as searchable metadata (plugins/site_search), and
   the query is searched with đ→d too ("đại hội" → "dại hội"), so "dai" and
   "đại" reach the same pages. Two searches, on the same index chunks:
     tier 1  exact diacritics (only if the reader typed any): "dại" then
             matches the folded copy of "đại" but not "dài", "hội" not
             "hỏi": the pages with the exact spelling, ranked first;
     tier 2  accents folded: the full set of pages, the same whether or
             not the reader typed diacritics.
   Pagefind's options() reach the primary index only and exactDiacritics
   is set per index, so each tier has its own set of merged shards (the
   exact one made at the first query typed with diacritics; its chunks are
   the same files, from the browser's cache).
   Inside each page of results, those holding the query words side by side
   (a phrase) move first. Excerpts are built here from the page's text, and
   the words matching the query, those reached through the fold included,
   are put in <mark>. Everything is written with textContent and
   createElement: query text never goes through innerHTML. */
(function () {
  'use strict';
  var PAGE = 10, MAX_QUERY = 200, EXCERPT = 30;
  // The query as searched: NFC, spaces collapsed, then đ→d as
  // plugins/site_search's fold_d does for the index (foldD(clean(q))).
  // tests/test_browser_agreement.py runs them beside fold_d on the same
  // cases; portalSearch exposes them for that test, nothing else uses it.
  function foldD(s) { return s.replace(/đ/g, 'd').replace(/Đ/g, 'D'); }
  function clean(q) { return (q || '').normalize('NFC').replace(/\s+/g, ' ').trim().slice(0, MAX_QUERY); }
  window.portalSearch = { foldD: foldD, clean: clean };
  // A word's key: lower case, tone marks dropped, đ→d ("Đảng" → "dang").
  function key(s) { return foldD(s.normalize('NFD').replace(/[\u0300-\u036f]/g, '')).toLowerCase(); }
  // Words of a text, punctuation dropped ("(Đồng" → "Đồng").
  function words(s) { return s.split(/[^\p{L}\p{N}_]+/u).filter(Boolean); }

  var script = document.currentScript;
  var form = document.getElementById('tim-kiem-form');
  if (!form || !script) return;
  // Vietnamese words are short syllables: a high termSimilarity keeps
  // "phu" on "Phú" rather than on "Phước" (Pagefind also matches word
  // beginnings). Title and folded title (fold_title) weigh most, the
  // folded đ-words of the text (fold) like the text.
  var RANKING = { termSimilarity: 8, metaWeights: { title: 20, fold_title: 20, fold: 1 } };
  var input = form.elements.q;
  var categorySelect = form.elements['chuyen-muc'];
  var yearSelect = form.elements.nam;
  var status = document.getElementById('ket-qua-trang-thai');
  var list = document.getElementById('ket-qua');
  var more = document.getElementById('xem-them');
  var sideBox = document.getElementById('o-tim-kiem');
  var baseTitle = document.title;
  var loading = null, instances = {}, queue = Promise.resolve(), serial = 0;
  var hits = [], shownCount = 0, terms = [], levels = [];

  function say(text) { status.textContent = text; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // The shards' folders, newest first, and Pagefind's module (from the
  // first shard's folder): fetched once; shards.json is revalidated, as
  // the list changes when a year begins.
  function base() {
    if (!loading) {
      var listUrl = new URL(script.getAttribute('data-search-shards'), location.href);
      loading = fetch(listUrl, { cache: 'no-cache' }).then(function (response) {
        if (!response.ok) throw new Error('shards.json: ' + response.status);
        return response.json();
      }).then(function (list) {
        var bases = list.shards.map(function (s) { return new URL(encodeURIComponent(s.name) + '/', listUrl).href; });
        if (!bases.length) throw new Error('no shard');
        return import(bases[0] + 'pagefind.js').then(function (pf) { return { pf: pf, bases: bases }; });
      });
      loading['catch'](function () { loading = null; }); // retry on the next search
    }
    return loading;
  }

  // Every shard merged into one Pagefind instance, exact diacritics or not.
  // No web worker: it would download a second copy of Pagefind's code.
  function shards(exact) {
    if (!instances[exact]) {
      instances[exact] = base().then(function (b) {
        var options = { ranking: RANKING, exactDiacritics: exact };
        var pf = b.pf.createInstance({ noWorker: true, ranking: RANKING, exactDiacritics: exact, basePath: b.bases[0] });
        return pf.init().then(function () {
          return Promise.all(b.bases.slice(1).map(function (path) { return pf.mergeIndex(path, options); }));
        }).then(function () { return pf; });
      });
      instances[exact]['catch'](function () { delete instances[exact]; });
    }
    return instances[exact];
  }

  // --- URL and form ------------------------------------------------------
  function readUrl() {
    var p = new URLSearchParams(location.search);
    return { q: clean(p.get('q')), category: p.get('chuyen-muc') || '', year: p.get('nam') || '' };
  }
  function toUrl(state) {
    var p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    if (state.category) p.set('chuyen-muc', state.category);
    if (state.year) p.set('nam', state.year);
    var s = p.toString();
    return location.pathname + (s ? '?' + s : '');
  }
  function fromForm() {
    return { q: clean(input.value), category: categorySelect.value, year: yearSelect.value };
  }
  function setSelect(select, value) {
    select.value = value;
    if (select.value !== value) { // a value this page does not list
      select.appendChild(new Option(value, value));
      select.value = value;
    }
  }
  function showState(state) {
    input.value = state.q;
    if (sideBox) sideBox.value = state.q;
    setSelect(categorySelect, state.category);
    setSelect(yearSelect, state.year);
    document.title = state.q ? '«' + state.q + '» — ' + baseTitle : baseTitle;
  }

  // --- Searching ---------------------------------------------------------
  // One search at a time (exactDiacritics is an option of the instance);
  // a newer search makes the older ones moot.
  function run(state) {
    var mine = ++serial;
    queue = queue.then(function () { return mine === serial && execute(state, mine); })['catch'](function () {
      if (mine === serial) say('Không tải được bộ tìm kiếm. Vui lòng thử lại sau.');
    });
    return queue;
  }

  function search(q, filters, exact) {
    return shards(exact).then(function (pf) { return pf.search(q, { filters: filters }); });
  }

  function execute(state, mine) {
    list.textContent = '';
    more.hidden = true;
    hits = [];
    shownCount = 0;
    if (!state.q) { say('Nhập từ khóa vào ô tìm kiếm.'); return; }
    say('Đang tìm…');
    var filters = {};
    if (state.category) filters.category = [state.category];
    if (state.year) filters.year = [state.year];
    var marked = key(state.q) !== state.q.toLowerCase();
    terms = words(state.q.toLowerCase()).map(function (w) { return { word: w, key: key(w) }; });
    // How excerpt words are matched, strictest first: same spelling (only
    // when the reader typed diacritics), same key, key starting with it.
    levels = (marked ? ['word'] : []).concat(['key', 'prefix']);
    var folded = foldD(state.q);
    // Folded first: it loads the chunks the exact search then reuses.
    return search(folded, filters, false).then(function (all) {
      return (marked ? search(folded, filters, true) : Promise.resolve(null)).then(function (exact) {
        if (mine !== serial) return;
        // The set is that of the folded search; the exact spelling only
        // puts its pages first. A page's id is a short hash unique within
        // its shard only: pages of two shards may share one, so an id
        // stands for all the folded hits that bear it, none is dropped.
        var found = {};
        all.results.forEach(function (hit) { (found[hit.id] = found[hit.id] || []).push(hit); });
        (exact ? exact.results : []).concat(all.results).forEach(function (hit) {
          if (found[hit.id]) { hits.push.apply(hits, found[hit.id]); delete found[hit.id]; }
        });
        if (!hits.length) {
          say('Không tìm thấy kết quả nào cho «' + state.q + '»' +
              (state.category || state.year ? ' với bộ lọc đã chọn.' : '.'));
          return;
        }
        say('Tìm thấy ' + hits.length + ' kết quả cho «' + state.q + '».');
        return showPage(mine, false);
      });
    });
  }

  function showPage(mine, focus) {
    var slice = hits.slice(shownCount, shownCount + PAGE);
    more.disabled = true;
    return Promise.all(slice.map(function (hit) { return hit.data(); })).then(function (items) {
      if (mine !== serial) return;
      var views = items.map(view);
      var phrased = views.filter(function (v) { return v.phrase; });
      var first = null;
      phrased.concat(views.filter(function (v) { return !v.phrase; })).forEach(function (v) {
        var li = render(v);
        list.appendChild(li);
        first = first || li.querySelector('a');
      });
      shownCount += slice.length;
      more.hidden = shownCount >= hits.length;
      more.disabled = false;
      if (focus && first) first.focus();
    });
  }

  // --- Matching words of a page ----------------------------------------
  function test(level, w) {
    var k = key(w), lw = w.toLowerCase();
    for (var i = 0; i < terms.length; i++) {
      var t = terms[i];
      if (level === 'word' ? lw === t.word :
          level === 'key' ? k === t.key :
          k === t.key || (t.key.length > 1 && k.indexOf(t.key) === 0)) return i;
    }
    return -1;
  }

  // For the page text: which query word each word matches (-1: none), at
  // the strictest level that matches anything after the title; and whether
  // the query stands there as a phrase.
  function view(data) {
    var meta = data.meta || {}, title = meta.title || '';
    var all = (data.content || '').split(/\s+/).filter(Boolean);
    var bare = all.map(function (w) { return words(w)[0] || ''; });
    var head = title.split(/\s+/).map(function (w) { return words(w)[0] || ''; }), tw = head.length;
    var lo = all.length > tw && key(bare.slice(0, tw).join(' ')) === key(head.join(' ')) ? tw : 0;
    var match = [], phrase = false;
    for (var l = 0; l < levels.length; l++) {
      match = bare.map(function (w, i) { return i >= lo && w ? test(levels[l], w) : -1; });
      if (match.some(function (m) { return m >= 0; })) break;
    }
    if (terms.length > 1) {
      var keys = terms.map(function (t) { return t.key; }).join(' '), strict = levels[0] === 'word';
      var seq = bare.map(function (w) { return strict ? w.toLowerCase() : key(w); });
      var want = strict ? terms.map(function (t) { return t.word; }).join(' ') : keys;
      phrase = (' ' + seq.join(' ') + ' ').indexOf(' ' + want + ' ') >= 0;
    }
    return { data: data, meta: meta, all: all, match: match, lo: lo, phrase: phrase };
  }

  // The window of EXCERPT words with the most distinct query words and
  // query words in their order side by side, then the most matches; it
  // starts a few words before its first match.
  function window_(v) {
    var n = v.all.length, best = v.lo, bestScore = 0, i, j;
    for (i = v.lo; i <= Math.max(v.lo, n - EXCERPT); i++) {
      var seen = {}, distinct = 0, count = 0, pairs = 0;
      for (j = i; j < Math.min(n, i + EXCERPT); j++) {
        var m = v.match[j];
        if (m >= 0) { count++; if (!seen[m]) { seen[m] = 1; distinct++; } }
        if (m >= 0 && j > i && v.match[j - 1] === m - 1) pairs++;
      }
      var score = (distinct + pairs) * (EXCERPT + 1) + count;
      if (score > bestScore) { bestScore = score; best = i; }
    }
    if (bestScore) {
      for (i = best; v.match[i] < 0; i++);
      best = Math.max(v.lo, Math.min(i - 4, n - EXCERPT));
    }
    return best;
  }

  // --- Rendering -----------------------------------------------------------
  function first(list) { return list && list.length ? list[0] : ''; }
  // Pagefind gives a page's address as its file path, not percent-encoded:
  // a "#", "?" or "%" in a Slug would cut or bend the link. Encode each
  // segment, as the site's own links are (plugins/news_blocks encode_url).
  function pageHref(url) { return url.split('/').map(encodeURIComponent).join('/'); }
  function render(v) {
    var filters = v.data.filters || {};
    var date = first(filters.date), category = first(filters.category);
    var li = el('li', 'search-result');
    var h = el('h2', 'search-result__title');
    var a = el('a', null, v.meta.title || v.data.url);
    a.href = pageHref(v.data.url);
    h.appendChild(a);
    li.appendChild(h);
    if (date || category) {
      var p = el('p', 'search-result__meta');
      if (date) {
        var t = el('time', null, date), d = date.split('/');
        if (d.length === 3) t.setAttribute('datetime', d[2] + '-' + d[1] + '-' + d[0]);
        p.appendChild(t);
      }
      if (date && category) p.appendChild(document.createTextNode(' · '));
      if (category) {
        var option = [].filter.call(categorySelect.options, function (o) { return o.value === category; })[0];
        var c = el(option && option.getAttribute('data-url') ? 'a' : 'span', 'search-result__category', category);
        if (c.tagName === 'A') c.href = option.getAttribute('data-url');
        p.appendChild(c);
      }
      li.appendChild(p);
    }
    var start = window_(v), end = Math.min(v.all.length, start + EXCERPT);
    var x = el('p', 'search-result__excerpt');
    if (start > v.lo) x.appendChild(document.createTextNode('… '));
    for (var i = start; i < end; i++) {
      if (i > start) x.appendChild(document.createTextNode(' '));
      x.appendChild(v.match[i] >= 0 ? el('mark', null, v.all[i]) : document.createTextNode(v.all[i]));
    }
    if (end < v.all.length) x.appendChild(document.createTextNode(' …'));
    li.appendChild(x);
    return li;
  }

  // --- Events --------------------------------------------------------------
  function submitted(e) {
    e.preventDefault();
    var state = fromForm();
    history.pushState(null, '', toUrl(state));
    showState(state);
    run(state);
  }
  form.addEventListener('submit', submitted);
  // The sidebar's box on this page searches in place too.
  if (sideBox && sideBox.form && sideBox.form !== form) {
    sideBox.form.addEventListener('submit', function (e) { input.value = sideBox.value; submitted(e); });
  }
  [categorySelect, yearSelect].forEach(function (select) {
    select.addEventListener('change', function () {
      var state = fromForm();
      history.replaceState(null, '', toUrl(state));
      showState(state);
      run(state);
    });
  });
  more.addEventListener('click', function () { showPage(serial, true); });
  window.addEventListener('popstate', function () { var s = readUrl(); showState(s); run(s); });

  form.querySelector('.search-filters').hidden = false;
  var initial = readUrl();
  showState(initial);
  run(initial);
})();
