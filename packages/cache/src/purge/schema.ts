import { z } from '@gw/core'

/**
 * Options of the `cache-purge` policy.
 *
 * @example
 * ```ts
 * cachePurgeSchema.parse({ apiKey: process.env.CACHE_PURGE_KEY }).path // '/_cache/purge'
 * ```
 */
export const cachePurgeSchema = z
  .object({
    path: z
      .string()
      .startsWith('/')
      .default('/_cache/purge')
      .describe('Request path that purges (POST with a JSON body); other requests pass through untouched.'),
    apiKey: z
      .string()
      .min(16)
      .describe(
        'Secret the purge request must present in `header` (at least 16 characters; use an env var).',
      ),
    header: z.string().toLowerCase().default('x-api-key').describe('Request header carrying the API key.'),
    name: z
      .string()
      .default('gw')
      .describe('Name of the cache(s) to purge (the `name` option of the cache policies).'),
  })
  .strict()

/**
 * The JSON body of a purge request: exactly one of `url`, `prefix`, `tag`.
 *
 * @example
 * ```ts
 * purgeRequestSchema.parse({ tag: 'product-7' })
 * ```
 */
export const purgeRequestSchema = z
  .object({
    url: z.string().min(1).optional().describe('Purge every variant of one URL (host + path and query).'),
    prefix: z.string().min(1).optional().describe('Purge every URL starting with this host + path prefix.'),
    tag: z
      .string()
      .min(1)
      .optional()
      .describe('Purge every entry tagged with this Surrogate-Key / Cache-Tag value.'),
  })
  .strict()
  .refine((v) => [v.url, v.prefix, v.tag].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of url, prefix or tag',
  })
