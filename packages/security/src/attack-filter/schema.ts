import { z } from '@gw/core'
import { bytes } from '../shared/bytes.js'

const paranoia = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)])

const ruleRef = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(?:-\d+)?$/, 'a rule id or an id range like 942000-942999'),
])

/** One false-positive tuning entry (ModSecurity's `ctl:ruleRemoveById` / `ctl:ruleRemoveTargetById` / ...ByTag). */
export const exclusionSchema = z
  .object({
    ids: z
      .array(ruleRef)
      .optional()
      .describe('Rule ids or id ranges (`942100`, `"942000-942999"`) the exclusion applies to.'),
    tags: z
      .array(z.string().min(1))
      .optional()
      .describe('Rule tags the exclusion applies to (`attack-sqli`, `paranoia-level/2`, `OWASP_CRS`).'),
    target: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Without it the rules are switched off; with it only this variable is no longer inspected by them: `ARGS:password`, `REQUEST_COOKIES:/^session_/`, `REQUEST_HEADERS:User-Agent`.',
      ),
  })
  .strict()
  .refine((e) => (e.ids?.length ?? 0) + (e.tags?.length ?? 0) > 0, {
    message: 'an exclusion needs ids or tags',
  })

/** Options of the `attack-filter` policy. */
export const attackFilterSchema = z
  .object({
    rules: z
      .string()
      .min(1)
      .default('crs')
      .describe(
        '`crs` for the OWASP CRS v4 copy bundled with @gw/security, or a directory: a CRS checkout (its `rules/` folder and `crs-setup.conf` are loaded) or a folder of `*.conf` SecLang files loaded in name order.',
      ),
    paranoia: paranoia
      .default(1)
      .describe(
        'CRS blocking paranoia level: 1 has few false positives; 2-4 enable more rules that catch more and misfire more (`tx.blocking_paranoia_level`).',
      ),
    detectionParanoia: paranoia
      .optional()
      .describe(
        'Also run (and log, without counting them towards blocking) the rules up to this level; must be >= `paranoia` (`tx.detection_paranoia_level`).',
      ),
    inboundThreshold: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe(
        'Anomaly score at which a request is refused (CRS default 5: one critical match such as SQL injection or XSS).',
      ),
    outboundThreshold: z
      .number()
      .int()
      .min(1)
      .default(4)
      .describe('Anomaly score at which a response is refused (with `response.enabled`).'),
    earlyBlocking: z
      .boolean()
      .default(false)
      .describe('Refuse in phase 1 (headers) when the score is already reached, before reading the body.'),
    variables: z
      .record(z.string().regex(/^[A-Za-z0-9_]+$/), z.union([z.string(), z.number()]))
      .default({})
      .describe(
        'Other CRS settings as `tx.` variables, e.g. `{ allowed_methods: "GET HEAD POST OPTIONS PUT PATCH DELETE", max_num_args: 255 }` (see `crs-setup.conf.example`).',
      ),
    exclusions: z
      .array(exclusionSchema)
      .default([])
      .describe(
        'False-positive tuning for the routes this entry applies to: switch rules off by id or tag, or stop them inspecting one variable.',
      ),
    directives: z
      .object({
        before: z
          .string()
          .default('')
          .describe('SecLang loaded after `crs-setup.conf`, before the rule files (your own `SecAction`s).'),
        after: z
          .string()
          .default('')
          .describe(
            'SecLang loaded after the rule files (`SecRuleRemoveById`, `SecRuleUpdateTargetById`, your own rules).',
          ),
      })
      .strict()
      .default({ before: '', after: '' })
      .describe('Extra SecLang text (compiled once at start-up with the rules).'),
    body: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('Inspect request bodies (URL-encoded, JSON, multipart, XML, other).'),
        limit: bytes()
          .default(1_048_576)
          .describe('Most body bytes buffered for inspection, in bytes (or `1mb`-style).'),
        overLimit: z
          .enum(['reject', 'inspect-prefix'])
          .default('reject')
          .describe(
            '`reject` answers a larger body with 413 (ModSecurity `SecRequestBodyLimitAction Reject`, the recommended setting); `inspect-prefix` inspects the first `limit` bytes and forwards the whole body (`ProcessPartial`).',
          ),
      })
      .strict()
      .default({ enabled: true, limit: 1_048_576, overLimit: 'reject' })
      .describe('Request body inspection (on by default, as CRS expects).'),
    response: z
      .object({
        enabled: z
          .boolean()
          .default(false)
          .describe('Run the response rules (phases 3 and 4: data leakage, web shells).'),
        limit: bytes()
          .default(524_288)
          .describe(
            'Most response body bytes buffered for inspection; beyond it only the first bytes are inspected.',
          ),
        mimeTypes: z
          .array(z.string().min(1).toLowerCase())
          .default(['text/plain', 'text/html', 'text/xml', 'application/json'])
          .describe('Response media types whose bodies are inspected.'),
      })
      .strict()
      .default({
        enabled: false,
        limit: 524_288,
        mimeTypes: ['text/plain', 'text/html', 'text/xml', 'application/json'],
      })
      .describe('Response inspection (off by default; buffers bodies up to `limit`).'),
  })
  .strict()
  .refine((o) => o.detectionParanoia === undefined || o.detectionParanoia >= o.paranoia, {
    message: 'detectionParanoia must be >= paranoia',
    path: ['detectionParanoia'],
  })

/** Parsed options of the `attack-filter` policy. */
export type AttackFilterOptions = z.output<typeof attackFilterSchema>
