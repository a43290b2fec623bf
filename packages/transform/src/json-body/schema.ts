import { z } from '@gw/core'
import { templateString } from '../template/schema.js'
import { pointerProblem } from './pointer.js'

const pointer = z
  .string()
  .superRefine((value, ctx) => {
    const problem = pointerProblem(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `JSON Pointer ${problem}` })
  })
  .describe('JSON Pointer (RFC 6901), e.g. /data/items/0')

const nonRootPointer = pointer.refine((p) => p !== '', { message: 'must not be the whole document' })

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    templateString('String value; may use ${...} references ($${ for a literal).'),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
)

/**
 * One direction's mapping: steps run in the order unwrap, pick, omit, rename, set, wrap.
 *
 * @example
 * ```ts
 * mappingSchema.parse({ wrap: '/data' }).omit // []
 * ```
 */
export const mappingSchema = z
  .object({
    unwrap: pointer.optional().describe('Replace the document by the value at this pointer (first step).'),
    pick: z.array(pointer).optional().describe('Keep only the values at these pointers (second step).'),
    omit: z.array(nonRootPointer).default([]).describe('Remove the values at these pointers (third step).'),
    rename: z
      .record(nonRootPointer, nonRootPointer)
      .default({})
      .describe('Move values, `{ from: to }` (fourth step); absent sources are skipped.'),
    set: z
      .record(pointer, jsonValue)
      .default({})
      .describe(
        'Set values (fifth step): JSON constants; a top-level string may be a ${...} template (skipped when a reference is missing).',
      ),
    wrap: nonRootPointer
      .optional()
      .describe('Wrap the document at this pointer, e.g. /data gives {"data": ...} (last step).'),
  })
  .strict()

/**
 * Options of the `json-body` policy.
 *
 * @example
 * ```ts
 * jsonBodySchema.parse({ response: {} }).limit // 1048576
 * ```
 */
export const jsonBodySchema = z
  .object({
    limit: z
      .number()
      .int()
      .positive()
      .default(1_048_576)
      .describe(
        'Largest body buffered for mapping, in bytes, before and after decompression; over it: 413 for requests, 502 for responses.',
      ),
    request: mappingSchema
      .optional()
      .describe('Mapping of JSON request bodies (application/json or +json); others pass untouched.'),
    response: mappingSchema
      .optional()
      .describe('Mapping of JSON 2xx response bodies (application/json or +json); others pass untouched.'),
  })
  .strict()
  .refine((o) => o.request !== undefined || o.response !== undefined, {
    message: 'configure a request or a response mapping',
  })

/**
 * Input (before defaults) of the `json-body` options.
 *
 * @example
 * ```ts
 * const options: JsonBodyOptions = { limit: 65536, response: { unwrap: '/data' } }
 * ```
 */
export type JsonBodyOptions = z.input<typeof jsonBodySchema>
/**
 * Input of one direction's mapping.
 *
 * @example
 * ```ts
 * const mapping: JsonMappingOptions = { rename: { '/user_name': '/userName' } }
 * ```
 */
export type JsonMappingOptions = z.input<typeof mappingSchema>
