import { z } from '@gw/core'

const pattern = z.union([z.string().min(1), z.instanceof(RegExp)])

/** Options of the `bot-filter` policy. */
export const botFilterSchema = z
  .object({
    deny: z
      .array(pattern)
      .default([])
      .describe(
        'User-agent patterns refused with 403 (strings are case-insensitive regular expressions; RegExp in code).',
      ),
    allow: z
      .array(pattern)
      .default([])
      .describe(
        'User-agent patterns always let through, even when a deny pattern matches (e.g. your monitoring).',
      ),
    missingUserAgent: z
      .enum(['allow', 'deny'])
      .default('allow')
      .describe('What to do with requests without a (non-empty) User-Agent header.'),
  })
  .strict()

/** Parsed options of the `bot-filter` policy. */
export type BotFilterOptions = z.output<typeof botFilterSchema>
