import { z } from 'zod'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Parses a duration: a number of milliseconds or a string such as `250ms`, `5s`, `15m`, `1h`, `1d`.
 *
 * @example
 * ```ts
 * parseDuration('15m') // 900000
 * ```
 */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim())
  if (!match) return Number.NaN
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1))
}

/**
 * A zod schema for durations; outputs milliseconds.
 *
 * @example
 * ```ts
 * z.object({ window: duration().default(900_000) }).parse({ window: '15m' }) // { window: 900000 }
 * ```
 */
export function duration(): z.ZodPipe<
  z.ZodUnion<readonly [z.ZodNumber, z.ZodString]>,
  z.ZodTransform<number, string | number>
> {
  return z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
    const ms = parseDuration(value)
    if (!Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid duration '${String(value)}' (use ms or e.g. 5s, 15m, 1h)`,
      })
      return z.NEVER
    }
    return ms
  })
}
