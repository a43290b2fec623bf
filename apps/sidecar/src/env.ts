import { isIP } from 'node:net'
import { JWS_ALGORITHMS } from '@gw/auth'
import { LOG_LEVELS, z } from '@gw/core'

/** The environment the sidecar reads (a `process.env` fits). */
export type Env = Readonly<Record<string, string | undefined>>

const SHA256_HEX = /^[0-9a-f]{64}$/

/** Unset and blank variables are alike: both take the default. */
const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === ''
    ? undefined
    : typeof value === 'string'
      ? value.trim()
      : value

const text = (fallback?: string) =>
  z.preprocess(
    blankToUndefined,
    fallback === undefined ? z.string().optional() : z.string().default(fallback),
  )

const integer = (fallback: number, min: number, max: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(min).max(max))
      .default(fallback),
  )

const flag = (fallback: boolean) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^(true|false)$/i, "must be 'true' or 'false'")
      .transform((v) => v.toLowerCase() === 'true')
      .default(fallback),
  )

const list = z.preprocess(
  blankToUndefined,
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    )
    .optional(),
)

const httpUrl = z.preprocess(
  blankToUndefined,
  z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
)

/**
 * One API key entry of `API_KEY_HASHES`: `<consumer>:<sha256 hex>` or a bare hash (consumer `default`).
 *
 * @example
 * ```ts
 * parseApiKeyEntry('billing:02f3...27') // { consumer: 'billing', sha256: '02f3...27' }
 * ```
 */
export function parseApiKeyEntry(entry: string): { consumer: string; sha256: string } | undefined {
  const at = entry.lastIndexOf(':')
  const consumer = at === -1 ? 'default' : entry.slice(0, at)
  const sha256 = (at === -1 ? entry : entry.slice(at + 1)).toLowerCase()
  if (consumer === '' || !SHA256_HEX.test(sha256)) return undefined
  return { consumer, sha256 }
}

/**
 * Every environment variable the sidecar reads, with its default and meaning. The README's table and the
 * Kubernetes manifest test are checked against this list.
 *
 * @example
 * ```ts
 * SIDECAR_ENV_VARS.SERVICE_URL.default // 'http://127.0.0.1:8080'
 * ```
 */
export const SIDECAR_ENV_VARS = {
  SERVICE_URL: {
    default: 'http://127.0.0.1:8080',
    meaning: 'Base URL of the one service beside the sidecar.',
  },
  SERVICE_NAME: { default: 'service', meaning: 'Name of the upstream and route (metric labels, logs).' },
  PORT: { default: '8000', meaning: 'Port the sidecar listens on (0: any free port).' },
  HOST: { default: '0.0.0.0', meaning: 'Address the sidecar binds to.' },
  LOG_LEVEL: { default: 'info', meaning: 'pino level; access-log lines are info.' },
  AUTH: {
    default: 'inferred',
    meaning: "'jwt', 'api-key' or 'none'; unset: jwt with JWT_SECRET/JWKS_URL, api-key with API_KEY_HASHES.",
  },
  JWT_SECRET: { default: 'unset', meaning: 'HS256/384/512 secret (at least 32 bytes).' },
  JWKS_URL: { default: 'unset', meaning: 'URL of a JSON Web Key Set (asymmetric tokens).' },
  JWT_ISSUER: { default: 'unset', meaning: 'Required iss (comma-separated for several).' },
  JWT_AUDIENCE: { default: 'unset', meaning: 'Required aud (comma-separated for several).' },
  JWT_ALGORITHMS: { default: 'HS256 / RS256,ES256', meaning: 'Allowed algorithms, comma-separated.' },
  API_KEY_HASHES: {
    default: 'unset',
    meaning: 'Comma-separated SHA-256 hex hashes of accepted keys, each optionally `consumer:hash`.',
  },
  API_KEY_HEADER: { default: 'x-api-key', meaning: 'Header carrying the API key.' },
  RATE_LIMIT_ENABLED: { default: 'true', meaning: 'false turns the local rate limit off.' },
  RATE_LIMIT_MAX_REQUESTS: { default: '1000', meaning: 'Requests per window per key.' },
  RATE_LIMIT_WINDOW_MS: { default: '60000', meaning: 'Window of the rate limit, in milliseconds.' },
  RATE_LIMIT_KEY: { default: 'ip', meaning: "'ip', 'principal' (needs AUTH) or 'global'." },
  RETRIES: { default: '2', meaning: 'Retries of idempotent requests on connect failure or reset.' },
  RETRY_BACKOFF_MS: { default: '25', meaning: 'Base delay before a retry (doubled, jittered).' },
  CONNECT_TIMEOUT_MS: { default: '1000', meaning: 'Time to connect to the service (-> 504).' },
  UPSTREAM_TIMEOUT_MS: { default: '30000', meaning: 'Time until the service sends headers (-> 504).' },
  REQUEST_TIMEOUT_MS: { default: '30000', meaning: 'Time to receive the whole client request (-> 408).' },
  DRAIN_TIMEOUT_MS: { default: '10000', meaning: 'Shutdown: time in-flight requests may take.' },
  TRUST_PROXY: { default: 'unset', meaning: 'CIDRs of proxies whose X-Forwarded-For is trusted.' },
  TRUST_INCOMING_TRACE: { default: 'true', meaning: 'Continue the caller traceparent (false: new trace).' },
  METRICS_ENABLED: { default: 'true', meaning: 'false: no metrics listener, nothing recorded.' },
  PROMETHEUS_PORT: { default: '9090', meaning: 'Port of the separate /metrics listener (0: any).' },
} as const

/** Names of the variables in {@link SIDECAR_ENV_VARS}. */
export type SidecarEnvVar = keyof typeof SIDECAR_ENV_VARS

const envSchema = z
  .object({
    SERVICE_URL: httpUrl.default(SIDECAR_ENV_VARS.SERVICE_URL.default),
    SERVICE_NAME: z.preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes')
        .default('service'),
    ),
    PORT: integer(8000, 0, 65535),
    HOST: text('0.0.0.0'),
    LOG_LEVEL: z.preprocess(
      (v) =>
        typeof blankToUndefined(v) === 'string' ? String(blankToUndefined(v)).toLowerCase() : undefined,
      z.enum(LOG_LEVELS).default('info'),
    ),
    AUTH: z.preprocess(blankToUndefined, z.enum(['jwt', 'api-key', 'none']).optional()),
    JWT_SECRET: z.preprocess(
      blankToUndefined,
      z.string().min(32, 'must be at least 32 bytes (RFC 7518 §3.2)').optional(),
    ),
    JWKS_URL: httpUrl.optional(),
    JWT_ISSUER: list,
    JWT_AUDIENCE: list,
    JWT_ALGORITHMS: z.preprocess(
      blankToUndefined,
      z
        .string()
        .transform((v) => v.split(',').map((a) => a.trim()))
        .pipe(z.array(z.enum(JWS_ALGORITHMS)).nonempty())
        .optional(),
    ),
    API_KEY_HASHES: list,
    API_KEY_HEADER: z.preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/i, 'must be a header name')
        .transform((v) => v.toLowerCase())
        .default('x-api-key'),
    ),
    RATE_LIMIT_ENABLED: flag(true),
    RATE_LIMIT_MAX_REQUESTS: integer(1000, 1, 1_000_000_000),
    RATE_LIMIT_WINDOW_MS: integer(60_000, 1, 31 * 86_400_000),
    RATE_LIMIT_KEY: z.preprocess(blankToUndefined, z.enum(['ip', 'principal', 'global']).default('ip')),
    RETRIES: integer(2, 0, 10),
    RETRY_BACKOFF_MS: integer(25, 0, 10_000),
    CONNECT_TIMEOUT_MS: integer(1000, 1, 600_000),
    UPSTREAM_TIMEOUT_MS: integer(30_000, 1, 3_600_000),
    REQUEST_TIMEOUT_MS: integer(30_000, 1, 3_600_000),
    DRAIN_TIMEOUT_MS: integer(10_000, 0, 3_600_000),
    TRUST_PROXY: list.superRefine((cidrs, ctx) => {
      for (const cidr of cidrs ?? []) {
        if (!isCidr(cidr))
          ctx.addIssue({ code: 'custom', message: `'${cidr}' is not an IP address or CIDR block` })
      }
    }),
    TRUST_INCOMING_TRACE: flag(true),
    METRICS_ENABLED: flag(true),
    PROMETHEUS_PORT: integer(9090, 0, 65535),
  })
  .superRefine((env, ctx) => {
    const issue = (path: string, message: string): void => {
      ctx.addIssue({ code: 'custom', path: [path], message })
    }
    const jwtSources = [env.JWT_SECRET, env.JWKS_URL].filter((v) => v !== undefined).length
    const auth = env.AUTH ?? inferAuth(env)
    if (auth === undefined) {
      issue(
        'AUTH',
        'no inbound authentication configured: set JWT_SECRET, JWKS_URL or API_KEY_HASHES, or AUTH=none for mesh-internal traffic',
      )
    }
    if (auth === 'jwt' && jwtSources !== 1) {
      issue(
        jwtSources === 0 ? 'JWT_SECRET' : 'JWKS_URL',
        jwtSources === 0
          ? 'AUTH=jwt needs JWT_SECRET or JWKS_URL'
          : 'set only one of JWT_SECRET and JWKS_URL',
      )
    }
    if (auth === 'api-key' && (env.API_KEY_HASHES ?? []).length === 0) {
      issue('API_KEY_HASHES', 'AUTH=api-key needs at least one SHA-256 key hash')
    }
    if (env.AUTH === undefined && jwtSources > 0 && env.API_KEY_HASHES !== undefined) {
      issue('AUTH', 'both JWT and API key variables are set: choose with AUTH=jwt or AUTH=api-key')
    }
    for (const [i, entry] of (env.API_KEY_HASHES ?? []).entries()) {
      if (parseApiKeyEntry(entry) === undefined) {
        issue(
          'API_KEY_HASHES',
          `entry ${i + 1} is not a SHA-256 hex hash (64 hex digits, optionally consumer:hash)`,
        )
      }
    }
    if (env.JWT_ALGORITHMS !== undefined && env.JWT_SECRET !== undefined) {
      if (env.JWT_ALGORITHMS.some((a) => !a.startsWith('HS'))) {
        issue('JWT_ALGORITHMS', 'JWT_SECRET only verifies HS256, HS384 or HS512')
      }
    }
    if (env.JWT_ALGORITHMS !== undefined && env.JWKS_URL !== undefined) {
      if (env.JWT_ALGORITHMS.some((a) => a.startsWith('HS'))) {
        issue('JWT_ALGORITHMS', 'JWKS_URL keys are asymmetric: HS* algorithms are not allowed')
      }
    }
    if (auth === 'none' && env.RATE_LIMIT_KEY === 'principal') {
      issue('RATE_LIMIT_KEY', "'principal' needs inbound authentication (AUTH is none)")
    }
    if (env.PROMETHEUS_PORT !== 0 && env.METRICS_ENABLED && env.PROMETHEUS_PORT === env.PORT) {
      issue('PROMETHEUS_PORT', 'must differ from PORT (metrics have their own listener)')
    }
  })

function isCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/')
  if (extra !== undefined || address === undefined) return false
  const family = isIP(address)
  if (family === 0) return false
  if (bits === undefined) return true
  const n = Number(bits)
  return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128)
}

function inferAuth(env: {
  JWT_SECRET?: string | undefined
  JWKS_URL?: string | undefined
  API_KEY_HASHES?: string[] | undefined
}): 'jwt' | 'api-key' | undefined {
  if (env.JWT_SECRET !== undefined || env.JWKS_URL !== undefined) return 'jwt'
  if (env.API_KEY_HASHES !== undefined) return 'api-key'
  return undefined
}

/** The sidecar's settings, validated from the environment. */
export interface SidecarConfig {
  serviceUrl: string
  serviceName: string
  port: number
  host: string
  logLevel: (typeof LOG_LEVELS)[number]
  auth:
    | { type: 'none' }
    | { type: 'api-key'; header: string; consumers: { id: string; keys: string[] }[] }
    | {
        type: 'jwt'
        secret?: string
        jwksUri?: string
        algorithms: [(typeof JWS_ALGORITHMS)[number], ...(typeof JWS_ALGORITHMS)[number][]]
        issuer?: string[]
        audience?: string[]
      }
  apiKeyHeader: string
  rateLimit: { enabled: boolean; limit: number; windowMs: number; key: 'ip' | 'principal' | 'global' }
  retries: number
  retryBackoffMs: number
  connectTimeoutMs: number
  upstreamTimeoutMs: number
  requestTimeoutMs: number
  drainTimeoutMs: number
  trustProxy: string[]
  trustIncomingTrace: boolean
  metrics: { enabled: boolean; port: number }
}

/**
 * Why the sidecar refuses to start: one line per problem, each naming the variable.
 *
 * @example
 * ```ts
 * try { parseSidecarEnv({ PORT: 'x' }) } catch (e) { if (e instanceof SidecarEnvError) console.error(e.message) }
 * ```
 */
export class SidecarEnvError extends Error {
  override readonly name = 'SidecarEnvError'
  /** Each problem: the variable and what is wrong with it. */
  readonly problems: readonly { variable: string; message: string }[]

  constructor(problems: readonly { variable: string; message: string }[]) {
    super(`invalid environment:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`)
    this.problems = problems
  }
}

/**
 * Validates the environment and returns the sidecar's settings; throws {@link SidecarEnvError} naming each bad
 * variable.
 *
 * @example
 * ```ts
 * const config = parseSidecarEnv({ SERVICE_URL: 'http://127.0.0.1:3001', AUTH: 'none' })
 * config.port // 8000
 * ```
 */
export function parseSidecarEnv(env: Env): SidecarConfig {
  const input = Object.fromEntries(Object.keys(SIDECAR_ENV_VARS).map((name) => [name, env[name]]))
  const result = envSchema.safeParse(input)
  if (!result.success) {
    throw new SidecarEnvError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? 'environment'),
        message:
          issue.code === 'invalid_value' && 'values' in issue
            ? `must be one of ${(issue.values as unknown[]).join(', ')} (got '${String(input[String(issue.path[0])])}')`
            : issue.message,
      })),
    )
  }
  const e = result.data
  const authType = e.AUTH ?? inferAuth(e) ?? 'none'
  let auth: SidecarConfig['auth']
  if (authType === 'jwt') {
    const algorithms = e.JWT_ALGORITHMS ?? (e.JWT_SECRET === undefined ? ['RS256', 'ES256'] : ['HS256'])
    auth = {
      type: 'jwt',
      algorithms: algorithms as [(typeof JWS_ALGORITHMS)[number], ...(typeof JWS_ALGORITHMS)[number][]],
      ...(e.JWT_SECRET === undefined ? {} : { secret: e.JWT_SECRET }),
      ...(e.JWKS_URL === undefined ? {} : { jwksUri: e.JWKS_URL }),
      ...(e.JWT_ISSUER === undefined ? {} : { issuer: e.JWT_ISSUER }),
      ...(e.JWT_AUDIENCE === undefined ? {} : { audience: e.JWT_AUDIENCE }),
    }
  } else if (authType === 'api-key') {
    const byConsumer = new Map<string, string[]>()
    for (const entry of e.API_KEY_HASHES ?? []) {
      const parsed = parseApiKeyEntry(entry)
      if (parsed === undefined) continue
      byConsumer.set(parsed.consumer, [...(byConsumer.get(parsed.consumer) ?? []), parsed.sha256])
    }
    auth = {
      type: 'api-key',
      header: e.API_KEY_HEADER,
      consumers: [...byConsumer].map(([id, keys]) => ({ id, keys })),
    }
  } else {
    auth = { type: 'none' }
  }
  return {
    serviceUrl: e.SERVICE_URL,
    serviceName: e.SERVICE_NAME,
    port: e.PORT,
    host: e.HOST ?? '0.0.0.0',
    logLevel: e.LOG_LEVEL,
    auth,
    apiKeyHeader: e.API_KEY_HEADER,
    rateLimit: {
      enabled: e.RATE_LIMIT_ENABLED,
      limit: e.RATE_LIMIT_MAX_REQUESTS,
      windowMs: e.RATE_LIMIT_WINDOW_MS,
      key: e.RATE_LIMIT_KEY,
    },
    retries: e.RETRIES,
    retryBackoffMs: e.RETRY_BACKOFF_MS,
    connectTimeoutMs: e.CONNECT_TIMEOUT_MS,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    trustProxy: e.TRUST_PROXY ?? [],
    trustIncomingTrace: e.TRUST_INCOMING_TRACE,
    metrics: { enabled: e.METRICS_ENABLED, port: e.PROMETHEUS_PORT },
  }
}
