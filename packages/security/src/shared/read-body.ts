import { type Exchange, readBody } from '@gw/core'

/**
 * Core's `readBody` with `overflow: 'keep'` (over the limit the body stays forwardable and the connection closes
 * after the response). Only the current attack-filter still calls it; its rewrite uses `readBody` directly, and
 * this file goes with it.
 *
 * @example
 * ```ts
 * const body = await readBoundedBody(ex, 65_536)
 * ```
 */
export function readBoundedBody(ex: Exchange, limit: number): Promise<Buffer> {
  return readBody(ex, { limit, overflow: 'keep' })
}

/**
 * Nothing left to do after the response: core closes the connection of a request whose body was refused
 * (`ex.closeConnection`). Kept for the current attack-filter's `onComplete`, like {@link readBoundedBody}.
 *
 * @example
 * ```ts
 * onComplete: (ex) => closeIfBodyUnread(ex)
 * ```
 */
export function closeIfBodyUnread(_ex: Exchange): void {}
