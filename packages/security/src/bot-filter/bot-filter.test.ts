import { runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { botFilter } from './index.js'

describe('bot-filter', () => {
  it('refuses user agents matching a deny pattern (case-insensitive) unless an allow pattern matches', async () => {
    const policy = () => [botFilter({ deny: ['python-requests', /^curl\//], allow: ['monitor-bot'] })]
    const denied = await runPipeline(policy(), { headers: { 'user-agent': 'Python-Requests/2.32' } })
    expect(denied.status).toBe(403)
    expect(denied.json<{ code: string }>().code).toBe('GW_ERR_BOT_DENIED')
    expect((await runPipeline(policy(), { headers: { 'user-agent': 'curl/8.5.0' } })).status).toBe(403)
    expect((await runPipeline(policy(), { headers: { 'user-agent': 'libcurl/8.5.0' } })).status).toBe(200)
    expect(
      (await runPipeline(policy(), { headers: { 'user-agent': 'python-requests/2.32 monitor-bot' } })).status,
    ).toBe(200)
    expect((await runPipeline(policy(), { headers: { 'user-agent': 'Mozilla/5.0' } })).status).toBe(200)
  })

  it('handles a missing or empty User-Agent as configured', async () => {
    expect((await runPipeline([botFilter({})], {})).status).toBe(200)
    expect((await runPipeline([botFilter({ missingUserAgent: 'deny' })], {})).status).toBe(403)
    expect(
      (await runPipeline([botFilter({ missingUserAgent: 'deny' })], { headers: { 'user-agent': '' } }))
        .status,
    ).toBe(403)
  })

  it('fails at start-up on an invalid pattern', async () => {
    await expect(runPipeline([botFilter({ deny: ['(['] })])).rejects.toThrow(/invalid pattern/)
  })
})
