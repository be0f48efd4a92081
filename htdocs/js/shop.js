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
  // The result page follows its order until the worker has written it.
  var words = { queued: '订单生成中…', pending_payment: '订单已生成，待支付', paid: '已支付',
                cancelled: '已取消', failed: '下单失败，库存已退回' };
  document.querySelectorAll('[data-poll]').forEach(function (el) {
    var tries = 0;
    (function poll() {
      fetch(el.dataset.poll, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (r) { return r.json(); })
        .then(function (o) {
          if (o && o.status) el.textContent = words[o.status] || o.status;
          if ((!o || o.status === 'queued') && ++tries < 120) setTimeout(poll, 1000);
        })
        .catch(function () { if (++tries < 120) setTimeout(poll, 2000); });
    })();
  });
  var els = document.querySelectorAll('.countdown[data-until]');
  if (!els.length) return;
  var serverNow = Date.parse(els[0].dataset.now);
  if (!isNaN(serverNow)) skew = serverNow - Date.now();
  function all() { els.forEach(tick); }
  all();
  setInterval(all, 1000);
})();
