import { createStateKey, type DecisionRecord, definePolicy, LOG_LEVELS, principalKey } from '@gw/core'
import { decisionsKey } from '../decisions.js'
import { rememberResponseLength, responseBytes } from '../response-length.js'
import { traceContextKey } from '../trace-context/index.js'
import { REDACTED, redactQuery } from './redact.js'
import { accessLogSchema, SENSITIVE_HEADERS, SENSITIVE_QUERY_PARAMS } from './schema.js'

const cacheStatusKey = createStateKey<string>('metrics.cache-status')

/** One access-log line (fields absent when unknown). */
export interface AccessLogLine {
  method: string
  route: string
  path: string
  query?: string
  status: number
  durationMs: number
  bytesIn?: number
  bytesOut: number
  upstream?: string
  clientIp: string
  principal?: string
  consumer?: string
  cache?: string
  rateLimit?: DecisionRecord['outcome']
  traceId?: string
  spanId?: string
  aborted?: true
  error?: string
  respondedBy?: string
  headers?: Record<string, string | string[]>
  decisions?: DecisionRecord[]
}

function rateLimitOutcome(
  decisions: readonly DecisionRecord[] | undefined,
): DecisionRecord['outcome'] | undefined {
  if (decisions === undefined) return undefined
  let outcome: DecisionRecord['outcome'] | undefined
  for (const d of decisions) if (d.policy.startsWith('rate-limit')) outcome = d.outcome
  return outcome
}

/**
 * One JSON line per request through the request's logger (pino in apps; `reqId` is bound by core), written
 * in `onComplete`: method, route id, path, status, duration, bytes, upstream, client ip, principal, cache
 * status, rate-limit outcome, trace and span ids and the decision records of the request. Credentials
 * (Authorization, cookies, API keys, secret query parameters, configured headers and fields) are redacted;
 * successful requests can be sampled while errors and denials are always kept.
 *
 * @example
 * ```ts
 * accessLog({ headers: ['user-agent'], redactHeaders: [process.env.API_KEY_HEADER ?? 'x-api-key'], sampleRate: 0.1 })
 * ```
 */
export const accessLog = definePolicy({
  name: 'access-log',
  stage: 'observe',
  description: 'JSON access-log line per request with redaction, sampling, trace ids and policy decisions.',
  schema: accessLogSchema,
  create(config, setup) {
    const secretHeaders = new Set<string>([...SENSITIVE_HEADERS, ...config.redactHeaders])
    const secretParams = new Set<string>([
      ...SENSITIVE_QUERY_PARAMS,
      ...config.redactQuery.map((q) => q.toLowerCase()),
    ])
    const redactFields = config.redactFields
    const headerNames = config.headers
    const { level, message, sampleRate, alwaysLogErrors } = config
    const threshold = LOG_LEVELS.indexOf(level)
    const enabled = (current: string | undefined): boolean => {
      if (current === undefined) return true
      const i = LOG_LEVELS.indexOf(current as (typeof LOG_LEVELS)[number])
      return i === -1 || (current !== 'silent' && threshold <= i)
    }
    return {
      onResponse(ex, res) {
        rememberResponseLength(ex, res)
        const cache = res.headers['x-cache'] ?? res.headers['cache-status']
        if (cache !== undefined) ex.set(cacheStatusKey, String(cache))
      },
      onComplete(ex, outcome) {
        if (!enabled(setup.log.level)) return
        const decisions = ex.get(decisionsKey)
        if (sampleRate < 1) {
          const keep =
            (alwaysLogErrors &&
              (outcome.status >= 400 || outcome.aborted || decisions?.some((d) => d.outcome !== 'allow'))) ||
            (sampleRate > 0 && Math.random() < sampleRate)
          if (!keep) return
        }
        const request = ex.request
        const principal = ex.get(principalKey)
        const trace = ex.get(traceContextKey)
        const length = request.headers['content-length']
        const line: AccessLogLine = {
          method: request.method,
          route: ex.route.id,
          path: request.path,
          status: outcome.status,
          durationMs: outcome.durationMs,
          bytesOut: responseBytes(ex, outcome),
          clientIp: request.ip,
        }
        if (config.query && request.search !== '') line.query = redactQuery(request.search, secretParams)
        if (length !== undefined) line.bytesIn = Number(length)
        if (ex.route.upstream !== undefined) line.upstream = ex.route.upstream
        if (principal !== undefined) {
          line.principal = principal.subject
          if (principal.consumer !== undefined) line.consumer = principal.consumer
        }
        const cache = ex.get(cacheStatusKey)
        if (cache !== undefined) line.cache = cache
        const rateLimit = rateLimitOutcome(decisions)
        if (rateLimit !== undefined) line.rateLimit = rateLimit
        if (trace !== undefined) {
          line.traceId = trace.traceId
          line.spanId = trace.spanId
        }
        if (outcome.aborted) line.aborted = true
        if (outcome.error !== undefined) line.error = outcome.error.code
        if (outcome.respondedBy !== undefined) line.respondedBy = outcome.respondedBy
        if (headerNames.length > 0) {
          const headers: Record<string, string | string[]> = {}
          for (const name of headerNames) {
            const value = request.headers[name]
            if (value !== undefined) headers[name] = secretHeaders.has(name) ? REDACTED : value
          }
          line.headers = headers
        }
        if (decisions !== undefined) line.decisions = decisions
        if (redactFields.length > 0) {
          const record = line as unknown as Record<string, unknown>
          for (const field of redactFields) if (record[field] !== undefined) record[field] = REDACTED
        }
        ex.log[level](line, message)
      },
    }
  },
})
