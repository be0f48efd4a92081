// Countdowns: count down to data-until using the server's clock (data-now) so a phone with
// a wrong clock still shows the right time left. Everything works without this script.
(function () {
  'use strict';
  var skew = 0;
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function tick(el) {
    var left = Math.max(0, Math.floor((Date.parse(el.dataset.until) - (Date.now() + skew)) / 1000));
    el.textContent = pad(Math.floor(left / 3600)) + ':' + pad(Math.floor(left / 60) % 60) + ':' + pad(left % 60);
    return left;
  }
  var els = document.querySelectorAll('.countdown[data-until]');
  if (!els.length) return;
  var serverNow = Date.parse(els[0].dataset.now);
  if (!isNaN(serverNow)) skew = serverNow - Date.now();
  function all() { els.forEach(tick); }
  all();
  setInterval(all, 1000);
})();
