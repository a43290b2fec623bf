/**
 * Lua mirrors of src/algorithms.ts. Every arithmetic step is written in the same order as the TypeScript so that
 * both stores compute identical IEEE doubles; state is stored with %.17g, which round-trips a double exactly.
 * KEYS: one per limit. ARGV: now in microseconds (or -1 for Redis TIME), then per limit: algorithm code, limit,
 * window ms, burst, cost. Reply: allowed, then per limit: allowed, remaining, reset ms, retry-after ms, next ms
 * (the RateLimit `t`).
 */
export const CONSUME_SCRIPT = `
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local n = #KEYS
local all = 1
local out = {0}
local nexts = {}
local ttls = {}
local function ceilms(us) return math.ceil(us / 1000) end
local function f(x) return string.format('%.17g', x) end
local function slidingWait(limit, w, elapsed, reset, prev, cur, units)
  if cur + units <= limit and prev > 0 then return math.ceil((prev * (w - elapsed) - (limit - cur - units) * w) / prev) end
  if units > limit then return reset end
  return reset + math.max(0, math.ceil(w - ((limit - units) * w) / cur))
end
for i = 1, n do
  local b = 1 + (i - 1) * 5
  local algo = tonumber(ARGV[b + 1])
  local limit = tonumber(ARGV[b + 2])
  local windowMs = tonumber(ARGV[b + 3])
  local burst = tonumber(ARGV[b + 4])
  local cost = tonumber(ARGV[b + 5])
  local raw = redis.call('GET', KEYS[i])
  local s = nil
  if raw then
    s = {}
    for part in string.gmatch(raw, '[^:]+') do s[#s + 1] = tonumber(part) end
  end
  local ok, remaining, resetMs, retryMs, nextMs, nxt, ttl
  if algo == 1 then
    local w = windowMs * 1000
    local start = now - math.fmod(now, w)
    local count = 0
    if s and s[1] == start then count = s[2] end
    ok = count + cost <= limit
    local used = count
    if ok then used = count + cost end
    local reset = start + w - now
    remaining = limit - used
    resetMs = ceilms(reset)
    retryMs = 0
    if not ok then retryMs = ceilms(reset) end
    nextMs = ceilms(reset)
    nxt = f(start) .. ':' .. f(used)
    ttl = reset
  elseif algo == 2 then
    local w = windowMs * 1000
    local start = now - math.fmod(now, w)
    local cur = 0
    local prev = 0
    if s then
      if s[1] == start then
        cur = s[2]
        prev = s[3]
      elseif s[1] == start - w then
        prev = s[2]
      end
    end
    local elapsed = now - start
    local weighted = (prev * (w - elapsed)) / w
    ok = weighted + cur + cost <= limit
    local used = cur
    if ok then used = cur + cost end
    local reset = start + w - now
    remaining = math.max(0, math.floor(limit - weighted - used))
    local retry = 0
    if not ok then retry = slidingWait(limit, w, elapsed, reset, prev, cur, cost) end
    resetMs = ceilms(reset)
    retryMs = ceilms(retry)
    if ok then nextMs = ceilms(slidingWait(limit, w, elapsed, reset, prev, used, remaining + 1)) else nextMs = retryMs end
    nxt = f(start) .. ':' .. f(used) .. ':' .. f(prev)
    ttl = reset + w
  elseif algo == 3 then
    local cap = burst
    local rate = limit / (windowMs * 1000)
    local tokens = cap
    if s then tokens = math.min(cap, s[1] + math.max(0, now - s[2]) * rate) end
    ok = tokens >= cost
    local left = tokens
    if ok then left = tokens - cost end
    local full = math.ceil((cap - left) / rate)
    remaining = math.floor(left)
    local retry = 0
    if not ok then
      if cost > cap then retry = full else retry = math.ceil((cost - tokens) / rate) end
    end
    local wait = retry
    if ok then
      if remaining + 1 > cap then wait = full else wait = math.ceil((remaining + 1 - left) / rate) end
    end
    resetMs = ceilms(full)
    retryMs = ceilms(retry)
    nextMs = ceilms(wait)
    nxt = f(left) .. ':' .. f(now)
    ttl = math.max(1000, full)
  else
    local interval = math.ceil((windowMs * 1000) / limit)
    local tolerance = interval * burst
    local tat = now
    if s then tat = math.max(s[1], now) end
    local newTat = tat + interval * cost
    ok = newTat - now <= tolerance
    local after = tat
    if ok then after = newTat end
    local reset = after - now
    remaining = math.max(0, math.floor((tolerance - reset) / interval))
    resetMs = ceilms(reset)
    retryMs = 0
    if not ok then
      if interval * cost > tolerance then retryMs = ceilms(reset) else retryMs = ceilms(newTat - now - tolerance) end
    end
    if ok then nextMs = ceilms((remaining + 1) * interval - (tolerance - reset)) else nextMs = retryMs end
    nxt = f(after)
    ttl = math.max(1000, reset)
  end
  if not ok then all = 0 end
  local okn = 0
  if ok then okn = 1 end
  out[#out + 1] = okn
  out[#out + 1] = remaining
  out[#out + 1] = resetMs
  out[#out + 1] = retryMs
  out[#out + 1] = nextMs
  nexts[i] = nxt
  ttls[i] = ttl
end
out[1] = all
if all == 1 then
  for i = 1, n do
    redis.call('SET', KEYS[i], nexts[i], 'PX', math.ceil(ttls[i] / 1000) + 1)
  end
end
return out
`

/**
 * Takes a concurrency slot. KEYS[1]: a sorted set of leases scored by expiry. ARGV: now ms (or -1 for Redis
 * TIME), max, lease ms, lease id. Reply: acquired (0/1), slots remaining.
 */
export const ACQUIRE_SCRIPT = `
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local max = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n >= max then return {0, 0} end
redis.call('ZADD', KEYS[1], now + lease, ARGV[4])
redis.call('PEXPIRE', KEYS[1], lease)
return {1, max - n - 1}
`
