import { z } from '@gw/core'

/**
 * Request headers always redacted when listed in `headers`: credentials and session cookies.
 *
 * @example
 * ```ts
 * SENSITIVE_HEADERS.includes('authorization') // true
 * ```
 */
export const SENSITIVE_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-access-token',
  'x-csrf-token',
] as const

/**
 * Query parameters always redacted when the query is logged.
 *
 * @example
 * ```ts
 * redactQuery('token=abc', new Set(SENSITIVE_QUERY_PARAMS)) // 'token=[REDACTED]'
 * ```
 */
export const SENSITIVE_QUERY_PARAMS = [
  'access_token',
  'api_key',
  'apikey',
  'api-key',
  'client_secret',
  'code',
  'id_token',
  'key',
  'password',
  'refresh_token',
  'secret',
  'sig',
  'signature',
  'token',
] as const

/**
 * Fields of the access-log line, for `redactFields`.
 *
 * @example
 * ```ts
 * accessLog({ redactFields: ['clientIp', 'principal'] })
 * ```
 */
export const ACCESS_LOG_FIELDS = [
  'method',
  'route',
  'path',
  'query',
  'status',
  'durationMs',
  'bytesIn',
  'bytesOut',
  'upstream',
  'clientIp',
  'principal',
  'consumer',
  'cache',
  'rateLimit',
  'traceId',
  'spanId',
  'headers',
  'decisions',
] as const

/**
 * Options of the `access-log` policy.
 *
 * @example
 * ```ts
 * accessLogSchema.parse({}).sampleRate // 1
 * ```
 */
export const accessLogSchema = z
  .object({
    level: z
      .enum(['info', 'debug', 'trace', 'warn'])
      .default('info')
      .describe('Log level of the access-log lines.'),
    message: z.string().default('request completed').describe('The msg of every access-log line.'),
    sampleRate: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe('Fraction of requests logged (1: all). Errors are kept according to alwaysLogErrors.'),
    alwaysLogErrors: z
      .boolean()
      .default(true)
      .describe(
        'Log every request answered with status >= 400, aborted, or with a deny/report decision, whatever the sample rate.',
      ),
    headers: z
      .array(z.string().min(1).toLowerCase())
      .default([])
      .describe(
        'Request headers written on the line (e.g. user-agent); credentials among them are redacted.',
      ),
    redactHeaders: z
      .array(z.string().min(1).toLowerCase())
      .default([])
      .describe(
        'More request header names to redact, e.g. the API key header (API_KEY_HEADER); authorization, cookies and common key headers always are.',
      ),
    query: z.boolean().default(false).describe('Write the query string (with secret parameters redacted).'),
    redactQuery: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'More query parameter names to redact; access_token, api_key, token, password and similar always are.',
      ),
    redactFields: z
      .array(z.enum(ACCESS_LOG_FIELDS))
      .default([])
      .describe('Line fields replaced by "[REDACTED]" (e.g. clientIp, principal for privacy rules).'),
  })
  .strict()

/** Validated options of the `access-log` policy. */
export type AccessLogConfig = z.output<typeof accessLogSchema>
