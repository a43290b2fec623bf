import { definePolicy, GatewayError, principalKey, z } from '@gw/core'
import { createManualClock, createRecordingLogger, createTestPipeline, runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { createPrometheusTelemetry } from '../prometheus/telemetry.js'
import { traceContext } from '../trace-context/index.js'
import { accessLog } from './index.js'
import { redactQuery } from './redact.js'

const MSG = 'request completed'
const route = { id: 'users', pattern: '/api/users/:id', upstream: 'users' }

const authenticate = definePolicy({
  name: 'fake-auth',
  stage: 'authn',
  schema: z.object({}),
  state: () => ({ provides: [principalKey] }),
  create: () => ({
    onRequest(ex) {
      ex.set(principalKey, { subject: 'user-7', consumer: 'mobile', scopes: [], claims: {}, method: 'jwt' })
    },
  }),
})

const limiter = definePolicy({
  name: 'rate-limit',
  stage: 'limit',
  schema: z.object({}),
  create: () => ({
    onRequest(ex) {
      throw new GatewayError('GW_ERR_TEST_LIMITED', 429, 'slow down', {
        decision: { key: ex.request.ip, reason: 'limit-exceeded' },
      })
    },
  }),
})

describe('access-log policy', () => {
  it('writes one JSON line with request, response, principal, trace and cache fields', async () => {
    const log = createRecordingLogger()
    const clock = createManualClock()
    await runPipeline(
      [traceContext({}), accessLog({ headers: ['user-agent'] }), authenticate({})],
      {
        id: 'req-1',
        method: 'POST',
        url: '/api/users/7?debug=1',
        route,
        ip: '203.0.113.9',
        body: 'abcd',
        headers: {
          'user-agent': 'curl/8',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        },
      },
      {
        log,
        clock,
        upstream: () => {
          clock.advance(12)
          return { status: 201, headers: { 'x-cache': 'MISS' }, body: 'created' }
        },
      },
    )
    const lines = log.withMessage(MSG)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      reqId: 'req-1',
      method: 'POST',
      route: 'users',
      path: '/api/users/7',
      status: 201,
      durationMs: 12,
      bytesIn: 4,
      bytesOut: 7,
      upstream: 'users',
      clientIp: '203.0.113.9',
      principal: 'user-7',
      consumer: 'mobile',
      cache: 'MISS',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      headers: { 'user-agent': 'curl/8' },
    })
    expect(lines[0]!.spanId).toMatch(/^[0-9a-f]{16}$/)
    expect(lines[0]!.query).toBeUndefined()
    expect(log.entries.find((r) => r.msg === MSG)?.level).toBe('info')
  })

  it('redacts credentials in headers and query, configured headers and fields', async () => {
    const log = createRecordingLogger()
    await runPipeline(
      [
        accessLog({
          headers: ['authorization', 'cookie', 'x-api-key', 'x-custom-key', 'user-agent'],
          redactHeaders: ['X-Custom-Key'],
          query: true,
          redactQuery: ['Session'],
          redactFields: ['clientIp'],
        }),
      ],
      {
        url: '/x?api_key=s3cret-1&page=2&session=s3cret-2&access_token=s3cret-3&Token=s3cret-4',
        headers: {
          authorization: 'Bearer s3cret-5',
          cookie: 'sid=s3cret-6',
          'x-api-key': 's3cret-7',
          'x-custom-key': 's3cret-8',
          'user-agent': 'ua',
        },
      },
      { log },
    )
    const [line] = log.withMessage(MSG)
    expect(JSON.stringify(line)).not.toMatch(/s3cret/)
    expect(line).toMatchObject({
      query: 'api_key=[REDACTED]&page=2&session=[REDACTED]&access_token=[REDACTED]&Token=[REDACTED]',
      clientIp: '[REDACTED]',
      headers: {
        authorization: '[REDACTED]',
        cookie: '[REDACTED]',
        'x-api-key': '[REDACTED]',
        'x-custom-key': '[REDACTED]',
        'user-agent': 'ua',
      },
    })
  })

  it('writes decisions and the rate-limit outcome of a denied request', async () => {
    const log = createRecordingLogger()
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false, logDecisions: 'none' })
    await runPipeline([accessLog({}), limiter({})], { ip: '198.51.100.4' }, { log, telemetry })
    const [line] = log.withMessage(MSG)
    expect(line).toMatchObject({
      status: 429,
      rateLimit: 'deny',
      respondedBy: 'rate-limit',
      decisions: [{ policy: 'rate-limit', key: '198.51.100.4', outcome: 'deny', reason: 'limit-exceeded' }],
    })
  })

  it('samples successes but always keeps errors and denials', async () => {
    const log = createRecordingLogger()
    let status = 200
    const pipeline = await createTestPipeline([accessLog({ sampleRate: 0 })], {
      log,
      upstream: () => ({ status, headers: {}, body: null }),
    })
    for (let i = 0; i < 20; i++) await pipeline.run()
    expect(log.withMessage(MSG)).toHaveLength(0)
    status = 502
    await pipeline.run()
    status = 404
    await pipeline.run()
    expect(log.withMessage(MSG).map((l) => l.status)).toEqual([502, 404])
    await pipeline.close()

    const strict = createRecordingLogger()
    await runPipeline(
      [accessLog({ sampleRate: 0, alwaysLogErrors: false })],
      {},
      { log: strict, upstream: { status: 500 } },
    )
    expect(strict.withMessage(MSG)).toHaveLength(0)
  })

  it('logs at the configured level and skips work when that level is off', async () => {
    const log = createRecordingLogger({ level: 'info' })
    await runPipeline([accessLog({ level: 'debug' })], {}, { log })
    expect(log.withMessage(MSG)).toHaveLength(0)
    const verbose = createRecordingLogger({ level: 'debug' })
    await runPipeline([accessLog({ level: 'debug' })], {}, { log: verbose })
    expect(verbose.entries.find((r) => r.msg === MSG)?.level).toBe('debug')
  })
})

describe('redactQuery', () => {
  it('compares decoded, case-insensitive names and keeps everything else as received', () => {
    const names = new Set(['api_key', 'token'])
    expect(redactQuery('a=%20x&API%5FKEY=1&token&b', names)).toBe(
      'a=%20x&API%5FKEY=[REDACTED]&token=[REDACTED]&b',
    )
    expect(redactQuery('%E0%A4%A=1', names)).toBe('%E0%A4%A=1')
    expect(redactQuery('', names)).toBe('')
  })
})
