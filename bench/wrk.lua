-- wrk script of bench/bench.sh: counts every answer by HTTP status and, for JSON answers, by
-- the shop's "code", per thread, merged in done(); with "buy" arguments it also makes the
-- requests: POST /buy/{id} as many distinct shoppers.
--
--   wrk ... -s bench/wrk.lua URL                                  counts only (GET URL)
--   wrk ... -s bench/wrk.lua URL -- buy FILE IDS MODE THREADS [FROM]   buys
--
-- FILE: lines "<seckill_id cookie value>\t<CSRF token>" (bench/identities.pl); IDS: product
-- ids, comma-separated; THREADS: wrk's -t. Thread t of T makes the requests k = t, t+T, t+2T, …
-- (plus FROM, default 0, so that a later run goes on where one ended) so no two threads make
-- the same one. MODE picks shopper and product of request k
-- (I shoppers, P products):
--   cycle  shopper k mod I, product k mod P: the stampede, the same shoppers again and again
--   pairs  shopper k mod I, product (k div I) mod P: every (shopper, product) pair at most
--          once while k < I*P, so no answer is already_bought (the all-success run)
-- done() prints, for bench.sh:
--   RESULT <req/s> <p50 ms> <p99 ms> <requests> <non-2xx> <socket errors> <requests made>
--   ANSWER <status> <code> <count>      (one line per kind of answer; code "-" when none)
--   NEXT <k>                            (a FROM for a next run that repeats no request)
-- and, when $BENCH_ORDER_IDS names a file, writes there the order id of every "ok" answer.

counts = {} -- globals: done() reads them with thread:get()
made = 0

local mode, ids, nthreads -- and the global tid, set by setup()
local lines, blocks = {}, {} -- a product's request line and headers, a shopper's: see build()
local nid, nprod = 0, 0
k = 0 -- the next request's number (global: done() reads it)

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  if mode ~= "buy" then
    request = nil -- wrk sends its one static request, the cheapest way
    return
  end
  local file = assert(io.open(args[2], "r"))
  for line in file:lines() do
    local c, t = line:match("^([^\t]+)\t([^\t]+)$")
    if c then
      nid = nid + 1
      blocks[nid] = "Cookie: seckill_id=" .. c .. "\r\nX-CSRF-Token: " .. t .. "\r\n\r\n"
    end
  end
  file:close()
  for id in args[3]:gmatch("%d+") do
    nprod = nprod + 1
    lines[nprod] = "POST /buy/" .. id .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] ..
      "\r\nAccept: application/json\r\n"
  end
  ids = args[4]
  nthreads = tonumber(args[5])
  k = (tonumber(args[6]) or 0) + tid
  assert(nid > 0 and nprod > 0 and nthreads, "buy FILE IDS MODE THREADS")
  prebuild()
end

-- cycle repeats itself every lcm(I, P) requests: those are built once here, so that wrk spends
-- no Lua string building a request (the ceilings' static request costs wrk nothing of the kind,
-- and wrk shares the cores with httpd). pairs never repeats: joined one by one (build()).
local prebuilt, period
local function gcd(a, b) while b > 0 do a, b = b, a % b end return a end
function prebuild()
  if ids ~= "cycle" then return end
  local n = nid / gcd(nid, nprod) * nprod
  if n > 200000 then return end
  prebuilt, period = {}, n
  local saved = k
  for i = 0, n - 1 do
    k = i
    prebuilt[i + 1] = build()
  end
  k = saved
end

-- request k = the request line and headers of its product, then those of its shopper: two
-- strings built once in init() and joined. A wrk.format() a request (a table walk and a
-- string.format a header) cost wrk several times that CPU.
function build()
  local shopper = k % nid + 1
  local product
  if ids == "pairs" then
    product = (k - (k % nid)) / nid % nprod + 1
  else
    product = k % nprod + 1
  end
  return lines[product] .. blocks[shopper]
end

function request()
  local r
  if prebuilt then
    r = prebuilt[k % period + 1]
  else
    r = build()
  end
  k = k + nthreads
  made = made + 1
  return r
end

oids = {}

function response(status, headers, body)
  local code = "-"
  -- only JSON answers have a code: an HTML page or a file is not searched (that cost wrk as
  -- much CPU as the page took httpd, and wrk shares the cores)
  local ctype = headers["Content-Type"] or headers["content-type"] or ""
  if body and ctype:find("json", 1, true) then
    code = body:match('"code":"([%w_]+)"') or "-"
    if status == 200 and mode == "buy" then
      oids[#oids + 1] = body:match('"order_id":"(%d+)"')
    end
  end
  local key = status .. " " .. code
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total, made_all = {}, 0
  local out = os.getenv("BENCH_ORDER_IDS")
  local f = out and assert(io.open(out, "w"))
  for _, t in ipairs(threads) do
    if f then
      for _, id in ipairs(t:get("oids") or {}) do
        f:write(id, "\n")
      end
    end
    local c = t:get("counts")
    for key, n in pairs(c or {}) do
      total[key] = (total[key] or 0) + n
    end
    made_all = made_all + (t:get("made") or 0)
  end
  if f then
    f:close()
  end
  local next_k = 0
  for _, t in ipairs(threads) do
    next_k = math.max(next_k, t:get("k") or 0)
  end
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, made_all))
  io.write(string.format("NEXT %d\n", next_k))
  for key, n in pairs(total) do
    io.write(string.format("ANSWER %s %d\n", key, n))
  end
end
