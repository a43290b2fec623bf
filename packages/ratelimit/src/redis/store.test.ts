import { describe, expect, it } from 'vitest'
import { createRedisConcurrencyStore, createRedisStore, type RedisClient } from './store.js'

/** A client whose scripts answer `reply`: what a reply meant for another command looks like. */
function answering(reply: unknown): RedisClient {
  const client: Record<string, unknown> = {
    defineCommand(name: string) {
      client[name] = () => Promise.resolve(reply)
    },
  }
  return client as unknown as RedisClient
}

const spec = { algorithm: 'fixed-window', limit: 5, windowMs: 1000, burst: 5 } as const

describe('redis store replies', () => {
  it('a reply of the wrong shape is an error, never a decision', async () => {
    for (const reply of [
      'OK',
      null,
      [1, 1, 4, 1000, 0],
      [1, 1, 4, 1000, 0, 'x'],
      [1, 1, 4, 1000, 0, 1000, 7],
    ]) {
      const store = createRedisStore(answering(reply))
      await expect(store.consume([{ key: 'k', spec, cost: 1 }]), JSON.stringify(reply)).rejects.toThrow(
        /unexpected reply to the rate-limit script/,
      )
    }
    const good = createRedisStore(answering([1, 1, 4, 1000, 0, 1000]))
    expect(await good.consume([{ key: 'k', spec, cost: 1 }])).toEqual({
      allowed: true,
      outcomes: [{ allowed: true, remaining: 4, resetMs: 1000, retryAfterMs: 0, nextMs: 1000 }],
    })
  })

  it('the concurrency script too', async () => {
    await expect(createRedisConcurrencyStore(answering('OK')).acquire('k', 1, 1000)).rejects.toThrow(
      /unexpected reply to the concurrency script/,
    )
  })
})
