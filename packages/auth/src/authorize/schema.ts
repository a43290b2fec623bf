import { z } from '@gw/core'
import { realmSchema } from '../shared/schemas.js'

const scalar = z.union([z.string(), z.number(), z.boolean()])

/**
 * A requirement on one claim of the principal.
 *
 * @example
 * ```ts
 * claimRuleSchema.parse({ claim: 'org.id', equals: 'acme' })
 * ```
 */
export const claimRuleSchema = z
  .object({
    claim: z.string().min(1).describe('Claim name; a dotted path reaches nested claims (`org.id`).'),
    equals: scalar.optional().describe('The claim must equal this value.'),
    oneOf: z.array(scalar).nonempty().optional().describe('The claim must equal one of these values.'),
    contains: scalar
      .optional()
      .describe('The claim (an array, or a space-separated string) must contain this value.'),
  })
  .strict()
  .refine(
    (rule) => [rule.equals, rule.oneOf, rule.contains].filter((v) => v !== undefined).length === 1,
    'set exactly one of equals, oneOf, contains',
  )

/**
 * Options of the `authorize` policy.
 *
 * @example
 * ```ts
 * authorizeSchema.parse({ scopes: ['orders:read'] }).rolesClaim // 'roles'
 * ```
 */
export const authorizeSchema = z
  .object({
    scopes: z.array(z.string().min(1)).default([]).describe('Scopes the principal must all have (all-of).'),
    anyScopes: z
      .array(z.string().min(1))
      .default([])
      .describe('Scopes of which the principal needs at least one (any-of).'),
    roles: z
      .array(z.string().min(1))
      .default([])
      .describe('Roles of which the principal needs at least one (read from `rolesClaim`).'),
    rolesClaim: z
      .string()
      .min(1)
      .default('roles')
      .describe('Claim holding roles (array or space-separated string); dotted path allowed.'),
    claims: z.array(claimRuleSchema).default([]).describe('Claim requirements, all of which must hold.'),
    realm: realmSchema,
  })
  .strict()
  .refine(
    (c) => c.scopes.length + c.anyScopes.length + c.roles.length + c.claims.length > 0,
    'set at least one requirement: scopes, anyScopes, roles or claims',
  )

/**
 * Options of the `authorize` policy as written.
 *
 * @example
 * ```ts
 * const options: AuthorizeOptions = { anyScopes: ['admin', 'orders:write'], roles: ['support'] }
 * ```
 */
export type AuthorizeOptions = z.input<typeof authorizeSchema>
