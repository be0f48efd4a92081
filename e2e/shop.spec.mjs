// The shop in headless Chromium, as a shopper uses it: the listing and its slots, a buy in
// place and one through the result page, a buy with JavaScript off, the orders page, paying
// through the local Alipay stand-in, cancelling and the stock coming back. Run by
// scripts/e2e.sh (make e2e), which starts the servers and puts the run's products in
// SECKILL_E2E_DATA. Each step leaves a screenshot in SECKILL_E2E_SHOTS. Ends with the line
// "e2e: N passed, N failed".
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE = process.env.SECKILL_E2E_BASE;
const ALIPAY = process.env.SECKILL_E2E_ALIPAY;
const SHOTS = process.env.SECKILL_E2E_SHOTS || 'build/e2e-shots';
const DATA = JSON.parse(process.env.SECKILL_E2E_DATA || '{}');
if (!BASE || !DATA.slot) {
  console.error('e2e: run me through scripts/e2e.sh (make e2e)');
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

const origin = new URL(BASE).origin;
const results = [];
let shotNo = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function check(cond, what) {
  if (!cond) throw new Error(what);
}

// full: the whole page; else what the screen shows (an overlay, the top of a phone page)
async function shot(page, name, full = true) {
  const file = join(SHOTS, `${String(++shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: full, animations: 'disabled' }).catch(() => {});
  return file;
}

// One step: passes or fails on its own; a step that needs an earlier one is skipped (and
// counted as failed) when that one failed.
async function step(name, needs, fn) {
  const missing = (needs || []).filter((n) => !results.find((r) => r.name === n && r.ok));
  if (missing.length) {
    results.push({ name, ok: false });
    console.log(`not ok - ${name} # skipped: needs ${missing.join(', ')}`);
    return;
  }
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`not ok - ${name}: ${e.message.split('\n')[0]}`);
  }
}

// Polls fn (which may throw while a page navigates) until it returns a truthy value.
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    await sleep(300);
  }
  throw new Error(`timed out: ${what}${last ? ` (last: ${String(last).slice(0, 120)})` : ''}`);
}

const bodyText = (page) => page.evaluate(() => document.body.innerText);
const card = (page, id) => page.locator(`.card[data-id="${id}"]`);
const stockLeft = async (page, id) => Number(await card(page, id).locator('.left').textContent());

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

// Every request a page makes must stay on the shop (no CDN), and no script may throw.
function watchPage(page, label) {
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin) && !u.startsWith(ALIPAY) && !u.startsWith('data:')) {
      offsite.push(`${label}: ${u}`);
    }
  });
  page.on('pageerror', (e) => jsErrors.push(`${label}: ${e.message}`));
  page.on('dialog', (d) => d.accept());
}
const offsite = [];
const jsErrors = [];

const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
desk.setDefaultTimeout(15000);
const page = await desk.newPage();
watchPage(page, 'desktop');

const ids = DATA;
let paidOrder, formOrder, cancelOrder, cancelStockBefore;

await step('index: slot tabs, countdown, cards', [], async () => {
  await page.goto(`${BASE}/`);
  check((await page.title()).includes('限时秒杀'), 'title');
  const tabs = page.locator('nav.slots a.slot');
  check((await tabs.count()) === 8, 'eight slot tabs');
  const current = page.locator('a.slot.current');
  check((await current.getAttribute('data-slot')) === String(ids.slot), 'the current slot is marked');
  check((await current.getAttribute('class')).includes('selected'), 'and selected');
  const cd = page.locator('.slot-timer .countdown');
  const t1 = await cd.textContent();
  check(/^\d\d:\d\d:\d\d$/.test(t1), `countdown shows hh:mm:ss (${t1})`);
  await sleep(1300);
  check((await cd.textContent()) !== t1, 'the countdown ticks');
  const buy = card(page, ids.pay).locator('button');
  check((await buy.textContent()).includes('立即抢购') && (await buy.isEnabled()), 'on sale: buy enabled');
  check((await card(page, ids.pay).locator('.price-label').textContent()) === '秒杀价', '秒杀价 label');
  check((await card(page, ids.pay).locator('.was').textContent()).includes('原价 ¥399.00'), '原价');
  check((await card(page, ids.pay).locator('.was del').textContent()) === '¥399.00', 'struck');
  const sold = card(page, ids.soldout);
  check(await sold.locator('button').isDisabled(), 'sold out: buy disabled');
  check((await sold.locator('.tag').textContent()) === '已抢完', 'sold out: 已抢完');
  if (ids.later) {
    const later = card(page, ids.later);
    check(await later.locator('button').isDisabled(), 'not started: buy disabled');
    check((await later.locator('.tag').textContent()) === '未开始', 'not started: 未开始');
  }
  await shot(page, 'index');
});

// A second tab that stays on the listing while a sale is about to open in it.
let watcher;
await step('watch a sale about to open', [], async () => {
  if (!ids.soon) throw new Error('the slot ends within two minutes: no room for it');
  watcher = await desk.newPage();
  watchPage(watcher, 'watcher');
  await watcher.goto(`${BASE}/?slot=${ids.slot}`);
  await watcher.evaluate(() => { window.e2eMark = 1; });
  const c = card(watcher, ids.soon);
  check(await c.locator('button').isDisabled(), 'not started: disabled');
  check((await c.locator('.tag').textContent()) === '未开始', '未开始');
  check(/^\d\d:\d\d:\d\d$/.test(await c.locator('.starts .countdown').textContent()), 'counts down to its start');
  await shot(watcher, 'soon-before', false);
});

await step('switch slot', ['index: slot tabs, countdown, cards'], async () => {
  const other = ids.next_slot || ids.prev_slot;
  const pid = ids.next_slot ? ids.next : ids.prev;
  await page.click(`a.slot[data-slot="${other}"]`);
  await page.waitForURL(`**/?slot=${other}`);
  check((await page.locator('a.slot.selected').getAttribute('data-slot')) === String(other), 'tab selected');
  const c = card(page, pid);
  check(await c.locator('button').isDisabled(), 'buy disabled in another slot');
  const word = ids.next_slot ? '未开始' : '已结束';
  check((await c.locator('.tag').textContent()) === word, `status ${word}`);
  const timer = await page.locator('.slot-timer').textContent();
  check(ids.next_slot ? /距本场开始\s*\d\d:\d\d:\d\d/.test(timer) : timer.includes('本场已结束'),
    `slot timer (${timer.trim()})`);
  await shot(page, `slot-${other}`);
  if (ids.next_slot && ids.prev_slot) {
    await page.click(`a.slot[data-slot="${ids.prev_slot}"]`);
    await page.waitForURL(`**/?slot=${ids.prev_slot}`);
    check((await card(page, ids.prev).locator('.tag').textContent()) === '已结束', 'past slot: 已结束');
    check(await card(page, ids.prev).locator('button').isDisabled(), 'past slot: buy disabled');
    await shot(page, `slot-${ids.prev_slot}`);
  }
  await page.click('a.slot.current');
  await page.waitForURL(`**/?slot=${ids.slot}`);
});

await step('buy in place, the result turns into an order', ['index: slot tabs, countdown, cards'], async () => {
  const before = await stockLeft(page, ids.pay);
  await card(page, ids.pay).locator('button').click();
  const sheet = page.locator('#buy-sheet');
  await sheet.waitFor({ state: 'visible' });
  check((await sheet.locator('.sheet-title').textContent()) === '抢购成功', 'sheet says 抢购成功');
  paidOrder = (await sheet.locator('.sheet-oid').textContent()).trim();
  check(/^\d+$/.test(paidOrder), `order id ${paidOrder}`);
  await shot(page, 'buy-sheet', false);
  await until(async () => (await sheet.locator('.order-state').textContent()) === '待支付', 20000,
    'the worker writes the order');
  check(await sheet.locator('form.sheet-pay button').isVisible(), '去支付 offered');
  check(/\d\d:\d\d:\d\d/.test(await sheet.locator('.sheet-left .countdown').textContent()), 'pay countdown');
  await shot(page, 'buy-sheet-order', false);
  await sheet.locator('.sheet-close').click();
  const b = card(page, ids.pay).locator('button');
  check((await b.textContent()) === '已抢购' && (await b.isDisabled()), 'the card says 已抢购');
  await until(async () => (await stockLeft(page, ids.pay)) === before - 1, 8000, 'stock goes down by one');
});

await step('buy through the result page, which follows the order', ['index: slot tabs, countdown, cards'], async () => {
  await page.goto(`${BASE}/?slot=${ids.slot}`);
  // the form's own submit (no script handler): the page way, as without JavaScript
  await Promise.all([
    page.waitForURL(`**/buy/${ids.form}`),
    page.locator(`.card[data-id="${ids.form}"] form.buy`).evaluate((f) => f.submit()),
  ]);
  check((await page.locator('.result h1').textContent()) === '抢购成功', 'result page says 抢购成功');
  formOrder = (await page.locator('.result code').first().textContent()).trim();
  await shot(page, 'result');
  await until(async () => (await page.locator('.order-state').textContent()) === '待支付', 20000,
    'the result page turns into an order');
  check(await page.locator('form.payform button').isVisible(), '去支付 offered');
  check((await page.locator('form.payform').getAttribute('action')) === `/order/pay/${formOrder}`, 'pay form action');
  await shot(page, 'result-order');
});

await step('the same without JavaScript', [], async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' });
  ctx.setDefaultTimeout(15000);
  const p = await ctx.newPage();
  watchPage(p, 'nojs');
  await p.goto(`${BASE}/`);
  check(await card(p, ids.soldout).locator('button').isDisabled(), 'sold out disabled without JS');
  const cd = await p.locator('.slot-timer .countdown').textContent();
  check(/^\d\d:\d\d:\d\d$/.test(cd), 'the countdown has its time without JS');
  await Promise.all([p.waitForURL(`**/buy/${ids.nojs}`), card(p, ids.nojs).locator('button').click()]);
  check((await p.locator('.result h1').textContent()) === '抢购成功', 'result page without JS');
  await shot(p, 'nojs-result');
  // the <noscript> refresh moves on to the order's page, which refreshes until it is written
  await p.waitForURL('**/order/*', { timeout: 10000 });
  await until(async () => (await p.locator('.badge').textContent()) === '待支付', 20000, 'order page: 待支付');
  check(await p.locator('form[action^="/order/pay/"] button').isVisible(), 'order page has 去支付');
  check(await p.locator('form[action^="/order/cancel/"] button').isVisible(), 'order page has 取消订单');
  await shot(p, 'nojs-order');
  await p.goto(`${BASE}/orders/`);
  check((await p.locator('.order-card').count()) === 1, 'its orders page lists the order');
  await ctx.close();
});

await step('orders page: badges, countdown, buttons', ['buy in place, the result turns into an order'], async () => {
  await page.goto(`${BASE}/orders/`);
  const o = page.locator(`.order-card[data-order="${paidOrder}"]`);
  check((await o.locator('.badge').textContent()) === '待支付', 'badge 待支付');
  const cd = o.locator('.countdown');
  const t1 = await cd.textContent();
  check(/^00:0[0-5]:\d\d$/.test(t1), `pay countdown (${t1})`);
  await sleep(1300);
  check((await cd.textContent()) !== t1, 'the pay countdown ticks');
  check(await o.locator('form.pay button').isVisible(), '支付 button');
  check(await o.locator('form.cancel button').isVisible(), '取消 button');
  await shot(page, 'orders');
});

await step('pay through the Alipay stand-in', ['orders page: badges, countdown, buttons'], async () => {
  const o = page.locator(`.order-card[data-order="${paidOrder}"]`);
  await Promise.all([page.waitForURL((u) => u.origin === new URL(ALIPAY).origin),
    o.locator('form.pay button').click()]);
  await page.getByRole('button', { name: '付款' }).waitFor();
  await shot(page, 'alipay-cashier');
  await Promise.all([page.waitForURL((u) => u.origin === origin && u.pathname.startsWith('/result')),
    page.getByRole('button', { name: '付款' }).click()]);
  await until(async () => (await bodyText(page)).includes('支付成功'), 20000, 'the result page says 支付成功');
  await shot(page, 'paid');
});

await step('the paid order shows 已支付 and its pay time', ['pay through the Alipay stand-in'], async () => {
  await page.goto(`${BASE}/orders/`);
  const o = page.locator(`.order-card[data-order="${paidOrder}"]`);
  check((await o.locator('.badge').textContent()) === '已支付', 'badge 已支付');
  check(/支付时间 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(await o.locator('.paid-at').textContent()), 'pay time shown');
  check((await o.locator('form').count()) === 0, 'no more buttons');
  await shot(page, 'orders-paid');
});

await step('buy another to cancel', ['index: slot tabs, countdown, cards'], async () => {
  await page.goto(`${BASE}/`);
  cancelStockBefore = await stockLeft(page, ids.cancel);
  await card(page, ids.cancel).locator('button').click();
  const sheet = page.locator('#buy-sheet');
  await sheet.waitFor({ state: 'visible' });
  cancelOrder = (await sheet.locator('.sheet-oid').textContent()).trim();
  await until(async () => (await sheet.locator('.order-state').textContent()) === '待支付', 20000, 'order written');
  await sheet.locator('.sheet-close').click();
  await until(async () => (await stockLeft(page, ids.cancel)) === cancelStockBefore - 1, 8000, 'stock down');
});

await step('cancel it: 已取消, and the stock comes back', ['buy another to cancel'], async () => {
  await page.goto(`${BASE}/orders/`);
  const o = page.locator(`.order-card[data-order="${cancelOrder}"]`);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes(`/order/cancel/${cancelOrder}`)),
    o.locator('form.cancel button').click(), // the script asks first: the dialog is accepted
  ]);
  await until(async () => new URL(page.url()).pathname === '/orders/' &&
    (await page.locator(`.order-card[data-order="${cancelOrder}"] .badge`).textContent()) === '已取消',
  15000, 'back on the orders page, the order 已取消');
  await shot(page, 'orders-cancelled');
  await page.goto(`${BASE}/`);
  await until(async () => {
    const n = await stockLeft(page, ids.cancel);
    if (n !== cancelStockBefore) await page.reload();
    return n === cancelStockBefore;
  }, 15000, `stock back to ${cancelStockBefore}`);
  check(await card(page, ids.cancel).locator('button').isEnabled(), 'buyable again');
  await shot(page, 'stock-back');
});

await step('phone: index and orders fit a 390 px screen', ['index: slot tabs, countdown, cards'], async () => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2,
    isMobile: true, hasTouch: true, locale: 'zh-CN', storageState: await desk.storageState() });
  phone.setDefaultTimeout(15000);
  const p = await phone.newPage();
  watchPage(p, 'phone');
  await p.goto(`${BASE}/`);
  const w = await p.evaluate(() => document.documentElement.scrollWidth);
  check(w <= 390, `no sideways scrolling on the index (${w}px)`);
  check(await p.locator('a.slot.current').isVisible(), 'current slot tab visible');
  await shot(p, 'phone-index', false);
  await shot(p, 'phone-index-full');
  await p.goto(`${BASE}/orders/`);
  const w2 = await p.evaluate(() => document.documentElement.scrollWidth);
  check(w2 <= 390, `no sideways scrolling on the orders (${w2}px)`);
  check((await p.locator('.order-card').count()) >= 2, 'the same orders');
  await shot(p, 'phone-orders');
  await phone.close();
});

await step('a sale opening while the page is open turns buyable by itself', ['watch a sale about to open'], async () => {
  const b = card(watcher, ids.soon).locator('button');
  await until(async () => (await b.isEnabled()) && (await b.textContent()) === '立即抢购', 60000,
    'the button turns on at the start');
  check((await card(watcher, ids.soon).locator('.tag').textContent()) === '抢购中', '抢购中');
  check((await card(watcher, ids.soon).locator('.starts').count()) === 0, 'the start countdown is gone');
  check(await watcher.evaluate(() => window.e2eMark === 1), 'without a reload of the page');
  await shot(watcher, 'soon-open', false);
});

await step('nothing from outside the shop, no script errors', [], async () => {
  check(offsite.length === 0, `off-site requests: ${offsite.join(' ')}`);
  check(jsErrors.length === 0, `script errors: ${jsErrors.join(' | ')}`);
});

await browser.close();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`screenshots: ${SHOTS}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
