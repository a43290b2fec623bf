import type { DecisionRecord, Telemetry } from '@gw/core'
import { runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { compileAddressList, ipFilter } from './index.js'

describe('compileAddressList', () => {
  it('matches IPv4 and IPv6 addresses and CIDRs, and IPv4-mapped IPv6 against IPv4 rules', () => {
    const list = compileAddressList(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1'])
    expect(list.has('10.255.0.1')).toBe(true)
    expect(list.has('11.0.0.1')).toBe(false)
    expect(list.has('192.168.1.7')).toBe(true)
    expect(list.has('192.168.1.8')).toBe(false)
    expect(list.has('2001:db8:1::5')).toBe(true)
    expect(list.has('2001:db9::5')).toBe(false)
    expect(list.has('::1')).toBe(true)
    expect(list.has('::ffff:10.1.2.3')).toBe(true)
    expect(list.has('not-an-ip')).toBe(false)
  })
})

describe('ip-filter', () => {
  it('refuses denied clients with 403 and records the decision', async () => {
    const records: DecisionRecord[] = []
    const telemetry: Telemetry = {
      enabled: true,
      decision: (_e, r) => records.push(r),
      count() {},
      observe() {},
    }
    const res = await runPipeline(
      [ipFilter({ deny: ['203.0.113.0/24'] })],
      { ip: '203.0.113.9' },
      { telemetry },
    )
    expect(res.status).toBe(403)
    expect(res.json<{ code: string }>().code).toBe('GW_ERR_IP_DENIED')
    expect(res.upstreamCalls).toBe(0)
    expect(records).toEqual([
      { policy: 'ip-filter', rule: 'deny', key: '203.0.113.9', outcome: 'deny', reason: 'ip-denied' },
    ])
    expect((await runPipeline([ipFilter({ deny: ['203.0.113.0/24'] })], { ip: '198.51.100.1' })).status).toBe(
      200,
    )
  })

  it('with an allow list refuses everyone else; deny wins inside an allowed range', async () => {
    const policy = () => [ipFilter({ allow: ['10.0.0.0/8', 'fd00::/8'], deny: ['10.6.6.6'] })]
    expect((await runPipeline(policy(), { ip: '10.1.1.1' })).status).toBe(200)
    expect((await runPipeline(policy(), { ip: 'fd12::1' })).status).toBe(200)
    expect((await runPipeline(policy(), { ip: '10.6.6.6' })).status).toBe(403)
    expect((await runPipeline(policy(), { ip: '8.8.8.8' })).status).toBe(403)
  })

  it('reports instead of refusing in report mode', async () => {
    const res = await runPipeline([ipFilter({ deny: ['0.0.0.0/0'] }, { mode: 'report' })], { ip: '1.2.3.4' })
    expect(res.status).toBe(200)
  })

  it('rejects invalid rules and empty configurations at start-up', () => {
    expect(() => ipFilter({ deny: ['10.0.0.0/33'] })).toThrow(/CIDR/)
    expect(() => ipFilter({ deny: ['example.com'] })).toThrow(/CIDR/)
    expect(() => ipFilter({})).toThrow(/at least one/)
  })
})
