import { duration, z } from '@gw/core'
import { auditSchema, realmSchema, stripCredentialSchema } from '../shared/schemas.js'
import { parseScryptHash } from './password.js'

/**
 * A user of the `basic` policy.
 *
 * @example
 * ```ts
 * basicUserSchema.parse({ username: 'ops', passwordHash: await hashPassword(pw) })
 * ```
 */
export const basicUserSchema = z
  .object({
    username: z
      .string()
      .min(1)
      .refine((u) => !u.includes(':'), 'a username cannot contain ":" (RFC 7617)')
      .describe('User name (no colon).'),
    passwordHash: z
      .string()
      .refine(
        (h) => parseScryptHash(h) !== undefined,
        'expected a scrypt PHC hash (see hashPassword / gw-auth hash-password)',
      )
      .describe('scrypt hash in PHC format (`$scrypt$ln=15,r=8,p=1$salt$hash`), never the password.'),
    scopes: z.array(z.string().min(1)).default([]).describe('Scopes granted to the user.'),
    claims: z.record(z.string(), z.unknown()).default({}).describe('Extra claims on the principal.'),
  })
  .strict()

/**
 * Options of the `basic` policy.
 *
 * @example
 * ```ts
 * basicSchema.parse({ users: [{ username: 'ops', passwordHash }] }).cacheTtl // 300000
 * ```
 */
export const basicSchema = z
  .object({
    users: z.array(basicUserSchema).nonempty().describe('Users and their scrypt password hashes.'),
    cacheTtl: duration()
      .default(300_000)
      .describe(
        'How long a verified username/password pair skips scrypt (0 disables). Keyed by an HMAC, never the password.',
      ),
    cacheMax: z.number().int().positive().default(1_000).describe('Maximum cached verified credentials.'),
    stripCredential: stripCredentialSchema,
    realm: realmSchema,
    audit: auditSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>()
    config.users.forEach((user, i) => {
      if (seen.has(user.username))
        ctx.addIssue({ code: 'custom', path: ['users', i, 'username'], message: 'duplicate username' })
      seen.add(user.username)
    })
  })

/**
 * Options of the `basic` policy as written.
 *
 * @example
 * ```ts
 * const options: BasicOptions = { users: [{ username: 'ops', passwordHash }], realm: 'tools' }
 * ```
 */
export type BasicOptions = z.input<typeof basicSchema>
