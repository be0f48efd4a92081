// mod_seckill's pages work without this script: forms post, links lead on, and <noscript>
// refreshes follow an order. With it: countdowns tick (on the server's clock, so a phone
// with a wrong clock still shows the right time left), the listing buys in place and keeps
// its stock live, and the result and order pages follow an order until the worker has
// written it, then offer to pay.
(function () {
  'use strict';

  var skew = 0; // server clock minus this device's clock, ms
  var WORDS = {
    queued: '订单生成中…', pending_payment: '待支付', paid: '已支付', completed: '已完成',
    cancelled: '已取消', failed: '下单失败，库存已退回'
  };
  // what a buy's answer means to the shopper, by the answer's code (README: POST /buy/{id})
  var TITLES = {
    ok: '抢购成功', sold_out: '手慢了，商品已抢完', already_bought: '您已抢到过该商品',
    not_started: '秒杀尚未开始', ended: '秒杀已结束', rate_limited: '操作太频繁',
    no_such_product: '商品不存在', unavailable: '系统繁忙', forbidden: '页面已过期',
    bad_request: '请求无效', method_not_allowed: '请求无效'
  };
  // the button a card keeps after such an answer (the buy cannot succeed again)
  var SPENT = { ok: '已抢购', already_bought: '已抢购', sold_out: '已抢完', ended: '已结束' };

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function hms(s) { return pad(Math.floor(s / 3600)) + ':' + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60); }
  function now() { return Date.now() + skew; }
  function learnClock(iso) {
    var t = Date.parse(iso || '');
    if (!isNaN(t)) skew = t - Date.now();
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (d) { if (d && d.now) learnClock(d.now); return d; });
  }

  // ---- countdowns: <span class="countdown" data-until="ISO" data-done="reload|refresh|expire">
  var clocks = [];
  function watch(el) {
    var until = Date.parse(el.dataset.until || '');
    if (isNaN(until)) return;
    clocks = clocks.filter(function (c) { return c.el !== el; });
    // only a countdown that was running when the page came fires its action at zero: a page
    // opened after the moment must not reload itself over and over
    clocks.push({ el: el, until: until, armed: until > now() });
    tick();
  }
  function tick() {
    clocks = clocks.filter(function (c) {
      if (!c.el.isConnected) return false;
      var left = Math.max(0, Math.ceil((c.until - now()) / 1000));
      c.el.textContent = hms(left);
      if (left > 0) return true;
      if (c.armed) done(c.el);
      return false;
    });
  }
  function done(el) {
    var what = el.dataset.done;
    if (what === 'reload') setTimeout(function () { location.reload(); }, 1200);
    else if (what === 'refresh') setTimeout(refreshListing, 1200);
    else if (what === 'expire') expire(el);
  }
  // the pay window closed: no more paying; the worker cancels the order shortly
  function expire(el) {
    var box = el.closest('.order-card, .order, .result, .sheet-panel') || document;
    $$('form[action^="/order/pay/"] button', box).forEach(function (b) {
      b.disabled = true;
      b.textContent = '支付已超时';
    });
    var line = el.closest('.pay-left, .sheet-left');
    if (line) {
      line.classList.add('expired');
      line.textContent = '支付已超时，订单即将自动取消';
    }
  }

  // ---- the listing: stock, sold bar, state and button of each card, kept live
  var products = $('.products');
  function applyProduct(p) {
    var card = $('.card[data-id="' + p.id + '"]');
    if (!card) return;
    card.className = 'card state-' + p.status + (p.sold_out ? ' sold-out' : '');
    $('.left', card).textContent = p.stock;
    $('.pct', card).textContent = p.sold_percentage;
    $('.bar span', card).style.width = p.sold_percentage + '%';
    $('.bar', card).setAttribute('aria-valuenow', p.sold_percentage);
    $('.tag', card).textContent = p.status_text;
    var starts = $('.starts', card);
    if (starts && !p.not_started) starts.remove();
    var b = $('form.buy button', card);
    if (card.dataset.spent || b.classList.contains('busy')) return;
    b.disabled = !p.on_sale;
    b.textContent = p.on_sale ? '立即抢购' : p.status_text;
  }
  function refreshListing() {
    if (!products) return;
    getJSON(location.pathname + location.search).then(function (d) {
      if (d && d.products) d.products.forEach(applyProduct);
    }).catch(function () {});
  }
  if (products) {
    setInterval(function () {
      if (document.visibilityState === 'visible' && !$('.sheet:not([hidden])')) refreshListing();
    }, 5000);
  }

  // ---- following an order until the worker has written it
  function follow(oid, onUpdate) {
    var tries = 0;
    (function poll() {
      getJSON('/order/' + oid).then(function (o) {
        if (o && o.status) onUpdate(o);
        if ((!o || !o.status || o.status === 'queued') && ++tries < 120) setTimeout(poll, 1000);
      }).catch(function () { if (++tries < 120) setTimeout(poll, 2000); });
    })();
  }
  // shows an order's state in a box: its words, and once it waits for payment the pay form
  // and the time left to pay
  function showOrder(box, o) {
    var state = $('.order-state', box);
    state.textContent = WORDS[o.status] || o.status;
    state.classList.toggle('done', o.status !== 'queued' && o.status !== 'failed');
    var form = $('form.payform, form.sheet-pay', box);
    var left = $('.pay-left, .sheet-left', box);
    var msg = $('.msg, .sheet-msg', box);
    if (msg && o.status !== 'queued') {
      msg.textContent = o.status === 'pending_payment'
        ? '订单已生成，请在支付时间内完成支付，超时订单自动取消。'
        : o.status === 'failed' ? '很抱歉，订单未能生成，库存已退回。' : '';
    }
    if (o.status === 'pending_payment' && o.pay_seconds_left > 0) {
      form.hidden = false;
      if (left) {
        left.hidden = false;
        var c = $('.countdown', left);
        c.dataset.until = o.pay_deadline;
        c.dataset.done = 'expire';
        watch(c);
      }
    }
  }

  // ---- the buy, in place, on the listing
  var sheet = $('#buy-sheet');
  function closeSheet() {
    if (!sheet || sheet.hidden) return;
    sheet.hidden = true;
    if (sheet.dataset.reload) location.reload();
    else refreshListing();
  }
  function openSheet(d) {
    var ok = d.code === 'ok';
    sheet.className = 'sheet ' + (ok ? 'ok' : 'error');
    sheet.dataset.reload = d.code === 'forbidden' ? '1' : '';
    $('.sheet-title', sheet).textContent = TITLES[d.code] || (ok ? '抢购成功' : '未能抢到');
    $('.sheet-msg', sheet).textContent = (d.msg || '') +
      (d.retry_after ? '（请 ' + d.retry_after + ' 秒后再试）' : '');
    $('.sheet-order', sheet).hidden = !ok;
    $('.sheet-left', sheet).hidden = true;
    var pay = $('.sheet-pay', sheet);
    pay.hidden = true;
    if (ok) {
      $('.sheet-oid', sheet).textContent = d.order_id;
      $('.order-state', sheet).textContent = WORDS.queued;
      $('.order-state', sheet).classList.remove('done');
      pay.action = '/order/pay/' + d.order_id;
      follow(d.order_id, function (o) { if (!sheet.hidden) showOrder(sheet, o); });
    }
    sheet.hidden = false;
    $('.sheet-close', sheet).focus();
  }
  function buy(form) {
    var b = $('button', form), card = form.closest('.card');
    var token = form.elements.csrf_token.value;
    if (b.disabled || b.classList.contains('busy')) return;
    b.classList.add('busy');
    b.textContent = '抢购中…';
    fetch(form.action, {
      method: 'POST', credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRF-Token': token,
                 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'csrf_token=' + encodeURIComponent(token)
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, code: 'unavailable', msg: '系统繁忙，请稍后再试' }; });
    }).then(function (d) {
      b.classList.remove('busy');
      if (SPENT[d.code]) {
        card.dataset.spent = '1';
        b.disabled = true;
        b.textContent = SPENT[d.code];
      } else {
        b.textContent = '立即抢购';
      }
      openSheet(d);
    }).catch(function () {
      b.classList.remove('busy');
      b.textContent = '立即抢购';
      openSheet({ ok: false, code: 'network', msg: '网络异常，请检查网络后重试' });
    });
  }
  if (sheet) {
    $('.sheet-close', sheet).addEventListener('click', closeSheet);
    sheet.addEventListener('click', function (e) { if (e.target === sheet) closeSheet(); });
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeSheet(); });
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (sheet && form.matches('form.buy')) {
      e.preventDefault();
      buy(form);
    } else if (form.matches('form.cancel') && !window.confirm('确定取消这个订单吗？取消后库存将退回。')) {
      e.preventDefault();
    }
  });

  // ---- the buy's result page (the form way): follow the order, then offer to pay
  $$('.result [data-poll]').forEach(function (el) {
    var box = el.closest('.result');
    follow(el.dataset.poll.replace('/order/', ''), function (o) { showOrder(box, o); });
  });

  // ---- an order's page: while the worker has not written it, wait and then show it
  var order = $('section.order[data-status="queued"]');
  if (order) {
    follow(order.dataset.order, function (o) {
      if (o.status !== 'queued') location.reload();
    });
  }

  var first = $('[data-now]');
  if (first) learnClock(first.dataset.now);
  $$('.countdown[data-until]').forEach(watch);
  setInterval(tick, 1000);
})();
