#!/usr/bin/python3
"""alipay_standin.py - a local stand-in for Alipay's open-API gateway (RSA2), for development
and tests where Alipay's sandbox cannot be reached. It speaks Alipay's protocol, so the shop
talks to it exactly as to https://openapi-sandbox.dl.alipaydev.com/gateway.do, by URL.

    tools/alipay_standin.py --port 38091 --app-id 2021000000000000 \
        --alipay-private-key keys/alipay_private_key.pem --app-public-key keys/app_public_key.pem

Python 3 standard library only; RSA through the `openssl` command (dgst -sha256 -sign/-verify).
Trades live in memory and are lost when it stops (SIGTERM or SIGINT).

GET|POST /gateway.do  (common params in the query and/or a form body, as Alipay's SDKs send)
  method=alipay.trade.page.pay   app signature checked (sign string: every param but `sign`,
      empty values skipped, sorted by key, values raw), app_id, biz_content (out_trade_no,
      total_amount, subject, product_code FAST_INSTANT_TRADE_PAY, optional time_expire).
      Shows the cashier page with a "付款" button; an error page (as Alipay's, with the
      error code, e.g. invalid-signature) otherwise. The trade exists (WAIT_BUYER_PAY) from
      the moment the page is shown (real Alipay: once the buyer logs in).
  POST /pay (the button): TRADE_SUCCESS; a signed notify is POSTed to notify_url (form
      encoded, retried on anything but the body `success`, after the delays of
      --notify-retries); the browser is redirected (302) to return_url with the signed
      synchronous-return params.
  method=alipay.trade.query | alipay.trade.close | alipay.trade.refund   signed JSON answers
      {"alipay_trade_<x>_response":{...},"sign":"..."}: code 10000 Success, business errors
      code 40004 with sub_code ACQ.TRADE_NOT_EXIST, ACQ.TRADE_STATUS_ERROR,
      ACQ.REFUND_AMT_NOT_EQUAL_TOTAL, ...; a bad signature: code 40002 isv.invalid-signature.
Notifies and returns are signed over every param but `sign` and `sign_type` (Alipay's rule).

Test helpers (not Alipay's; JSON answers):
  POST /test/notify   re-send a notify once, synchronously: the last one sent (no params), the
      last one of a trade (out_trade_no=X), with fields changed (set.<key>=value: re-signed,
      unless resign=0, which forges one with a stale sign), or to another URL
      (notify_url=URL). Answers {"ok":true,"status":200,"body":"success","params":{...}}.
  POST /test/pay      out_trade_no=X: pays as the button does, without the browser (notify=0:
      the notify is not sent, only kept for /test/notify: a late notify); answers
      {"ok":true,"return_url":"<the signed redirect>","trade_no":...}.
  GET  /test/trades   every trade in memory; GET /test/notifies: every notify attempt.
  POST /test/reset    forgets every trade and notify.
"""

import argparse
import base64
import decimal
import html
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE_PAY = "alipay.trade.page.pay"
API_METHODS = ("alipay.trade.query", "alipay.trade.close", "alipay.trade.refund")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
AMOUNT_RE = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


def log(msg):
    sys.stderr.write("alipay-standin: %s\n" % msg)
    sys.stderr.flush()


def now_str(t=None):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t if t is not None else time.time()))


def money(d):
    return str(decimal.Decimal(d).quantize(decimal.Decimal("0.01")))


# ---- RSA through the openssl command ----

class Keys:
    """The stand-in's private key (signs as Alipay) and the app's public key (verifies it)."""

    def __init__(self, alipay_private, app_public):
        self.tmp = tempfile.mkdtemp(prefix="alipay-standin.")
        self.priv = self._normalize(alipay_private, private=True)
        self.pub = self._normalize(app_public, private=False)

    def _ok(self, path, private):
        args = ["openssl", "pkey", "-in", path, "-noout"] + ([] if private else ["-pubin"])
        return subprocess.run(args, capture_output=True).returncode == 0

    def _normalize(self, path, private):
        """A PEM openssl dgst reads, from any form: PKCS#1/PKCS#8/SPKI PEM, RSA PUBLIC KEY
        PEM, or Alipay's raw one-line base64 of the DER."""
        try:
            with open(path, "rb") as f:
                text = f.read().decode("ascii", "replace")
        except OSError as e:
            sys.exit("alipay-standin: %s: %s" % (path, e.strerror))
        what = "private" if private else "public"
        out = os.path.join(self.tmp, "%s.pem" % what)
        if "-----BEGIN" in text:
            if not private and "BEGIN RSA PUBLIC KEY" in text:
                subprocess.run(["openssl", "rsa", "-RSAPublicKey_in", "-in", path, "-pubout",
                                "-out", out], capture_output=True)
            else:
                out = path
        else:
            b64 = "".join(text.split())
            lines = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
            labels = ["PRIVATE KEY", "RSA PRIVATE KEY"] if private else ["PUBLIC KEY"]
            for label in labels:
                with open(out, "w") as f:
                    f.write("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, lines, label))
                os.chmod(out, 0o600)
                if self._ok(out, private):
                    break
            else:
                if not private:  # PKCS#1 public DER
                    der = os.path.join(self.tmp, "pub.der")
                    with open(der, "wb") as f:
                        f.write(base64.b64decode(b64 + "==="[: (4 - len(b64) % 4) % 4]))
                    subprocess.run(["openssl", "rsa", "-RSAPublicKey_in", "-inform", "DER",
                                    "-in", der, "-pubout", "-out", out], capture_output=True)
        if not os.path.exists(out) or not self._ok(out, private):
            sys.exit("alipay-standin: %s: expected an RSA %s key (PEM or raw base64 DER)"
                     % (path, what))
        return out

    def sign(self, data):
        r = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.priv], input=data,
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("openssl dgst -sign: " + r.stderr.decode(errors="replace"))
        return base64.b64encode(r.stdout).decode("ascii")

    def verify(self, data, sign_b64):
        try:
            sig = base64.b64decode(sign_b64.replace(" ", "+"), validate=True)
        except (ValueError, TypeError):
            return False
        if not sig:
            return False
        with tempfile.NamedTemporaryFile(dir=self.tmp, suffix=".sig") as f:
            f.write(sig)
            f.flush()
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.pub,
                                "-signature", f.name], input=data, capture_output=True)
        return r.returncode == 0


def sign_string(params, skip_sign_type=False):
    items = sorted((k, v) for k, v in params.items()
                   if v not in (None, "") and k != "sign" and
                   not (skip_sign_type and k == "sign_type"))
    return "&".join("%s=%s" % kv for kv in items)


# ---- state ----

class State:
    def __init__(self, args, keys):
        self.args = args
        self.keys = keys
        self.lock = threading.Lock()
        self.trades = {}          # out_trade_no -> dict
        self.last_notify = {}     # out_trade_no -> (url, params)
        self.last_any = None
        self.attempts = []        # every notify attempt, for /test/notifies

    def reset(self):
        with self.lock:
            self.trades.clear()
            self.last_notify.clear()
            self.last_any = None
            self.attempts.clear()

    def find(self, biz):
        otn, tn = biz.get("out_trade_no"), biz.get("trade_no")
        with self.lock:
            if otn and otn in self.trades:
                return self.trades[otn]
            if tn:
                for t in self.trades.values():
                    if t["trade_no"] == tn:
                        return t
        return None

    def signed(self, params):
        """params plus sign_type and sign, signed as Alipay signs notifies and returns."""
        p = dict(params)
        p["sign_type"] = "RSA2"
        p["sign"] = self.keys.sign(sign_string(p, skip_sign_type=True).encode())
        return p

    # notifies

    def notify_params(self, t):
        return self.signed({
            "notify_time": now_str(), "notify_type": "trade_status_sync",
            "notify_id": "%032x" % random.getrandbits(128), "app_id": self.args.app_id,
            "auth_app_id": self.args.app_id, "charset": "utf-8", "version": "1.0",
            "trade_no": t["trade_no"], "out_trade_no": t["out_trade_no"],
            "buyer_id": self.args.buyer_id, "buyer_logon_id": "sandbox***@example.com",
            "seller_id": self.args.seller_id, "seller_email": "seller@example.com",
            "total_amount": t["total_amount"], "receipt_amount": t["total_amount"],
            "invoice_amount": t["total_amount"], "buyer_pay_amount": t["total_amount"],
            "point_amount": "0.00", "subject": t["subject"], "trade_status": t["status"],
            "gmt_create": t["gmt_create"], "gmt_payment": t["gmt_payment"],
            "fund_bill_list": json.dumps([{"amount": t["total_amount"], "fundChannel": "ALIPAYACCOUNT"}],
                                         separators=(",", ":")),
        })

    def post_notify(self, url, params, attempt):
        body = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "User-Agent": "Mozilla/4.0 (alipay-standin)"})
        status, text = 0, ""
        try:
            with urllib.request.urlopen(req, timeout=self.args.notify_timeout) as r:
                status, text = r.status, r.read(4096).decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read(4096).decode("utf-8", "replace")
        except Exception as e:  # refused, timeout, ...
            text = "(%s)" % e
        ok = status == 200 and text.strip() == "success"
        rec = {"time": now_str(), "attempt": attempt, "url": url,
               "out_trade_no": params.get("out_trade_no"), "notify_id": params.get("notify_id"),
               "trade_status": params.get("trade_status"), "status": status,
               "body": text[:200], "ok": ok}
        with self.lock:
            self.attempts.append(rec)
        log("notify #%d %s out_trade_no=%s trade_status=%s -> %s %r%s" % (
            attempt, url, params.get("out_trade_no"), params.get("trade_status"), status or "-",
            text.strip()[:60], "" if ok else " (will retry)" if attempt <= len(self.args.retries)
            else " (giving up)"))
        return status, text, ok

    def send_notify(self, url, params):
        """Posts in the background, retrying after each delay of --notify-retries."""
        with self.lock:
            self.last_notify[params["out_trade_no"]] = (url, params)
            self.last_any = (url, params)

        def run():
            for i, delay in enumerate([0] + self.args.retries):
                if delay:
                    time.sleep(delay)
                if self.post_notify(url, params, i + 1)[2]:
                    return
        threading.Thread(target=run, daemon=True).start()

    def pay(self, t, notify=True):
        """TRADE_SUCCESS, the notify sent (with notify=False only kept for /test/notify, a
        notify that is late); returns the signed return URL (or None)."""
        with self.lock:
            if t["status"] != "WAIT_BUYER_PAY":
                return None, "ACQ.TRADE_STATUS_ERROR"
            if t["time_expire"] and time.time() > t["time_expire"]:
                t["status"] = "TRADE_CLOSED"
                return None, "ACQ.TRADE_HAS_CLOSE"
            t["status"] = "TRADE_SUCCESS"
            t["gmt_payment"] = now_str()
        log("paid out_trade_no=%s trade_no=%s %s" % (t["out_trade_no"], t["trade_no"],
                                                      t["total_amount"]))
        if t["notify_url"] and notify:
            self.send_notify(t["notify_url"], self.notify_params(t))
        elif t["notify_url"]:
            with self.lock:
                self.last_notify[t["out_trade_no"]] = (t["notify_url"], self.notify_params(t))
                self.last_any = self.last_notify[t["out_trade_no"]]
        if not t["return_url"]:
            return "", None
        ret = self.signed({
            "app_id": self.args.app_id, "auth_app_id": self.args.app_id,
            "method": "alipay.trade.page.pay.return", "charset": "utf-8", "version": "1.0",
            "timestamp": now_str(), "trade_no": t["trade_no"], "out_trade_no": t["out_trade_no"],
            "total_amount": t["total_amount"], "seller_id": self.args.seller_id})
        sep = "&" if "?" in t["return_url"] else "?"
        return t["return_url"] + sep + urllib.parse.urlencode(ret, quote_via=urllib.parse.quote), None


# ---- HTTP ----

PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>%(title)s</title>
<style>body{font-family:sans-serif;max-width:32em;margin:3em auto;color:#333}
h1{color:#1677ff;font-size:1.4em}.amount{font-size:2em;color:#f60}
button{background:#1677ff;color:#fff;border:0;padding:.7em 3em;font-size:1.1em;border-radius:4px}
dt{color:#888}.err{color:#c00}</style></head><body>
<h1>支付宝 · 收银台 (local stand-in)</h1>
%(body)s
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "alipay-standin/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if self.server.state.args.verbose:
            log("%s %s" % (self.address_string(), fmt % a))

    @property
    def st(self):
        return self.server.state

    # plumbing

    def params(self):
        u = urllib.parse.urlsplit(self.path)
        raw = u.query
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            if n > 1 << 20:
                raise ValueError("body too large")
            body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            raw = "&".join(x for x in (raw, body) if x)
        out = {}
        for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True, encoding="utf-8"):
            out.setdefault(k, v)
        return u.path, out

    def send(self, status, body, ctype="text/html; charset=utf-8", headers=()):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, obj, status=200):
        self.send(status, json.dumps(obj, ensure_ascii=False), "application/json; charset=utf-8")

    def page(self, title, body, status=200, headers=()):
        self.send(status, PAGE % {"title": html.escape(title), "body": body}, headers=headers)

    def error_page(self, code, reason):
        log("page.pay refused: %s: %s" % (code, reason))
        self.page("支付宝 - 出错了", "<h2 class=err>出错了</h2><dl><dt>错误代码</dt><dd id=code>%s"
                  "</dd><dt>错误原因</dt><dd id=reason>%s</dd></dl>"
                  % (html.escape(code), html.escape(reason)),
                  headers=[("X-Alipay-Error", code)])

    def answer(self, method, fields):
        """Signed JSON as Alipay's gateway writes it: the object's exact text is signed."""
        name = (method or "error").replace(".", "_") + "_response"
        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        sig = self.st.keys.sign(text.encode("utf-8"))
        self.send(200, '{"%s":%s,"sign":"%s"}' % (name, text, sig),
                  "application/json;charset=utf-8")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def route(self):
        try:
            path, p = self.params()
        except ValueError as e:
            return self.send(400, str(e), "text/plain")
        try:
            if path == "/gateway.do":
                return self.gateway(p)
            if path == "/pay" and self.command == "POST":
                return self.pay_button(p)
            if path.startswith("/test/"):
                return self.test_helper(path, p)
            self.send(404, "not found\n", "text/plain")
        except BrokenPipeError:
            pass
        except Exception as e:  # a bug here must not look like Alipay's answer
            log("internal error on %s: %r" % (self.path, e))
            self.send(500, "alipay-standin internal error: %s\n" % e, "text/plain")

    # the gateway

    def common_error(self, p):
        """The code/sub_code of a request whose common params or signature are wrong."""
        a = self.st.args
        for k in ("app_id", "method", "sign", "sign_type", "timestamp", "version"):
            if not p.get(k):
                return "40001", "Missing Required Arguments", "isv.missing-" + k.replace("_", "-"), \
                    "缺少必选参数 " + k
        if p["app_id"] != a.app_id:
            return "40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数"
        if p["sign_type"] != "RSA2":
            return "40002", "Invalid Arguments", "isv.invalid-signature-type", "无效的签名类型"
        if p.get("charset", "utf-8").lower() != "utf-8" or p.get("format", "JSON") != "JSON":
            return "40002", "Invalid Arguments", "isv.invalid-charset", "字符集或格式错误"
        if not TS_RE.match(p["timestamp"]):
            return "40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数"
        if p["version"] != "1.0":
            return "40002", "Invalid Arguments", "isv.invalid-version", "无效的版本号"
        s = sign_string(p)
        if not self.st.keys.verify(s.encode("utf-8"), p["sign"]):
            return "40002", "Invalid Arguments", "isv.invalid-signature", \
                "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：" + s
        return None

    def biz(self, p):
        try:
            b = json.loads(p.get("biz_content") or "")
        except ValueError:
            return None
        return b if isinstance(b, dict) else None

    def gateway(self, p):
        method = p.get("method", "")
        if method == PAGE_PAY:
            return self.page_pay(p)
        err = self.common_error(p)
        if method not in API_METHODS:
            if err and err[2] != "isv.invalid-signature":
                code, msg, sub, submsg = err
            else:
                code, msg, sub, submsg = ("40002", "Invalid Arguments", "isv.invalid-method",
                                          "不存在的方法名")
            return self.answer(None, {"code": code, "msg": msg, "sub_code": sub,
                                      "sub_msg": submsg})
        if err:
            log("%s refused: %s" % (method, err[2]))
            return self.answer(method, dict(zip(("code", "msg", "sub_code", "sub_msg"), err)))
        biz = self.biz(p)
        if biz is None or not (biz.get("out_trade_no") or biz.get("trade_no")):
            return self.answer(method, {"code": "40002", "msg": "Invalid Arguments",
                                        "sub_code": "isv.invalid-parameter" if biz is not None
                                        else "isv.invalid-biz-content",
                                        "sub_msg": "参数无效: out_trade_no 或 trade_no"})
        return getattr(self, method.split(".")[-1])(method, biz)

    def fail(self, method, sub, submsg, extra=None):
        f = {"code": "40004", "msg": "Business Failed", "sub_code": sub, "sub_msg": submsg}
        f.update(extra or {})
        log("%s: %s" % (method, sub))
        return self.answer(method, f)

    def query(self, method, biz):
        t = self.st.find(biz)
        if not t:
            return self.fail(method, "ACQ.TRADE_NOT_EXIST", "交易不存在", {
                "buyer_pay_amount": "0.00", "invoice_amount": "0.00",
                "out_trade_no": biz.get("out_trade_no", ""), "point_amount": "0.00",
                "receipt_amount": "0.00"})
        with self.st.lock:
            paid = t["gmt_payment"] is not None
            f = {"code": "10000", "msg": "Success", "buyer_logon_id": "sandbox***@example.com",
                 "buyer_pay_amount": t["total_amount"] if paid else "0.00",
                 "buyer_user_id": self.st.args.buyer_id,
                 "invoice_amount": t["total_amount"] if paid else "0.00",
                 "out_trade_no": t["out_trade_no"], "point_amount": "0.00",
                 "receipt_amount": t["total_amount"] if paid else "0.00",
                 "total_amount": t["total_amount"], "trade_no": t["trade_no"],
                 "trade_status": t["status"]}
            if paid:
                f["send_pay_date"] = t["gmt_payment"]
            if t["refunded"] > 0:
                f["refund_amount"] = money(t["refunded"])  # not Alipay's; handy
        return self.answer(method, f)

    def close(self, method, biz):
        t = self.st.find(biz)
        if not t:
            return self.fail(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        with self.st.lock:
            status = t["status"]
            if status == "WAIT_BUYER_PAY":
                t["status"] = "TRADE_CLOSED"
        if status != "WAIT_BUYER_PAY":
            return self.fail(method, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        log("closed out_trade_no=%s" % t["out_trade_no"])
        return self.answer(method, {"code": "10000", "msg": "Success",
                                    "out_trade_no": t["out_trade_no"], "trade_no": t["trade_no"]})

    def refund(self, method, biz):
        t = self.st.find(biz)
        if not t:
            return self.fail(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        amount = str(biz.get("refund_amount", ""))
        if not AMOUNT_RE.match(amount) or decimal.Decimal(amount) <= 0:
            return self.answer(method, {"code": "40002", "msg": "Invalid Arguments",
                                        "sub_code": "isv.invalid-parameter",
                                        "sub_msg": "参数无效: refund_amount"})
        amount = decimal.Decimal(amount)
        req_no = str(biz.get("out_request_no") or t["out_trade_no"])
        with self.st.lock:
            if req_no in t["refunds"]:  # the same request again: same answer, no money moves
                if t["refunds"][req_no] != amount:
                    err = "ACQ.PARAM_ERROR"
                else:
                    err, fund_change = None, "N"
            elif t["gmt_payment"] is None or t["status"] == "TRADE_FINISHED":
                err = "ACQ.TRADE_STATUS_ERROR"
            elif t["refunded"] + amount > decimal.Decimal(t["total_amount"]):
                err = "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
            else:
                err, fund_change = None, "Y"
                t["refunds"][req_no] = amount
                t["refunded"] += amount
                t["gmt_refund"] = now_str()
                if t["refunded"] == decimal.Decimal(t["total_amount"]):
                    t["status"] = "TRADE_CLOSED"
            refunded = t["refunded"]
        if err == "ACQ.PARAM_ERROR":
            return self.fail(method, err, "参数有误: 同一 out_request_no 的退款金额不同")
        if err == "ACQ.TRADE_STATUS_ERROR":
            return self.fail(method, err, "交易状态不合法")
        if err:
            return self.fail(method, err, "退款金额超限")
        log("refund out_trade_no=%s %s (total refunded %s, fund_change %s)"
            % (t["out_trade_no"], money(amount), money(refunded), fund_change))
        return self.answer(method, {
            "code": "10000", "msg": "Success", "buyer_logon_id": "sandbox***@example.com",
            "buyer_user_id": self.st.args.buyer_id, "fund_change": fund_change,
            "gmt_refund_pay": t["gmt_refund"], "out_trade_no": t["out_trade_no"],
            "refund_fee": money(refunded), "send_back_fee": money(amount),
            "trade_no": t["trade_no"]})

    def page_pay(self, p):
        err = self.common_error(p)
        if err:
            return self.error_page(err[2].replace("isv.", ""), err[3])
        biz = self.biz(p)
        if biz is None:
            return self.error_page("invalid-biz-content", "biz_content 不是 JSON 对象")
        for k in ("out_trade_no", "total_amount", "subject", "product_code"):
            if not biz.get(k):
                return self.error_page("missing-" + k.replace("_", "-"), "缺少必选参数 " + k)
        if biz["product_code"] != "FAST_INSTANT_TRADE_PAY":
            return self.error_page("invalid-product-code", "product_code 须为 FAST_INSTANT_TRADE_PAY")
        amount = str(biz["total_amount"])
        if not AMOUNT_RE.match(amount) or not (decimal.Decimal("0.01") <= decimal.Decimal(amount)
                                               <= decimal.Decimal("100000000")):
            return self.error_page("invalid-total-amount", "total_amount 须在 0.01 到 100000000 之间，两位小数")
        otn = str(biz["out_trade_no"])
        if len(otn) > 64 or not re.match(r"^[A-Za-z0-9_]+$", otn):
            return self.error_page("invalid-out-trade-no", "out_trade_no 须为 64 位以内的字母、数字、下划线")
        expire = None
        if biz.get("time_expire"):
            if not TS_RE.match(str(biz["time_expire"])):
                return self.error_page("invalid-time-expire", "time_expire 格式须为 yyyy-MM-dd HH:mm:ss")
            expire = time.mktime(time.strptime(biz["time_expire"], "%Y-%m-%d %H:%M:%S"))
            if expire <= time.time():
                return self.error_page("TRADE_HAS_CLOSE", "交易已超时关闭 (time_expire)")
        with self.st.lock:
            t = self.st.trades.get(otn)
            if t and (t["status"] != "WAIT_BUYER_PAY" or t["total_amount"] != money(amount)
                      or t["subject"] != biz["subject"]):
                reason = {"TRADE_SUCCESS": ("TRADE_HAS_SUCCESS", "交易已支付"),
                          "TRADE_CLOSED": ("TRADE_HAS_CLOSE", "交易已关闭")}.get(
                    t["status"], ("CONTEXT_INCONSISTENT", "交易信息被篡改 (同一订单号，金额或标题不同)"))
            else:
                reason = None
                if not t:
                    t = self.st.trades[otn] = {
                        "out_trade_no": otn, "total_amount": money(amount),
                        "trade_no": time.strftime("%Y%m%d") + "22001" + "%015d" % random.randrange(10 ** 15),
                        "subject": biz["subject"], "status": "WAIT_BUYER_PAY",
                        "gmt_create": now_str(), "gmt_payment": None, "gmt_refund": None,
                        "refunded": decimal.Decimal(0), "refunds": {}}
                t.update(notify_url=p.get("notify_url", ""), return_url=p.get("return_url", ""),
                         time_expire=expire)
        if reason:
            return self.error_page(*reason)
        log("page.pay out_trade_no=%s %s %s" % (otn, t["total_amount"], t["subject"]))
        self.page("支付宝 - 付款", (
            "<dl><dt>商品</dt><dd id=subject>%s</dd><dt>订单号</dt><dd id=out_trade_no>%s</dd>"
            "<dt>金额</dt><dd class=amount id=total_amount>￥%s</dd></dl>"
            "<form method=post action=/pay><input type=hidden name=out_trade_no value=\"%s\">"
            "<button type=submit>付款</button></form>") % (
            html.escape(t["subject"]), html.escape(otn), t["total_amount"], html.escape(otn)))

    def pay_button(self, p):
        t = self.st.find({"out_trade_no": p.get("out_trade_no")})
        if not t:
            return self.error_page("TRADE_NOT_EXIST", "交易不存在")
        url, err = self.st.pay(t)
        if err:
            return self.error_page(err.replace("ACQ.", ""), "交易状态不合法，无法付款")
        if url:
            return self.send(302, "", headers=[("Location", url)])
        self.page("支付宝 - 付款成功", "<p id=paid>付款成功 ￥%s</p>" % t["total_amount"])

    # test helpers

    def test_helper(self, path, p):
        st = self.st
        if path == "/test/trades":
            with st.lock:
                out = [{k: (money(v) if isinstance(v, decimal.Decimal) else v)
                        for k, v in t.items() if k != "refunds"} for t in st.trades.values()]
            return self.send_json({"ok": True, "trades": out})
        if path == "/test/notifies":
            with st.lock:
                return self.send_json({"ok": True, "attempts": list(st.attempts)})
        if self.command != "POST":
            return self.send_json({"ok": False, "error": "POST only"}, 405)
        if path == "/test/reset":
            st.reset()
            return self.send_json({"ok": True})
        if path == "/test/pay":
            t = st.find({"out_trade_no": p.get("out_trade_no")})
            if not t:
                return self.send_json({"ok": False, "error": "ACQ.TRADE_NOT_EXIST"}, 404)
            url, err = st.pay(t, notify=p.get("notify", "1") != "0")
            if err:
                return self.send_json({"ok": False, "error": err}, 409)
            return self.send_json({"ok": True, "return_url": url, "trade_no": t["trade_no"]})
        if path == "/test/notify":
            with st.lock:
                last = (st.last_notify.get(p["out_trade_no"]) if p.get("out_trade_no")
                        else st.last_any)
            if not last:
                return self.send_json({"ok": False, "error": "no notify sent yet"}, 404)
            url, params = last
            params = dict(params)
            changed = {k[4:]: v for k, v in p.items() if k.startswith("set.")}
            if changed:
                params.update(changed)
                if p.get("resign", "1") != "0":
                    params = st.signed({k: v for k, v in params.items()
                                        if k not in ("sign", "sign_type")})
            url = p.get("notify_url") or url
            status, text, ok = st.post_notify(url, params, 1)
            return self.send_json({"ok": True, "status": status, "body": text, "success": ok,
                                   "params": params})
        return self.send_json({"ok": False, "error": "no such helper"}, 404)


def main():
    ap = argparse.ArgumentParser(description="Local stand-in for Alipay's gateway (RSA2).")
    ap.add_argument("--port", type=int, required=True, help="loopback port (0: any free one)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--alipay-private-key", required=True,
                    help="the stand-in's private key (signs answers, notifies, returns)")
    ap.add_argument("--app-public-key", required=True, help="verifies the app's requests")
    ap.add_argument("--app-id", required=True, help="the app_id requests must carry")
    ap.add_argument("--seller-id", default="2088721000000001")
    ap.add_argument("--buyer-id", default="2088722000000002")
    ap.add_argument("--notify-retries", default="1,2,4",
                    help="seconds between notify attempts (Alipay: 4m,10m,10m,1h,2h,6h,15h)")
    ap.add_argument("--notify-timeout", type=float, default=5.0)
    ap.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = ap.parse_args()
    try:
        args.retries = [float(x) for x in args.notify_retries.split(",") if x.strip()]
    except ValueError:
        ap.error("--notify-retries: seconds separated by commas, e.g. 1,2,4")

    keys = Keys(args.alipay_private_key, args.app_public_key)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    try:
        srv = ThreadingHTTPServer((args.host, args.port), Handler)
    except OSError as e:
        sys.exit("alipay-standin: cannot listen on %s:%d: %s" % (args.host, args.port, e.strerror))
    srv.state = State(args, keys)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("alipay-standin: listening on http://%s:%d/gateway.do" % (args.host, srv.server_address[1]),
          flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        subprocess.run(["rm", "-rf", keys.tmp])
        log("stopped")


if __name__ == "__main__":
    main()
