import { z } from 'zod'

/**
 * The admin listener: a second node:http server for operator endpoints (route table, upstream health,
 * effective config, reload, and whatever packages mount). Loopback by default; every request needs the key.
 *
 * @example
 * ```ts
 * adminSchema.parse({ port: 9901, apiKey: process.env.GW_ADMIN_KEY })
 * ```
 */
export const adminSchema = z
  .strictObject({
    port: z
      .int()
      .min(0)
      .max(65_535)
      .describe('Port of the admin listener (0 picks a free one). Never the gateway port.'),
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('Bind address. Default 127.0.0.1: operators reach it from the machine or through a tunnel.'),
    apiKey: z
      .string()
      .min(16, 'the admin key needs at least 16 characters')
      .describe(
        'Key every admin request presents as `Authorization: Bearer <key>` or `x-admin-key: <key>` (compared in constant time). Put it in an environment variable (GW_ADMIN_KEY).',
      ),
  })
  .describe('Optional admin listener (operator endpoints: /routes, /upstreams, /config, POST /reload).')

/** Admin listener options as written. */
export type AdminInput = z.input<typeof adminSchema>
/** Admin listener options after validation. */
export type AdminConfig = z.output<typeof adminSchema>
