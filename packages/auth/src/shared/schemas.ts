import { duration, z } from '@gw/core'
import { credentialSourceSchema } from './credentials.js'

/** `realm` of the `WWW-Authenticate` challenge. */
export const realmSchema = z
  .string()
  .min(1)
  .default('gw')
  .describe('Realm sent in the WWW-Authenticate challenge (RFC 7235 §2.2).')

/** Audit log level. */
export const auditSchema = z
  .enum(['all', 'failures', 'off'])
  .default('all')
  .describe(
    'Audit events written to the request logger: every attempt (`all`), failures only, or none. Credentials are never logged.',
  )

/** Bearer token sources, defaulting to `Authorization: Bearer`. */
export const tokenSourcesSchema = z
  .array(credentialSourceSchema)
  .nonempty()
  .default([{ in: 'header', name: 'authorization', scheme: 'Bearer' }])
  .describe(
    'Where the token is read from, e.g. `[{ in: header, name: authorization, scheme: Bearer }]`, `{ in: cookie, name: session }` or `{ in: query, name: access_token }`. A token found in more than one place is rejected with 400.',
  )

/** Removing the credential before forwarding. */
export const stripCredentialSchema = z
  .boolean()
  .default(false)
  .describe('Remove the credential (header, cookie or query parameter) before forwarding upstream.')

/** A verified-result cache (bounded LRU). */
export function resultCacheSchema(defaultMaxTtl: number) {
  return z
    .object({
      enabled: z
        .boolean()
        .default(true)
        .describe('Cache verified results so a reused credential skips the work.'),
      max: z.number().int().positive().default(10_000).describe('Maximum cached entries (LRU).'),
      maxTtl: duration()
        .default(defaultMaxTtl)
        .describe('Longest time a result stays cached; never past the credential expiry.'),
    })
    .strict()
    .prefault({})
}
