import { z } from '@gw/core'
import { bytes } from '../shared/bytes.js'

/** Options of the `attack-filter` policy. */
export const attackFilterSchema = z
  .object({
    paranoia: z
      .union([z.literal(1), z.literal(2), z.literal(3)])
      .default(1)
      .describe(
        'Rule level: 1 = high-confidence signatures with few false positives, 2 and 3 add broader rules that detect more and misfire more (measured rates in the README).',
      ),
    inspectPath: z.boolean().default(true).describe('Inspect the request path.'),
    inspectQuery: z.boolean().default(true).describe('Inspect query parameter names and values.'),
    headers: z
      .array(z.string().min(1).toLowerCase())
      .default(['user-agent', 'referer', 'cookie', 'x-forwarded-host'])
      .describe(
        'Request headers to inspect (cookies are split into name=value pairs). The User-Agent is also matched against the scanner list.',
      ),
    body: z
      .object({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            'Inspect request bodies (buffers them; JSON strings and form fields are inspected one by one).',
          ),
        maxBytes: bytes().default(65_536).describe('Largest body inspected, in bytes (or `64kb`-style).'),
        oversize: z
          .enum(['reject', 'skip'])
          .default('reject')
          .describe(
            '`reject` refuses bodies larger than maxBytes (413); `skip` forwards them uninspected when Content-Length declares more.',
          ),
        contentTypes: z
          .array(z.string().min(1))
          .default(['application/json', 'application/*+json', 'application/x-www-form-urlencoded', 'text/*'])
          .describe('Media types whose bodies are inspected; other bodies pass uninspected.'),
      })
      .strict()
      .default({
        enabled: false,
        maxBytes: 65_536,
        oversize: 'reject',
        contentTypes: [
          'application/json',
          'application/*+json',
          'application/x-www-form-urlencoded',
          'text/*',
        ],
      })
      .describe('Body inspection (opt-in).'),
    disabledRules: z
      .array(z.string().min(1))
      .default([])
      .describe('Rule ids to switch off (tuning for false positives), e.g. `sqli-comment-terminator`.'),
    decodeRounds: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(3)
      .describe('How many times percent-encoding is decoded (double and triple encoding evasions).'),
  })
  .strict()

/** Parsed options of the `attack-filter` policy. */
export type AttackFilterOptions = z.output<typeof attackFilterSchema>
