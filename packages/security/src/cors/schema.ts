import { z } from '@gw/core'

/** A code-only origin predicate: receives the serialized request origin (or `null`). */
export type OriginPredicate = (origin: string) => boolean

const originEntry = z.union([z.string().min(1), z.instanceof(RegExp)])

/** Options of the `cors` policy. */
export const corsSchema = z
  .object({
    origins: z
      .union([
        z
          .string()
          .transform((value) =>
            value
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== ''),
          )
          .pipe(z.array(z.string()).min(1, 'at least one origin is required')),
        z.array(originEntry).min(1),
        z.custom<OriginPredicate>((v) => typeof v === 'function', 'expected a function'),
      ])
      .describe(
        'Allowed origins: a list of exact origins (`https://app.example.com`), `*` (any origin, never `null`), `null` (opaque origins, only when listed), regular expressions (RegExp in code, `/pattern/flags` strings in files; matched against the whole serialized origin), or a predicate function (code only). A comma-separated string is split (CORS_ORIGIN).',
      ),
    methods: z
      .array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/))
      .default(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'])
      .describe('Methods allowed in preflights (`Access-Control-Allow-Methods`); default as in the seed.'),
    allowedHeaders: z
      .array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/))
      .default(['content-type', 'authorization', 'x-api-key', 'x-request-id'])
      .describe(
        'Request headers allowed in preflights (`Access-Control-Allow-Headers`); CORS-safelisted headers are always allowed by browsers.',
      ),
    exposedHeaders: z
      .array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/))
      .default([])
      .describe('Response headers scripts may read (`Access-Control-Expose-Headers`).'),
    credentials: z
      .boolean()
      .default(false)
      .describe(
        'Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth). The origin is then always reflected, never `*`.',
      ),
    maxAge: z
      .number()
      .int()
      .min(0)
      .default(600)
      .describe('`Access-Control-Max-Age` of preflight answers in seconds (browsers cap it: Chromium 7200).'),
    preflightStatus: z
      .union([z.literal(200), z.literal(204)])
      .default(204)
      .describe('Status of successful preflight answers.'),
  })
  .strict()
  .refine(
    (o) =>
      !o.credentials ||
      (!o.methods.includes('*') && !o.allowedHeaders.includes('*') && !o.exposedHeaders.includes('*')),
    {
      message:
        "with credentials, '*' in methods, allowedHeaders or exposedHeaders is not a wildcard (Fetch standard): list the names",
    },
  )

/** Options of the `cors` policy as written. */
export type CorsInput = z.input<typeof corsSchema>
/** Parsed options of the `cors` policy. */
export type CorsOptions = z.output<typeof corsSchema>
