import type { GwResponse } from '@gw/core'
import { createTestPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import type { Acquisition, ConcurrencyStore } from '../store/types.js'
import { concurrencyLimit } from './index.js'

/** An upstream that holds every request until released. */
function heldUpstream() {
  const waiting: (() => void)[] = []
  const upstream = () =>
    new Promise<GwResponse>((resolve) => {
      waiting.push(() => resolve({ status: 200, headers: {}, body: 'ok' }))
    })
  return { upstream, waiting }
}

const tick = () => new Promise((r) => setTimeout(r, 10))

describe('concurrency-limit with a failing shared store', () => {
  it("onStoreError 'open' caps in-flight requests locally at ceil(max / fallback.instances), and frees local slots", async () => {
    let calls = 0
    const broken: ConcurrencyStore = {
      kind: 'broken',
      acquire: () => {
        calls++
        return Promise.reject(new Error('connection refused'))
      },
      release: () => undefined,
    }
    const { upstream, waiting } = heldUpstream()
    const pipeline = await createTestPipeline(
      [concurrencyLimit({ max: 8, key: 'global', store: broken, breaker: { failures: 2 } })],
      { upstream },
    )
    const runs = Array.from({ length: 5 }, () => pipeline.run())
    await tick()
    expect(waiting).toHaveLength(2)
    for (const release of waiting.splice(0)) release()
    const statuses = (await Promise.all(runs)).map((r) => r.status)
    expect(statuses.sort()).toEqual([200, 200, 429, 429, 429])
    // The five calls went out together, before any failure was known; then the breaker is open.
    expect(calls).toBe(5)
    const again = pipeline.run()
    await tick()
    expect(waiting).toHaveLength(1)
    waiting.pop()!()
    expect((await again).status).toBe(200)
    expect(calls).toBe(5)
    await pipeline.close()
  })

  it('a slot the store granted after the call timed out is released at once (the request never held it)', async () => {
    const grants: ((slot: Acquisition) => void)[] = []
    const released: string[] = []
    const slow: ConcurrencyStore = {
      kind: 'slow',
      acquire: () => new Promise<Acquisition>((r) => grants.push(r)),
      release: (_key, lease) => {
        released.push(lease)
      },
    }
    const pipeline = await createTestPipeline([
      concurrencyLimit({ max: 4, key: 'global', store: slow, timeout: 20 }),
    ])
    const res = await pipeline.run()
    expect(res.status).toBe(200)
    expect(released).toEqual([])
    grants[0]!({ acquired: true, remaining: 3, lease: 'lease-1' })
    await tick()
    expect(released).toEqual(['lease-1'])
    await pipeline.close()
  })

  it("onStoreError 'closed' answers 503", async () => {
    const broken: ConcurrencyStore = {
      kind: 'broken',
      acquire: () => Promise.reject(new Error('down')),
      release: () => undefined,
    }
    const pipeline = await createTestPipeline([
      concurrencyLimit({ max: 4, store: broken, onStoreError: 'closed' }),
    ])
    const res = await pipeline.run()
    expect(res.status).toBe(503)
    expect(res.json()).toMatchObject({ code: 'GW_ERR_RATE_LIMIT_UNAVAILABLE' })
    await pipeline.close()
  })
})
