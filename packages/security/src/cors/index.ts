import { coreErrors, definePolicy, type Logger, respond } from '@gw/core'
import { securityErrors } from '../errors.js'
import { appendVary } from '../shared/vary.js'
import { type CorsOptions, corsSchema, type OriginPredicate } from './schema.js'

export { type CorsInput, type CorsOptions, corsSchema, type OriginPredicate } from './schema.js'

/** A compiled origin rule set. */
export interface OriginMatcher {
  /** `*` was configured. */
  readonly wildcard: boolean
  /** Whether a serialized origin (or `null`) is allowed. */
  matches(origin: string): boolean
}

const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST'])
const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers'
const UPSTREAM_CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-max-age',
]

/**
 * Compiles configured origins once: exact origins are normalised to their serialization (`new URL().origin`,
 * so `https://Example.COM:443/` becomes `https://example.com`) and compared as exact strings; `null` only
 * matches when listed; regular expressions must match the whole origin.
 *
 * @example
 * ```ts
 * const m = compileOrigins(['https://app.example.com', /^https:\/\/[a-z]+\.example\.org$/])
 * m.matches('https://app.example.com') // true
 * m.matches('https://app.example.com.evil.io') // false
 * ```
 */
export function compileOrigins(origins: CorsOptions['origins'], log?: Logger): OriginMatcher {
  if (typeof origins === 'function') {
    const predicate: OriginPredicate = origins
    return { wildcard: false, matches: (origin) => predicate(origin) === true }
  }
  const exact = new Set<string>()
  const patterns: RegExp[] = []
  let wildcard = false
  let allowNull = false
  for (const entry of origins) {
    if (entry instanceof RegExp) {
      patterns.push(wholeMatch(entry, log))
      continue
    }
    if (entry === '*') wildcard = true
    else if (entry === 'null') allowNull = true
    else if (entry.startsWith('/') && entry.lastIndexOf('/') > 0) {
      const end = entry.lastIndexOf('/')
      let regex: RegExp
      try {
        regex = new RegExp(entry.slice(1, end), entry.slice(end + 1))
      } catch (error) {
        throw coreErrors.config.create(`cors: invalid origin pattern ${entry}`, { cause: error })
      }
      patterns.push(wholeMatch(regex, log))
    } else exact.add(serializeOrigin(entry))
  }
  return {
    wildcard,
    matches(origin) {
      if (origin === 'null') return allowNull
      if (wildcard || exact.has(origin)) return true
      for (let i = 0; i < patterns.length; i++) if (patterns[i]!.test(origin)) return true
      return false
    },
  }
}

function wholeMatch(regex: RegExp, log: Logger | undefined): RegExp {
  const source = regex.source
  if (!source.startsWith('^') || !source.endsWith('$'))
    log?.warn(
      { pattern: String(regex) },
      'cors: origin pattern is not anchored with ^...$; it is applied to the whole origin anyway',
    )
  return new RegExp(`^(?:${source})$`, regex.flags.replace(/[gy]/g, ''))
}

function serializeOrigin(entry: string): string {
  let url: URL
  try {
    url = new URL(entry)
  } catch (error) {
    throw coreErrors.config.create(`cors: '${entry}' is not an origin (scheme://host[:port])`, {
      cause: error,
    })
  }
  if (
    url.origin === 'null' ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  )
    throw coreErrors.config.create(
      `cors: '${entry}' is not an origin (scheme://host[:port], nothing after it)`,
    )
  return url.origin
}

/**
 * CORS by the Fetch standard. Preflights (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) are
 * answered locally: 204 with the allowed values, or 403 problem+json when the origin, method or headers are not
 * allowed. Other responses, including the gateway's own errors (401, 404, 429, ...), get
 * `Access-Control-Allow-Origin` (the exact request origin, or `*` when any origin is allowed without
 * credentials), credentials and exposed headers for allowed origins, nothing for others, and `Vary: Origin`
 * whenever the answer depends on the origin. Upstream CORS headers are replaced. Put it at gateway level so
 * that preflights to routes without OPTIONS reach it.
 *
 * @example
 * ```ts
 * createGateway({
 *   policies: [cors({ origins: ['https://app.example.com'], credentials: true, exposedHeaders: ['x-request-id'] })],
 *   routes: [{ path: '/api/*', upstream: 'api' }],
 * })
 * ```
 */
export const cors = definePolicy({
  name: 'cors',
  stage: 'observe',
  description:
    'Cross-Origin Resource Sharing (Fetch standard): preflights answered locally, headers on every response.',
  schema: corsSchema,
  create(options, setup) {
    const matcher = compileOrigins(options.origins, setup.log)
    const credentials = options.credentials
    if (matcher.wildcard && credentials)
      setup.log.warn(
        {},
        'cors: origins "*" with credentials reflects every origin with credentials allowed; list the origins instead',
      )
    const allowNullWithWildcard = matcher.wildcard && matcher.matches('null')
    const staticStar = matcher.wildcard && !credentials && allowNullWithWildcard
    const starForOthers = matcher.wildcard && !credentials
    const allowedMethods = new Set(options.methods)
    const anyMethod = !credentials && allowedMethods.has('*')
    const allowedHeaders = new Set(options.allowedHeaders.map((h) => h.toLowerCase()))
    const anyHeader = !credentials && allowedHeaders.has('*')
    const allowMethodsValue = options.methods.join(', ')
    const allowHeadersValue = options.allowedHeaders.join(', ')
    const exposeValue = options.exposedHeaders.length > 0 ? options.exposedHeaders.join(', ') : undefined
    const maxAgeValue = String(options.maxAge)
    const preflightStatus = options.preflightStatus

    const reject = (reason: string, detail: string): never => {
      throw securityErrors.corsRejected.create(detail, {
        headers: { vary: PREFLIGHT_VARY },
        decision: { rule: 'preflight', reason },
      })
    }

    return {
      onRequest(ex) {
        const headers = ex.request.headers
        const origin = headers.origin
        const requestedMethod = headers['access-control-request-method']
        if (ex.request.method !== 'OPTIONS' || origin === undefined || requestedMethod === undefined) return
        if (!matcher.matches(origin)) reject('origin-not-allowed', `Origin ${origin} is not allowed`)
        if (!anyMethod && !allowedMethods.has(requestedMethod) && !SAFELISTED_METHODS.has(requestedMethod))
          reject('method-not-allowed', `Method ${requestedMethod} is not allowed for cross-origin requests`)
        const requestedHeaders = headers['access-control-request-headers']
        if (requestedHeaders !== undefined && requestedHeaders !== '') {
          for (const raw of requestedHeaders.split(',')) {
            const name = raw.trim().toLowerCase()
            if (name === '') continue
            if (allowedHeaders.has(name)) continue
            if (anyHeader && name !== 'authorization') continue
            reject('header-not-allowed', `Request header ${name} is not allowed for cross-origin requests`)
          }
        }
        const out: Record<string, string> = {
          'access-control-allow-origin': starForOthers && origin !== 'null' ? '*' : origin,
          'access-control-allow-methods': allowMethodsValue,
          'access-control-max-age': maxAgeValue,
          vary: PREFLIGHT_VARY,
        }
        if (allowHeadersValue !== '') out['access-control-allow-headers'] = allowHeadersValue
        if (credentials) out['access-control-allow-credentials'] = 'true'
        if (staticStar) out['access-control-allow-origin'] = '*'
        return respond(preflightStatus, undefined, out)
      },
      onResponse(ex, res) {
        const target = res.headers
        for (let i = 0; i < UPSTREAM_CORS_HEADERS.length; i++) {
          const name = UPSTREAM_CORS_HEADERS[i]!
          if (target[name] !== undefined) delete target[name]
        }
        const origin = ex.request.headers.origin
        if (staticStar) {
          target['access-control-allow-origin'] = '*'
          if (exposeValue !== undefined) target['access-control-expose-headers'] = exposeValue
          return
        }
        appendVary(target, 'Origin')
        if (origin === undefined || !matcher.matches(origin)) return
        target['access-control-allow-origin'] = starForOthers && origin !== 'null' ? '*' : origin
        if (credentials) target['access-control-allow-credentials'] = 'true'
        if (exposeValue !== undefined) target['access-control-expose-headers'] = exposeValue
      },
    }
  },
})
