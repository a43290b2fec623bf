import type { SetupContext } from '@gw/core'

/** The part of an ioredis client (standalone or Cluster) that @gw/auth uses. */
export interface RedisLike {
  hgetall(key: string): Promise<Record<string, string>>
}

/**
 * Gets the app's `redis` resource (declared by `@gw/auth/redis`, as in every gw package) without making the
 * main entry depend on ioredis types. Fails at start-up when the app provides none.
 *
 * @example
 * ```ts
 * const redis = needRedis(setup)
 * ```
 */
export function needRedis(setup: SetupContext): RedisLike {
  return (setup as unknown as { need(key: string): RedisLike }).need('redis')
}
