import { z } from '@gw/core'

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

/**
 * Parses a byte size: a number of bytes or a string such as `512kb`, `10mb`, `1gb` (binary multiples, as the
 * seed's `maxBodySize: '10mb'`).
 *
 * @example
 * ```ts
 * parseBytes('10mb') // 10485760
 * ```
 */
export function parseBytes(value: number | string): number {
  if (typeof value === 'number') return value
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value)
  if (!match) return Number.NaN
  return Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]!)
}

/**
 * Zod schema of a byte size (number or `10mb`-style string), parsed to a number of bytes.
 *
 * @example
 * ```ts
 * bytes().parse('1kb') // 1024
 * ```
 */
export function bytes() {
  return z.union([z.number().int().min(0), z.string()]).transform((value, ctx) => {
    const parsed = parseBytes(value)
    if (Number.isNaN(parsed)) {
      ctx.addIssue({ code: 'custom', message: `invalid byte size '${value}' (use a number or e.g. 10mb)` })
      return z.NEVER
    }
    return parsed
  })
}
