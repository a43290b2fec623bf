import { type PolicyEntry, z } from '@gw/core'

/**
 * Names of the policies `any-of` can combine when written in a config file.
 *
 * @example
 * ```ts
 * ANY_OF_POLICY_NAMES.includes('jwt') // true
 * ```
 */
export const ANY_OF_POLICY_NAMES = ['jwt', 'api-key', 'basic', 'introspection'] as const

const isEntry = (value: unknown): value is PolicyEntry =>
  typeof value === 'object' &&
  value !== null &&
  'definition' in value &&
  'options' in value &&
  typeof (value as PolicyEntry).definition?.create === 'function'

/**
 * One alternative: a policy entry in code (`jwt({...})`), or `{ policy, options }` in a config file.
 *
 * @example
 * ```ts
 * anyOfChildSchema.parse({ policy: 'api-key', options: { consumers } })
 * ```
 */
export const anyOfChildSchema = z.union([
  z.custom<PolicyEntry>(isEntry, 'expected a policy entry such as jwt({ ... })'),
  z
    .object({
      policy: z.enum(ANY_OF_POLICY_NAMES).describe('Name of an auth policy.'),
      options: z.record(z.string(), z.unknown()).default({}).describe('Its options.'),
    })
    .strict(),
])

/**
 * Options of the `any-of` policy.
 *
 * @example
 * ```ts
 * anyOfSchema.parse({ policies: [jwt({ algorithms: ['HS256'], secret }), apiKey({ consumers })] })
 * ```
 */
export const anyOfSchema = z
  .object({
    policies: z
      .array(anyOfChildSchema)
      .min(2, 'combine at least two auth policies')
      .describe('Auth policies tried in order; the first that authenticates the request wins.'),
  })
  .strict()

/**
 * Options of the `any-of` policy as written.
 *
 * @example
 * ```ts
 * const options: AnyOfOptions = { policies: [{ policy: 'jwt', options: { algorithms: ['HS256'], secret } }, apiKey({ consumers })] }
 * ```
 */
export type AnyOfOptions = z.input<typeof anyOfSchema>
