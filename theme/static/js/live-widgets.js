/* Fills in the live widgets: the page carries no number, only where to
   find it. Fetches the published feeds (visitors.json; the article's own
   view shard, named by its data-views-shard; covid.json), writes numbers
   as text (never HTML), ignores any value that is not a non-negative
   integer, refreshes visitors every minute. Feeds are revalidated, not
   refetched: 'no-cache' sends a conditional request, and a file the
   counter left unchanged costs a 304.
   num(), when(), line() and clean() write what the build writes with
   vi_number, vi_bulletin_time, region_sentence and clean_strings:
   tests/test_browser_agreement.py runs this file (in a function scope,
   so it must end with "})(document);") and the Python on the same cases
   and fails on any difference. */
(function (d) {
  var s = d.currentScript, base = s && s.getAttribute('data-feeds');
  if (!base || !window.fetch) return;
  function each(q, f) { [].forEach.call(d.querySelectorAll(q), f); }
  function ok(v) { return typeof v == 'number' && v >= 0 && v % 1 === 0 && v < 9e15; }
  // clean(), on every string of a feed, keys too: a control character or
  // a lone surrogate (encodeURIComponent throws on one) refuses the feed;
  // invisible characters (INVISIBLE_RANGES in portal/safe_text.py,
  // compared over every code point by tests/test_feeds_hardening.py;
  // U+202E turns "1.234" into "432.1") go.
  // Objects are rebuilt without a prototype: a "__proto__" key stays a key.
  var hide = /[\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]|\ud804[\udcbd\udccd]|\ud80d[\udc30-\udc3f]|\ud82f[\udca0-\udca3]|\ud834[\udd73-\udd7a]|[\udb40-\udb43][\udc00-\udfff]/g;
  function clean(v) {
    var o = Array.isArray(v) ? [] : Object.create(null), k;
    if (typeof v == 'string') {
      if (/[\0-\x1f\x7f-\x9f]/.test(v)) throw 0;
      return encodeURIComponent(v) && v.replace(hide, '');
    }
    // a number, true, false or null
    if (Object(v) !== v) return v;
    for (k in v) o[clean(k)] = clean(v[k]);
    return o;
  }
  function num(v) { return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, '.'); }
  function get(n) {
    return fetch(base + n, { cache: 'no-cache' }).then(function (r) { if (!r.ok) throw r; return r.json(); }).then(clean);
  }
  function visitors() {
    get('visitors.json').then(function (v) {
      ['online', 'today', 'total'].forEach(function (k) {
        if (ok(v[k])) each('[data-stat="' + k + '"]', function (e) { e.textContent = num(v[k]); });
      });
    })['catch'](Object);
  }
  function views(p) {
    p && get(p.dataset.viewsShard).then(function (v) {
      var n = v.views[p.dataset.viewsUrl];
      if (ok(n)) { p.querySelector('[data-views]').textContent = num(n); p.hidden = false; }
    })['catch'](Object);
  }
  // Vietnam keeps UTC+7 all year: "11h00 ngày 14/8/2020".
  function when(ms) {
    var t = new Date(ms + 252e5), m = t.getUTCMinutes(), h = t.getUTCHours();
    return (h < 10 ? '0' : '') + h + 'h' + (m < 10 ? '0' : '') + m + ' ngày ' +
      t.getUTCDate() + '/' + (t.getUTCMonth() + 1) + '/' + t.getUTCFullYear();
  }
  function line(r) {
    var a = [], t, n = 0, m = typeof r.name == 'string' && r.name.trim();
    ['cases', 'deaths', 'recovered'].forEach(function (k) { if (k in r) { if (!ok(r[k])) throw 0; n++; } });
    if (!m || !n) throw 0;
    if ('cases' in r) a.push(num(r.cases) + ' người mắc');
    if ('deaths' in r) a.push(num(r.deaths) + ' người tử vong');
    t = a.join(', ');
    if ('recovered' in r) { n = 'đã phục hồi ' + num(r.recovered); t = t ? t + ' (' + n + ')' : n; }
    return m + ': ' + t + '.';
  }
  function covid(box) {
    box && get('covid.json').then(function (c) {
      var newest = Date.parse(c.updated);
      return Promise.all(c.regions.map(function (r) {
        return r.source ? get(r.source).then(function (x) {
          if (!ok(x.updated)) throw 0;
          newest = Math.max(newest, x.updated);
          return { name: r.name, cases: x.cases, deaths: x.deaths, recovered: x.recovered };
        }) : r;
      })).then(function (rs) {
        var lines = rs.map(line), ul = box.querySelector('ul');
        if (!(newest > 0)) throw 0;
        box.querySelector('[data-bulletin-time]').textContent = when(newest);
        ul.textContent = '';
        lines.forEach(function (t) { ul.appendChild(d.createElement('li')).textContent = t; });
      });
    })['catch'](Object);
  }
  visitors();
  views(d.querySelector('[data-views-url]'));
  covid(d.querySelector('[data-bulletin]'));
  setInterval(visitors, 1e3 * (s.getAttribute('data-refresh') || 60));
})(document);
