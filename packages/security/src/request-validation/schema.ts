import { z } from '@gw/core'
import { bytes } from '../shared/bytes.js'

const token = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/)

/** Options of the `request-validation` policy. */
export const requestValidationSchema = z
  .object({
    maxBodySize: bytes()
      .default(1_048_576)
      .describe(
        'Largest request body in bytes (or `10mb`-style). A larger `Content-Length` is refused with 413 before any byte is read; bodies without Content-Length (chunked) are buffered up to this size and refused with 413 as soon as they exceed it.',
      ),
    maxUrlLength: z
      .number()
      .int()
      .min(1)
      .default(8192)
      .describe('Longest request target (path and query) in bytes; longer -> 414.'),
    maxHeaderCount: z.number().int().min(1).default(100).describe('Most request header fields; more -> 431.'),
    maxHeaderSize: z
      .number()
      .int()
      .min(1)
      .default(8192)
      .describe('Longest single header field (name and value) in bytes; longer -> 431.'),
    methods: z
      .array(token)
      .min(1)
      .optional()
      .describe('Methods allowed; others -> 405 with `Allow`. Default: no restriction.'),
    contentTypes: z
      .array(z.string().regex(/^[\w.+*-]+\/[\w.+*-]+$/))
      .min(1)
      .optional()
      .describe(
        'Media types allowed for requests with a body (`application/json`, `text/*`, `application/*+json`); others or a missing Content-Type -> 415. Default: no restriction.',
      ),
    jsonSchema: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'JSON Schema (draft-07 / 2019-09 keywords, validated with ajv, compiled at start-up) that JSON bodies must satisfy; failures -> 400 problem+json listing each failing path. Requests with this option must send JSON (415 otherwise).',
      ),
    jsonSchemaMethods: z
      .array(token)
      .default(['POST', 'PUT', 'PATCH'])
      .describe(
        'Methods whose requests must carry a body valid against `jsonSchema` (400 when it is missing).',
      ),
  })
  .strict()

/** Parsed options of the `request-validation` policy. */
export type RequestValidationOptions = z.output<typeof requestValidationSchema>
