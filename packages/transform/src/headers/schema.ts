import { z } from '@gw/core'
import { templateString } from '../template/schema.js'

const FRAMING = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
])

const headerName = z
  .string()
  .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a valid header name (RFC 9110 token)')
  .toLowerCase()
  .refine((name) => !FRAMING.has(name), {
    message:
      'framing and hop-by-hop headers (Content-Length, Transfer-Encoding, Connection, ...) are managed by the gateway',
  })

const valueMap = (what: string) =>
  z.record(headerName, templateString('Header value; may use ${...} references.')).default({}).describe(what)

/**
 * Options shared by `request-headers` and `response-headers`.
 *
 * @example
 * ```ts
 * headersSchema.parse({ set: { 'X-Env': 'prod' } }).set // { 'x-env': 'prod' }
 * ```
 */
export const headersSchema = z
  .object({
    remove: z.array(headerName).default([]).describe('Headers removed (first step).'),
    rename: z
      .record(headerName, headerName)
      .default({})
      .describe('Headers renamed, `{ from: to }` (second step); the value moves, replacing any `to` header.'),
    set: valueMap('Headers set, replacing any existing value (third step).'),
    append: valueMap(
      'Values appended to existing headers (comma-joined; a new list item for Set-Cookie), or set when absent (fourth step).',
    ),
    add: valueMap('Headers set only when absent (last step).'),
  })
  .strict()

/**
 * Input (before defaults) of the header policies' options.
 *
 * @example
 * ```ts
 * const options: HeadersOptions = { set: { 'x-user-id': '${principal.sub}' } }
 * ```
 */
export type HeadersOptions = z.input<typeof headersSchema>
