import type { DecisionRecord, Telemetry } from '@gw/core'
import { createManualClock, createTestExchange, createTestPipeline, runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { requirePrincipal } from '../../test/helpers/principal.js'
import { parseList } from '../../test/helpers/structured-fields.js'
import type { Decision, RateLimitStore } from '../store/types.js'
import { rateLimit } from './index.js'

function recorder() {
  const decisions: DecisionRecord[] = []
  const counts: Record<string, number> = {}
  const telemetry: Telemetry = {
    enabled: true,
    decision: (_ex, record) => decisions.push(record),
    count: (name, value) => {
      counts[name] = (counts[name] ?? 0) + value
    },
    observe: () => {},
  }
  return { telemetry, decisions, counts }
}

describe('rate-limit policy', () => {
  it('lists every entry in RateLimit and RateLimit-Policy when two rate-limit entries apply', async () => {
    const pipeline = await createTestPipeline([
      rateLimit({ limits: [{ name: 'per-ip', limit: 5, window: '1m' }] }),
      rateLimit({
        limits: [{ name: 'per-client', limit: 2, window: '1m', key: 'header', header: 'x-client' }],
      }),
    ])
    const res = await pipeline.run({ ip: '10.0.0.9', headers: { 'x-client': 'c1' } })
    expect(res.status).toBe(200)
    expect(String(res.headers['ratelimit-policy'])).toBe('"per-client";q=2;w=60, "per-ip";q=5;w=60')
    expect(parseList(String(res.headers.ratelimit))).toEqual([
      { value: 'per-client', params: { r: 1, t: 60 } },
      { value: 'per-ip', params: { r: 4, t: 60 } },
    ])
  })

  it('admits the limit, then answers 429 problem+json with Retry-After and RateLimit headers', async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1, 0, 0, 0))
    const pipeline = await createTestPipeline([rateLimit({ limit: 3, window: '1m' })], { clock })
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      const res = await pipeline.run({ ip: '10.0.0.1' })
      statuses.push(res.status)
      expect(res.headers['ratelimit-policy']).toBe('"default";q=3;w=60')
      expect(parseList(String(res.headers.ratelimit))).toEqual([
        { value: 'default', params: { r: 2 - i, t: 60 } },
      ])
    }
    clock.advance(15_000)
    const denied = await pipeline.run({ ip: '10.0.0.1', id: 'req-7' })
    expect(statuses).toEqual([200, 200, 200])
    expect(denied.status).toBe(429)
    expect(denied.upstreamCalls).toBe(0)
    expect(denied.headers['content-type']).toBe('application/problem+json')
    expect(denied.headers['retry-after']).toBe('45')
    expect(denied.headers.ratelimit).toBe('"default";r=0;t=45')
    expect(denied.json()).toMatchObject({
      status: 429,
      code: 'GW_ERR_RATE_LIMITED',
      title: 'Too many requests',
      detail: "Rate limit 'default' exceeded",
      requestId: 'req-7',
    })
    expect((await pipeline.run({ ip: '10.0.0.2' })).status).toBe(200)
    clock.advance(45_000)
    expect((await pipeline.run({ ip: '10.0.0.1' })).status).toBe(200)
    await pipeline.close()
  })

  it('is synchronous with the memory store (no promise on the hot path)', async () => {
    const entry = rateLimit({ limit: 1, window: '1s' })
    const handlers = await entry.definition.create(entry.options, {
      policy: 'rate-limit',
      routeId: 'r',
      mode: 'enforce',
      log: { child: () => ({}) } as never,
      clock: createManualClock(),
      telemetry: recorder().telemetry,
      need: () => {
        throw new Error('no resources')
      },
      has: () => false,
    })
    const ex = createTestExchange({ ip: '1.2.3.4' })
    expect(handlers.onRequest!(ex)).toBeUndefined()
    const second = handlers.onRequest!(createTestExchange({ ip: '1.2.3.4' }))
    expect(second).not.toBeInstanceOf(Promise)
    expect(second).toMatchObject({ respond: { status: 429 } })
  })

  it('checks several limits with their own keys in one store call, all-or-nothing', async () => {
    const calls: number[] = []
    const { createMemoryStore } = await import('../store/memory.js')
    const clock = createManualClock()
    const memory = createMemoryStore({ clock })
    const store: RateLimitStore = {
      kind: 'spy',
      consume: (checks) => {
        calls.push(checks.length)
        return memory.consume(checks)
      },
    }
    const pipeline = await createTestPipeline(
      [
        rateLimit({
          store,
          limits: [
            { name: 'per-ip', limit: 2, window: '1s', key: 'ip' },
            { name: 'per-key', limit: 3, window: '1h', key: 'header', header: 'X-API-Key' },
          ],
        }),
      ],
      { clock },
    )
    const a = { ip: '10.0.0.1', headers: { 'x-api-key': 'k1' } }
    const b = { ip: '10.0.0.2', headers: { 'x-api-key': 'k1' } }
    expect((await pipeline.run(a)).status).toBe(200)
    const second = await pipeline.run(a)
    expect(parseList(String(second.headers.ratelimit))).toEqual([
      { value: 'per-ip', params: { r: 0, t: 1 } },
      { value: 'per-key', params: { r: 1, t: 3600 } },
    ])
    const third = await pipeline.run(a)
    expect(third.status).toBe(429)
    expect(third.json()).toMatchObject({ detail: "Rate limit 'per-ip' exceeded" })
    expect((await pipeline.run(b)).status).toBe(200)
    const fifth = await pipeline.run(b)
    expect(fifth.status).toBe(429)
    expect(fifth.json()).toMatchObject({ detail: "Rate limit 'per-key' exceeded" })
    expect(fifth.headers['retry-after']).toBe('3600')
    const noKey = await pipeline.run({ ip: '10.0.0.3' })
    expect(noKey.status).toBe(200)
    expect(parseList(String(noKey.headers.ratelimit))).toEqual([{ value: 'per-ip', params: { r: 1, t: 1 } }])
    expect(calls).toEqual([2, 2, 2, 2, 2, 1])
    await pipeline.close()
  })

  it('charges the configured cost per request', async () => {
    const pipeline = await createTestPipeline([rateLimit({ limit: 10, window: '1m', cost: 4 })])
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await pipeline.run()).status)
    expect(statuses).toEqual([200, 200, 429, 429])
    await pipeline.close()
  })

  it('keys by principal and requires an auth policy before it', async () => {
    await expect(
      createTestPipeline([rateLimit({ limit: 1, window: '1m', key: 'principal' })]),
    ).rejects.toThrow(/principal/)
    const pipeline = await createTestPipeline([
      requirePrincipal(),
      rateLimit({ limit: 1, window: '1m', key: 'principal' }),
    ])
    expect((await pipeline.run({ headers: { 'x-user': 'alice' } })).status).toBe(200)
    expect((await pipeline.run({ headers: { 'x-user': 'alice' }, ip: '10.9.9.9' })).status).toBe(429)
    expect((await pipeline.run({ headers: { 'x-user': 'bob' } })).status).toBe(200)
    expect((await pipeline.run({})).status).toBe(200)
    await pipeline.close()
  })

  it('keys by route, globally, or by a custom function', async () => {
    const pipeline = await createTestPipeline([
      rateLimit({
        limit: 1,
        window: '1m',
        key: 'custom',
        keyFn: (ex) => ex.request.query.get('tenant') ?? undefined,
      }),
    ])
    expect((await pipeline.run({ url: '/?tenant=a' })).status).toBe(200)
    expect((await pipeline.run({ url: '/?tenant=a' })).status).toBe(429)
    expect((await pipeline.run({ url: '/?tenant=b' })).status).toBe(200)
    expect((await pipeline.run({ url: '/' })).status).toBe(200)
    await pipeline.close()
    const global = await createTestPipeline([rateLimit({ limit: 1, window: '1m', key: 'global' })])
    expect((await global.run({ ip: '1.1.1.1' })).status).toBe(200)
    expect((await global.run({ ip: '2.2.2.2' })).status).toBe(429)
    await global.close()
  })

  it('report mode lets the request through and records the decision with rule and key', async () => {
    const { telemetry, decisions, counts } = recorder()
    const pipeline = await createTestPipeline([rateLimit({ limit: 1, window: '1m' }, { mode: 'report' })], {
      telemetry,
    })
    await pipeline.run({ ip: '10.1.1.1' })
    const res = await pipeline.run({ ip: '10.1.1.1' })
    expect(res.status).toBe(200)
    expect(res.upstreamCalls).toBe(1)
    expect(res.headers.ratelimit).toBe('"default";r=0;t=60')
    expect(decisions).toContainEqual({
      policy: 'rate-limit',
      rule: 'default',
      key: '10.1.1.1',
      outcome: 'report',
      reason: 'limit-exceeded',
    })
    expect(counts.ratelimit_denied).toBe(1)
    await pipeline.close()
  })

  it('never logs header keys (they may be API keys) in decision records', async () => {
    const { telemetry, decisions } = recorder()
    const pipeline = await createTestPipeline(
      [rateLimit({ limit: 1, window: '1m', key: 'header', header: 'x-api-key' })],
      {
        telemetry,
      },
    )
    await pipeline.run({ headers: { 'x-api-key': 'secret' } })
    expect((await pipeline.run({ headers: { 'x-api-key': 'secret' } })).status).toBe(429)
    expect(decisions[0]).toEqual({
      policy: 'rate-limit',
      rule: 'default',
      outcome: 'deny',
      reason: 'limit-exceeded',
    })
    await pipeline.close()
  })

  it('legacy X-RateLimit headers report the tightest limit; headers can be switched off', async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1))
    const legacy = await createTestPipeline(
      [
        rateLimit({
          headers: { ietf: false, legacy: true },
          limits: [
            { name: 'second', limit: 5, window: '1s' },
            { name: 'minute', limit: 2, window: '1m' },
          ],
        }),
      ],
      { clock },
    )
    const res = await legacy.run()
    expect(res.headers.ratelimit).toBeUndefined()
    expect(res.headers['x-ratelimit-limit']).toBe(2)
    expect(res.headers['x-ratelimit-remaining']).toBe(1)
    expect(res.headers['x-ratelimit-reset']).toBe(Date.UTC(2026, 0, 1, 0, 1) / 1000)
    await legacy.close()
    const off = await runPipeline([rateLimit({ headers: { ietf: false } })])
    expect(Object.keys(off.headers).filter((h) => h.includes('ratelimit'))).toEqual([])
  })

  it('enabled: false does nothing (RATE_LIMIT_ENABLED=false)', async () => {
    const pipeline = await createTestPipeline([rateLimit({ enabled: false, limit: 1, window: '1m' })])
    expect((await pipeline.run()).status).toBe(200)
    expect((await pipeline.run()).status).toBe(200)
    await pipeline.close()
  })

  it('onStoreError open decides with the local fallback (ceil(limit / 4) per process by default); closed answers 503; the breaker stops calling a dead store', async () => {
    let calls = 0
    const broken: RateLimitStore = {
      kind: 'broken',
      consume: () => {
        calls++
        return Promise.reject(new Error('connection refused'))
      },
    }
    const clock = createManualClock(Date.UTC(2026, 0, 1, 0, 0, 30))
    const { telemetry, counts, decisions } = recorder()
    const open = await createTestPipeline(
      [rateLimit({ limit: 8, window: '1m', store: broken, breaker: { failures: 2, cooldown: '1s' } })],
      { clock, telemetry },
    )
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await open.run({ ip: '10.0.0.1' })).status)
    expect(statuses).toEqual([200, 200, 429, 429, 429])
    expect(calls).toBe(2)
    expect(counts.ratelimit_store_errors).toBe(2)
    expect(counts.ratelimit_fallback_decisions).toBe(5)
    expect(decisions.at(-1)).toMatchObject({ rule: 'default', reason: 'fallback-limit-exceeded' })
    const denied = await open.run({ ip: '10.0.0.1' })
    expect(denied.headers['retry-after']).toBe('30')
    expect(denied.headers.ratelimit).toBe('"default";r=0;t=30')
    expect((await open.run({ ip: '10.0.0.2' })).status).toBe(200)
    clock.advance(1000)
    await open.run({ ip: '10.0.0.3' })
    expect(calls).toBe(3)
    await open.run({ ip: '10.0.0.3' })
    expect(calls).toBe(3)
    await open.close()

    const whole = await createTestPipeline(
      [rateLimit({ limit: 8, window: '1m', store: broken, fallback: { instances: 1 } })],
      { clock },
    )
    const alone = []
    for (let i = 0; i < 9; i++) alone.push((await whole.run()).status)
    expect(alone.filter((s) => s === 200)).toHaveLength(8)
    await whole.close()

    const closed = await createTestPipeline([rateLimit({ store: broken, onStoreError: 'closed' })], { clock })
    const res = await closed.run()
    expect(res.status).toBe(503)
    expect(res.json()).toMatchObject({ code: 'GW_ERR_RATE_LIMIT_UNAVAILABLE' })
    expect(res.headers['retry-after']).toBe('1')
    await closed.close()
  })

  it('while the breaker is half-open, exactly one request probes the store; the concurrent ones are decided by the fallback at once', async () => {
    const pending: ((d: Decision) => void)[] = []
    let failing = true
    const store: RateLimitStore = {
      kind: 'flaky',
      consume: () =>
        failing ? Promise.reject(new Error('down')) : new Promise<Decision>((r) => pending.push(r)),
    }
    const clock = createManualClock(Date.UTC(2026, 0, 1))
    const pipeline = await createTestPipeline(
      [
        rateLimit({
          limit: 400,
          window: '1h',
          store,
          timeout: '10s',
          breaker: { failures: 1, cooldown: '1s' },
        }),
      ],
      { clock },
    )
    expect((await pipeline.run()).status).toBe(200)
    failing = false
    clock.advance(1000)
    const burst = Array.from({ length: 30 }, (_v, i) => pipeline.run({ ip: `10.0.1.${i}` }))
    await new Promise((r) => setTimeout(r, 20))
    expect(pending).toHaveLength(1)
    pending[0]!({
      allowed: true,
      outcomes: [{ allowed: true, remaining: 399, resetMs: 3_600_000, retryAfterMs: 0, nextMs: 9000 }],
    })
    const statuses = (await Promise.all(burst)).map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(30)
    const after = pipeline.run({ ip: '10.0.2.1' })
    await new Promise((r) => setTimeout(r, 20))
    expect(pending).toHaveLength(2)
    pending[1]!({
      allowed: true,
      outcomes: [{ allowed: true, remaining: 398, resetMs: 3_600_000, retryAfterMs: 0, nextMs: 9000 }],
    })
    expect((await after).headers.ratelimit).toBe('"default";r=398;t=9')
    await pipeline.close()
  })

  describe('a store answer that comes after the timeout', () => {
    const answer = (allowed: boolean): Decision => ({
      allowed,
      outcomes: [
        allowed
          ? { allowed, remaining: 3, resetMs: 60_000, retryAfterMs: 0, nextMs: 60_000 }
          : { allowed, remaining: 0, resetMs: 50_000, retryAfterMs: 50_000, nextMs: 50_000 },
      ],
    })
    /** limit 8 and the default 4 instances: the fallback admits 2 per window on this process. */
    async function timedOut(late: Decision) {
      const answers: ((d: Decision) => void)[] = []
      const store: RateLimitStore = { kind: 'late', consume: () => new Promise((r) => answers.push(r)) }
      const clock = createManualClock(Date.UTC(2026, 0, 1, 0, 0, 10))
      const pipeline = await createTestPipeline(
        [rateLimit({ limit: 8, window: '1m', store, timeout: 20, breaker: { failures: 1, cooldown: '1h' } })],
        { clock },
      )
      expect((await pipeline.run()).status).toBe(200)
      answers[0]!(late)
      await new Promise((r) => setTimeout(r, 5))
      expect(answers).toHaveLength(1)
      return pipeline
    }

    it('admitted by the store too: the request stays charged on the fallback that decided it (counted in both, which errs low)', async () => {
      const pipeline = await timedOut(answer(true))
      expect((await pipeline.run()).status).toBe(200)
      const denied = await pipeline.run()
      expect(denied.status).toBe(429)
      expect(denied.headers['retry-after']).toBe('50')
      await pipeline.close()
    })

    it('denied by the store: the denial is remembered until its Retry-After, so the fallback admits no more for that key', async () => {
      const pipeline = await timedOut(answer(false))
      const denied = await pipeline.run()
      expect(denied.status).toBe(429)
      expect(denied.headers['retry-after']).toBe('50')
      await pipeline.close()
    })
  })

  it('remembers a key the store denied until its Retry-After: no store call for it meanwhile (exact: the store could only deny it)', async () => {
    const { createMemoryStore } = await import('../store/memory.js')
    const clock = createManualClock(Date.UTC(2026, 0, 1, 0, 0, 20))
    const shared = createMemoryStore({ clock })
    let calls = 0
    const store: RateLimitStore = {
      kind: 'spy',
      consume: (checks) => {
        calls++
        return Promise.resolve(shared.consume(checks))
      },
    }
    for (const denyCache of [true, false]) {
      calls = 0
      const pipeline = await createTestPipeline(
        [rateLimit({ id: `dc-${denyCache}`, limit: 2, window: '1m', store, denyCache })],
        { clock },
      )
      const statuses = []
      for (let i = 0; i < 6; i++) statuses.push((await pipeline.run({ ip: '10.3.0.1' })).status)
      expect(statuses).toEqual([200, 200, 429, 429, 429, 429])
      expect(calls).toBe(denyCache ? 3 : 6)
      const cached = await pipeline.run({ ip: '10.3.0.1' })
      expect(cached.headers['retry-after']).toBe('40')
      expect(cached.headers.ratelimit).toBe('"default";r=0;t=40')
      expect((await pipeline.run({ ip: '10.3.0.2' })).status).toBe(200)
      clock.advance(40_000)
      expect((await pipeline.run({ ip: '10.3.0.1' })).status).toBe(200)
      clock.set(Date.UTC(2026, 0, 1, 0, 0, 20))
      await pipeline.close()
    }
  })

  for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'] as const) {
    it(`${algorithm}: on a 429, RateLimit t equals Retry-After and the request passes after it; on a 200, t is when more than r is available`, async () => {
      const clock = createManualClock(Date.UTC(2026, 0, 1, 0, 0, 10, 500))
      const pipeline = await createTestPipeline([rateLimit({ algorithm, limit: 6, window: '1m' })], { clock })
      const first = await pipeline.run({ ip: '10.4.0.1' })
      const [item] = parseList(String(first.headers.ratelimit))
      const { r, t } = item!.params as { r: number; t: number }
      expect(first.status).toBe(200)
      expect(r).toBe(5)
      clock.advance(t * 1000)
      const refilled = []
      for (let i = 0; i < r + 1; i++) refilled.push((await pipeline.run({ ip: '10.4.0.1' })).status)
      expect(refilled.every((s) => s === 200)).toBe(true)
      let denied = await pipeline.run({ ip: '10.4.0.1' })
      for (let i = 0; i < 10 && denied.status === 200; i++) denied = await pipeline.run({ ip: '10.4.0.1' })
      expect(denied.status).toBe(429)
      const [limited] = parseList(String(denied.headers.ratelimit))
      expect(limited!.params.r).toBe(0)
      expect(denied.headers['retry-after']).toBe(String(limited!.params.t))
      clock.advance(Number(denied.headers['retry-after']) * 1000 - 1000)
      expect((await pipeline.run({ ip: '10.4.0.1' })).status).toBe(429)
      clock.advance(1000)
      expect((await pipeline.run({ ip: '10.4.0.1' })).status).toBe(200)
      await pipeline.close()
    })
  }

  it('a slow store times out per call and counts as a failure', async () => {
    const slow: RateLimitStore = { kind: 'slow', consume: () => new Promise(() => {}) }
    const pipeline = await createTestPipeline([
      rateLimit({ store: slow, timeout: 20, onStoreError: 'closed' }),
    ])
    expect((await pipeline.run()).status).toBe(503)
    await pipeline.close()
  })

  it('validates options with precise paths', () => {
    expect(() => rateLimit({ key: 'header' })).toThrow(
      /rate-limit\.options\.header: required when key is 'header'/,
    )
    expect(() => rateLimit({ key: 'custom' })).toThrow(/keyFn: required when key is 'custom'/)
    expect(() => rateLimit({ limit: 5, limits: [{ limit: 1, window: '1s' }] })).toThrow(
      /limit: use either 'limits'/,
    )
    expect(() => rateLimit({ burst: 5 })).toThrow(/burst is not used by fixed-window/)
    expect(() => rateLimit({ algorithm: 'gcra', burst: 5 })).not.toThrow()
    expect(() =>
      rateLimit({
        limits: [
          { name: 'a', limit: 1, window: '1s' },
          { name: 'a', limit: 1, window: '1m' },
        ],
      }),
    ).toThrow(/duplicate limit name 'a'/)
    expect(() => rateLimit({ window: 'soon' })).toThrow(/window/)
    expect(() => rateLimit({ store: { type: 'redis', prefix: 'x:' } })).not.toThrow()
  })

  it('fails at start-up when a Redis store has no redis resource', async () => {
    await expect(createTestPipeline([rateLimit({ store: { type: 'redis' } })])).rejects.toThrow(/redis/)
  })
})
