import { z } from '@gw/core'
import { bytes } from '../shared/bytes.js'

/** Options of the `openapi-validation` policy. */
export const openapiValidationSchema = z
  .object({
    document: z
      .record(z.string(), z.unknown())
      .refine((d) => typeof d.openapi === 'string' && String(d.openapi).startsWith('3.'), {
        message: 'expected an OpenAPI 3.x document (an object with openapi: "3.x.y" and paths)',
      })
      .describe(
        'The OpenAPI 3.0/3.1 document (parsed JSON/YAML). Path, query and header parameters and JSON request bodies are validated against its schemas; local `$ref`s to `#/components/...` are resolved.',
      ),
    pathPrefix: z
      .string()
      .regex(/^(\/[^/]+)*$/)
      .default('')
      .describe(
        'Prefix removed from the request path before it is matched against the document paths (e.g. `/api`).',
      ),
    unknownOperations: z
      .enum(['reject', 'allow'])
      .default('reject')
      .describe(
        '`reject` answers requests the document does not describe (404, or 405 with `Allow` for a known path); `allow` lets them through unvalidated.',
      ),
    maxBodySize: bytes()
      .default(1_048_576)
      .describe('Largest JSON body buffered for validation, in bytes (or `1mb`-style); larger -> 413.'),
  })
  .strict()

/** Parsed options of the `openapi-validation` policy. */
export type OpenapiValidationOptions = z.output<typeof openapiValidationSchema>
