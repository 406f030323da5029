/* Shows each banner only between its data-start and data-end (epoch ms,
   set at build time from content/banners.yml), so a banner starts and ends
   on its day even when nobody rebuilds; a slot with nothing to show is
   hidden with its heading. Re-checked every minute. */
(function (d) {
  function run() {
    var now = Date.now();
    [].forEach.call(d.querySelectorAll('[data-banner-slot]'), function (slot) {
      var shown = 0;
      [].forEach.call(slot.querySelectorAll('.banner'), function (b) {
        var s = +b.getAttribute('data-start') || 0, e = +b.getAttribute('data-end') || Infinity;
        b.hidden = !(now >= s && now < e);
        shown += !b.hidden;
      });
      slot.hidden = !shown;
    });
  }
  run();
  setInterval(run, 6e4);
})(document);
