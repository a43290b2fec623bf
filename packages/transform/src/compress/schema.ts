import { z } from '@gw/core'

/**
 * Content types compressed by default (`text/event-stream` is never compressed: it must flush per event).
 *
 * @example
 * ```ts
 * compress({ types: [...DEFAULT_COMPRESSIBLE_TYPES, 'application/vnd.acme+csv'] })
 * ```
 */
export const DEFAULT_COMPRESSIBLE_TYPES = [
  'text/*',
  'application/json',
  'application/*+json',
  'application/javascript',
  'application/ecmascript',
  'application/xml',
  'application/*+xml',
  'application/x-ndjson',
  'application/graphql-response+json',
  'application/wasm',
  'application/x-www-form-urlencoded',
  'image/svg+xml',
  'image/x-icon',
  'image/bmp',
  'font/otf',
  'font/ttf',
] as const

const typePattern = z
  .string()
  .toLowerCase()
  .regex(
    /^([a-z0-9][\w.+-]*|\*)\/([a-z0-9][\w.+-]*|\*|\*\+[\w.-]+)$/,
    "must be 'type/subtype', 'type/*', 'type/*+suffix' or '*/*+suffix'",
  )

/**
 * Options of the `compress` policy.
 *
 * @example
 * ```ts
 * compressSchema.parse({}).threshold // 1024
 * ```
 */
export const compressSchema = z
  .object({
    encodings: z
      .array(z.enum(['br', 'gzip']))
      .nonempty()
      .default(['br', 'gzip'])
      .describe("Codings offered, in the gateway's order of preference for equal client q-values."),
    threshold: z
      .number()
      .int()
      .nonnegative()
      .default(1024)
      .describe(
        'Minimum body size in bytes (by Content-Length, or the size of a local reply); bodies of unknown length are compressed.',
      ),
    level: z
      .number()
      .int()
      .min(1)
      .max(9)
      .default(6)
      .describe('gzip compression level (1 fastest .. 9 smallest).'),
    brotliQuality: z
      .number()
      .int()
      .min(0)
      .max(11)
      .default(4)
      .describe(
        'Brotli quality (0 .. 11); 4 compresses better than gzip 6 at similar speed, 11 is for static assets only.',
      ),
    types: z
      .array(typePattern)
      .default([...DEFAULT_COMPRESSIBLE_TYPES])
      .describe('Compressible media types: exact, type/*, type/*+suffix or */*+suffix (parameters ignored).'),
  })
  .strict()

/**
 * Input (before defaults) of the `compress` options.
 *
 * @example
 * ```ts
 * const options: CompressOptions = { threshold: 2048, level: 5 }
 * ```
 */
export type CompressOptions = z.input<typeof compressSchema>
