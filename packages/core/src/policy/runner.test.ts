import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { GatewayError } from '../errors.js'
import { noopLogger } from '../logger.js'
import { createStateKey } from '../state.js'
import { noopTelemetry } from '../telemetry.js'
import {
  createRecordingTelemetry,
  createTestExchange,
  createTestPipeline,
  runPipeline,
} from '../testing/index.js'
import { instantiatePolicies, validateChainOrder } from './chain.js'
import { definePolicy, localResponse, respond } from './define-policy.js'
import { runExchange } from './runner.js'
import type { Outcome, PolicyHandlers, Stage } from './types.js'

type Event = string

/** A configurable probe policy recording every phase call into `events`. */
function probe(events: Event[]) {
  return definePolicy({
    name: 'probe',
    stage: 'observe',
    schema: z.object({
      id: z.string(),
      deny: z.number().optional(),
      throwIn: z.enum(['request', 'response', 'complete']).optional(),
      async: z.boolean().default(false),
    }),
    create({ id, deny, throwIn, async }): PolicyHandlers {
      const wrap = <T>(value: T): T | Promise<T> => (async ? Promise.resolve(value) : value)
      return {
        onRequest: () => {
          events.push(`req:${id}`)
          if (throwIn === 'request') throw new Error(`boom ${id}`)
          return wrap(deny ? respond(deny, { by: id }) : undefined)
        },
        onResponse: (_ex, res) => {
          events.push(`res:${id}:${res.status}`)
          if (throwIn === 'response') throw new Error(`boom ${id}`)
          res.headers[`x-seen-${id}`] = '1'
          return wrap(undefined)
        },
        onComplete: (_ex, outcome: Outcome) => {
          events.push(`done:${id}:${outcome.status}`)
          if (throwIn === 'complete') throw new Error('ignored')
        },
      }
    },
  })
}

describe('policy runner', () => {
  it('runs onRequest in order, the upstream, then onResponse and onComplete in reverse', async () => {
    const events: Event[] = []
    const p = probe(events)
    const res = await runPipeline([p({ id: 'a' }), p({ id: 'b' }), p({ id: 'c' })], { url: '/x' })
    expect(res.status).toBe(200)
    expect(res.upstreamCalls).toBe(1)
    expect(events).toEqual([
      'req:a',
      'req:b',
      'req:c',
      'res:c:200',
      'res:b:200',
      'res:a:200',
      'done:c:200',
      'done:b:200',
      'done:a:200',
    ])
    expect(res.headers['x-seen-a']).toBe('1')
  })

  it('short-circuits on a respond verdict: later policies are not entered and the responder gets no onResponse', async () => {
    const events: Event[] = []
    const p = probe(events)
    const res = await runPipeline([p({ id: 'a' }), p({ id: 'b', deny: 429 }), p({ id: 'c' })])
    expect(res.status).toBe(429)
    expect(res.json()).toEqual({ by: 'b' })
    expect(res.upstreamCalls).toBe(0)
    expect(res.outcome.respondedBy).toBe('probe')
    expect(events).toEqual(['req:a', 'req:b', 'res:a:429', 'done:b:429', 'done:a:429'])
  })

  it('behaves the same with async handlers', async () => {
    const events: Event[] = []
    const p = probe(events)
    const res = await runPipeline([
      p({ id: 'a', async: true }),
      p({ id: 'b', deny: 403, async: true }),
      p({ id: 'c' }),
    ])
    expect(res.status).toBe(403)
    expect(events).toEqual(['req:a', 'req:b', 'res:a:403', 'done:b:403', 'done:a:403'])
  })

  it('stays synchronous when every handler is synchronous', async () => {
    const events: Event[] = []
    const p = probe(events)
    const [instance] = await instantiatePolicies([p({ id: 'a' })], 'r', {
      log: noopLogger,
      clock: { now: () => 0 },
      telemetry: noopTelemetry,
      resources: {},
    })
    const result = runExchange(createTestExchange(), {
      routeId: 'r',
      policies: [instance!],
      terminal: () => localResponse(200, 'ok'),
      telemetry: noopTelemetry,
    })
    expect(result).not.toBeInstanceOf(Promise)
  })

  it('turns a throwing onRequest into a problem+json 500 that leaks nothing, and completes every entered policy once', async () => {
    const events: Event[] = []
    const p = probe(events)
    const res = await runPipeline([p({ id: 'a' }), p({ id: 'b', throwIn: 'request' }), p({ id: 'c' })])
    expect(res.status).toBe(500)
    expect(res.headers['content-type']).toBe('application/problem+json')
    const problem = res.json<Record<string, unknown>>()
    expect(problem).toMatchObject({ status: 500, code: 'GW_ERR_INTERNAL', requestId: 'test-request-id' })
    expect(JSON.stringify(problem)).not.toContain('boom')
    expect(events).toEqual(['req:a', 'req:b', 'res:a:500', 'done:b:500', 'done:a:500'])
  })

  it('exposes the message of a GatewayError below 500', async () => {
    const deny = definePolicy({
      name: 'deny',
      stage: 'guard',
      schema: z.object({}),
      create: () => ({
        onRequest: () => {
          throw new GatewayError('GW_ERR_TEST', 422, 'field x is wrong')
        },
      }),
    })
    const res = await runPipeline([deny()])
    expect(res.status).toBe(422)
    expect(res.json()).toMatchObject({ detail: 'field x is wrong', code: 'GW_ERR_TEST' })
  })

  it('replaces the response with a problem when onResponse throws, and still runs earlier onResponse handlers', async () => {
    const events: Event[] = []
    const p = probe(events)
    const res = await runPipeline([p({ id: 'a' }), p({ id: 'b', throwIn: 'response' })])
    expect(res.status).toBe(500)
    expect(res.headers['x-seen-a']).toBe('1')
    expect(events).toEqual(['req:a', 'req:b', 'res:b:200', 'res:a:500', 'done:b:500', 'done:a:500'])
  })

  it('maps an upstream failure to its status and runs onResponse for all entered policies', async () => {
    const events: Event[] = []
    const p = probe(events)
    const res = await runPipeline(
      [p({ id: 'a' })],
      {},
      {
        upstream: () => Promise.reject(new GatewayError('GW_ERR_UPSTREAM_TIMEOUT', 504, 'too slow')),
      },
    )
    expect(res.status).toBe(504)
    expect(res.outcome.error?.code).toBe('GW_ERR_UPSTREAM_TIMEOUT')
    expect(events).toEqual(['req:a', 'res:a:504', 'done:a:504'])
  })

  it('logs and swallows errors thrown by onComplete', async () => {
    const events: Event[] = []
    const p = probe(events)
    const res = await runPipeline([p({ id: 'a' }), p({ id: 'b', throwIn: 'complete' })])
    expect(res.status).toBe(200)
    expect(events.filter((e) => e.startsWith('done'))).toEqual(['done:b:200', 'done:a:200'])
  })

  it('report mode lets a denied request through and records the decision', async () => {
    const events: Event[] = []
    const decisions: string[] = []
    const p = probe(events)
    const pipeline = await createTestPipeline([p({ id: 'a', deny: 401 }, { mode: 'report' })], {
      telemetry: {
        enabled: true,
        decision: (_ex, d) => decisions.push(`${d.policy}:${d.outcome}`),
        count() {},
        observe() {},
      },
    })
    const res = await pipeline.run()
    expect(res.status).toBe(200)
    expect(res.upstreamCalls).toBe(1)
    expect(decisions).toEqual(['probe:report'])
    await pipeline.close()
  })
})

describe('policy runner: one decision record per denial', () => {
  const denier = definePolicy({
    name: 'denier',
    stage: 'guard',
    schema: z.object({
      how: z.enum(['throw', 'reject', 'throw-5xx', 'throw-5xx-decision', 'respond-403', 'respond-204']),
    }),
    create({ how }): PolicyHandlers {
      const decision = {
        rule: 'r1',
        key: 'k1',
        reason: 'because',
        matches: [{ rule: '942100', message: 'SQL injection', data: "' or 1=1", target: 'ARGS:id' }],
      }
      return {
        onRequest: () => {
          if (how === 'throw') throw new GatewayError('GW_ERR_TEST_DENIED', 403, 'no', { decision })
          if (how === 'reject')
            return Promise.reject(new GatewayError('GW_ERR_TEST_DENIED', 429, 'no', { decision }))
          if (how === 'throw-5xx') throw new GatewayError('GW_ERR_TEST_DOWN', 503, 'down')
          if (how === 'throw-5xx-decision')
            throw new GatewayError('GW_ERR_TEST_DOWN', 503, 'down', { decision: { reason: 'store-down' } })
          if (how === 'respond-403') return respond(403, 'no')
          return respond(204)
        },
      }
    },
  })
  type How = 'throw' | 'reject' | 'throw-5xx' | 'throw-5xx-decision' | 'respond-403' | 'respond-204'
  const run = async (how: How, mode: 'enforce' | 'report') => {
    const telemetry = createRecordingTelemetry()
    const res = await runPipeline([denier({ how }, { mode })], {}, { telemetry })
    return { res, decisions: telemetry.decisions.map(({ requestId: _, ...d }) => d) }
  }
  const full = {
    policy: 'denier',
    rule: 'r1',
    key: 'k1',
    reason: 'because',
    matches: [{ rule: '942100', message: 'SQL injection', data: "' or 1=1", target: 'ARGS:id' }],
  }

  it('records a thrown (or rejected) denial once with its rule, key, reason and matches', async () => {
    for (const how of ['throw', 'reject'] as const) {
      const enforce = await run(how, 'enforce')
      expect(enforce.res.upstreamCalls).toBe(0)
      expect(enforce.decisions).toEqual([{ ...full, outcome: 'deny' }])
      const report = await run(how, 'report')
      expect(report.res.status).toBe(200)
      expect(report.res.upstreamCalls).toBe(1)
      expect(report.decisions).toEqual([{ ...full, outcome: 'report' }])
    }
  })

  it('a 5xx without a decision is a failure in both modes and records nothing; with one it is a denial', async () => {
    for (const mode of ['enforce', 'report'] as const) {
      const failure = await run('throw-5xx', mode)
      expect(failure.res.status).toBe(503)
      expect(failure.decisions).toEqual([])
    }
    const enforced = await run('throw-5xx-decision', 'enforce')
    expect(enforced.res.status).toBe(503)
    expect(enforced.decisions).toEqual([{ policy: 'denier', outcome: 'deny', reason: 'store-down' }])
    const reported = await run('throw-5xx-decision', 'report')
    expect(reported.res.status).toBe(200)
    expect(reported.decisions).toEqual([{ policy: 'denier', outcome: 'report', reason: 'store-down' }])
  })

  it('a respond verdict of 400 or more is a denial without rule or key; below 400 it is an answer in both modes', async () => {
    const enforced = await run('respond-403', 'enforce')
    expect(enforced.res.status).toBe(403)
    expect(enforced.decisions).toEqual([{ policy: 'denier', outcome: 'deny', reason: '403' }])
    const reported = await run('respond-403', 'report')
    expect(reported.res.status).toBe(200)
    expect(reported.decisions).toEqual([{ policy: 'denier', outcome: 'report', reason: '403' }])
    for (const mode of ['enforce', 'report'] as const) {
      const answered = await run('respond-204', mode)
      expect(answered.res.status).toBe(204)
      expect(answered.res.upstreamCalls).toBe(0)
      expect(answered.decisions).toEqual([])
    }
  })

  it('defaults the reason to the error code', async () => {
    const bare = definePolicy({
      name: 'bare',
      stage: 'guard',
      schema: z.object({}),
      create: () => ({
        onRequest: () => {
          throw new GatewayError('GW_ERR_TEST_BARE', 400, 'bad')
        },
      }),
    })
    const telemetry = createRecordingTelemetry()
    await runPipeline([bare({})], {}, { telemetry })
    expect(telemetry.decisions).toMatchObject([
      { policy: 'bare', outcome: 'deny', reason: 'GW_ERR_TEST_BARE' },
    ])
  })

  it('client errors carry no stack trace; server errors keep theirs', () => {
    expect(new GatewayError('GW_ERR_TEST_DENIED', 429, 'no').stack).not.toMatch(/\n\s+at /)
    expect(new GatewayError('GW_ERR_TEST_DOWN', 500, 'down').stack).toMatch(/\n\s+at /)
  })
})

describe('chain order validation', () => {
  const principal = createStateKey<string>('principal-test')
  const make = (
    name: string,
    stage: Stage,
    extra: { requires?: boolean; provides?: boolean; mustFollow?: Stage[] } = {},
  ) =>
    definePolicy({
      name,
      stage,
      schema: z.object({}),
      ...(extra.mustFollow ? { mustFollow: extra.mustFollow } : {}),
      state: () => ({
        requires: extra.requires ? [principal] : [],
        provides: extra.provides ? [principal] : [],
      }),
      create: () => ({}),
    })
  const auth = make('auth', 'authn', { provides: true })
  const limitByUser = make('limit-by-user', 'limit', { requires: true })
  const sharedCache = make('shared-cache', 'cache', { mustFollow: ['authn', 'authz'] })
  const ipLimit = make('ip-limit', 'limit')
  const locate = (entries: ReturnType<typeof auth>[]) =>
    entries.map((entry, i) => ({ entry, where: `policies[${i}]` }))

  it('accepts a required key provided earlier', () => {
    expect(() => validateChainOrder(locate([auth(), limitByUser()]), noopLogger)).not.toThrow()
  })

  it('names both policies when a required key is provided only later', () => {
    expect(() => validateChainOrder(locate([limitByUser(), auth()]), noopLogger)).toThrow(
      "policies[0] (limit-by-user) requires state 'principal-test', which is provided only later by policies[1] (auth)",
    )
  })

  it('fails when nothing provides a required key', () => {
    expect(() => validateChainOrder(locate([limitByUser()]), noopLogger)).toThrow(
      'no policy in the chain provides it',
    )
  })

  it('rejects an order a definition marks unsafe, naming both policies', () => {
    expect(() => validateChainOrder(locate([sharedCache(), auth()]), noopLogger)).toThrow(
      "policies[0] (shared-cache) must come after 'authn' policies, but policies[1] (auth) comes later",
    )
  })

  it('allows unusual but safe orders (an ip limit before authentication)', () => {
    expect(() => validateChainOrder(locate([ipLimit(), auth(), sharedCache()]), noopLogger)).not.toThrow()
  })

  it('allowOutOfOrder overrides the checks and logs a warning', () => {
    const warnings: unknown[] = []
    const log = { ...noopLogger, warn: (obj: unknown) => warnings.push(obj), child: () => log }
    expect(() =>
      validateChainOrder(locate([sharedCache({}, { allowOutOfOrder: true }), auth()]), log),
    ).not.toThrow()
    expect(warnings).toHaveLength(1)
  })
})

describe('definePolicy', () => {
  it('validates options eagerly with the path of the bad option', () => {
    const limit = definePolicy({
      name: 'limit',
      stage: 'limit',
      schema: z.object({ max: z.number() }),
      create: () => ({}),
    })
    // @ts-expect-error wrong type on purpose
    expect(() => limit({ max: 'ten' })).toThrow(/limit\.options\.max: /)
  })

  it('rejects names that are not kebab-case', () => {
    expect(() =>
      definePolicy({ name: 'RateLimit', stage: 'limit', schema: z.object({}), create: () => ({}) }),
    ).toThrow(/kebab-case/)
  })
})
