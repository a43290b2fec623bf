import { z } from '@gw/core'
import { httpMethodSchema } from '@gw/core/config'
import { templateString } from '../template/schema.js'

const paramName = z.string().min(1).describe('Query parameter name.')

/**
 * Options of the `rewrite` policy.
 *
 * @example
 * ```ts
 * rewriteSchema.parse({ method: 'POST' }).method // 'POST'
 * ```
 */
export const rewriteSchema = z
  .object({
    path: z
      .object({
        pattern: z
          .string()
          .refine(
            (p) => {
              try {
                new RegExp(p)
                return true
              } catch {
                return false
              }
            },
            { message: 'must be a valid regular expression' },
          )
          .describe('Regular expression matched against the upstream path (without the query).'),
        replacement: templateString(
          'Replacement with $1..$9 / $<name> captures and ${...} references (values are percent-encoded).',
        ),
      })
      .strict()
      .optional()
      .describe('Path rewrite; a path that does not match is forwarded unchanged.'),
    query: z
      .object({
        remove: z.array(paramName).default([]).describe('Parameters removed (first step).'),
        rename: z
          .record(paramName, paramName)
          .default({})
          .describe('Parameters renamed, `{ from: to }` (second step).'),
        set: z
          .record(paramName, templateString('Value; may use ${...} references.'))
          .default({})
          .describe('Parameters set, replacing every existing value (third step).'),
        add: z
          .record(paramName, templateString('Value; may use ${...} references.'))
          .default({})
          .describe('Parameters set only when absent (last step).'),
      })
      .strict()
      .optional()
      .describe('Query parameter edits; a value whose template has a missing reference is skipped.'),
    method: httpMethodSchema.optional().describe('Method sent upstream instead of the client method.'),
  })
  .strict()
  .refine((o) => o.path !== undefined || o.query !== undefined || o.method !== undefined, {
    message: 'configure at least one of path, query or method',
  })

/**
 * Input (before defaults) of the `rewrite` options.
 *
 * @example
 * ```ts
 * const options: RewriteOptions = { query: { remove: ['debug'] } }
 * ```
 */
export type RewriteOptions = z.input<typeof rewriteSchema>
