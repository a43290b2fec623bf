import { z } from 'zod'
import { duration } from '../util/duration.js'

/** Connection-pool options of an upstream target (one undici Pool per target). */
export const poolSchema = z
  .object({
    connections: z
      .number()
      .int()
      .positive()
      .default(128)
      .describe('Maximum sockets per target (the seed `connectionPooling.maxSockets`).'),
    keepAlive: z
      .boolean()
      .default(true)
      .describe('Reuse connections (the seed `connectionPooling.keepAlive`).'),
    keepAliveTimeout: duration()
      .default(4000)
      .describe('Idle time before a kept-alive socket is closed, unless the upstream says less.'),
    keepAliveMaxTimeout: duration()
      .default(600_000)
      .describe('Upper bound for keep-alive hints from upstreams.'),
    pipelining: z.number().int().min(1).max(16).default(1).describe('HTTP/1.1 pipelining depth per socket.'),
  })
  .strict()

/** Timeouts of calls to an upstream. */
export const timeoutsSchema = z
  .object({
    connect: duration().default(5000).describe('Time to establish a TCP connection; on expiry -> 504.'),
    headers: duration()
      .default(30_000)
      .describe(
        'Time from sending the request to receiving response headers (the seed `backends.*.timeout`); -> 504.',
      ),
    body: duration()
      .default(30_000)
      .describe('Maximum idle time between response body chunks; on expiry the response is cut off.'),
  })
  .strict()

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL')

/**
 * One target of an upstream: a base URL and its relative weight.
 *
 * @example
 * ```ts
 * targetSchema.parse({ url: 'http://10.0.0.5:3001' }) // { url: 'http://10.0.0.5:3001', weight: 1 }
 * ```
 */
export const targetSchema = z
  .object({
    url: httpUrl.describe('Base URL of the target, e.g. http://10.0.0.5:3001 (a path prefix is prepended).'),
    weight: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(1)
      .describe('Relative share of traffic (weighted balancers, consistent hashing).'),
  })
  .strict()

/**
 * Where a consistent-hash balancer reads its key from.
 *
 * @example
 * ```ts
 * hashKeySchema.parse({ source: 'header', name: 'X-User' }) // { source: 'header', name: 'x-user' }
 * ```
 */
export const hashKeySchema = z.discriminatedUnion('source', [
  z
    .object({
      source: z.literal('header'),
      name: z.string().min(1).toLowerCase().describe('Request header name.'),
    })
    .strict(),
  z.object({ source: z.literal('cookie'), name: z.string().min(1).describe('Cookie name.') }).strict(),
  z.object({ source: z.literal('ip') }).strict(),
  z
    .object({ source: z.literal('param'), name: z.string().min(1).describe('Route parameter name.') })
    .strict(),
])

/**
 * How an upstream spreads requests over its targets. `round-robin` ignores weights; `weighted-round-robin` is
 * nginx's smooth algorithm; `least-connections` picks the fewest in-flight requests (weight-scaled);
 * `p2c-ewma` compares two random targets by peak-EWMA latency times load; `consistent-hash` maps a request
 * key onto a ring (or a Maglev table) so that adding or removing a target moves about 1/N of the keys.
 *
 * @example
 * ```ts
 * balancerSchema.parse({ type: 'p2c-ewma' }) // { type: 'p2c-ewma', decay: 5000 }
 * ```
 */
export const balancerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('round-robin') }).strict(),
  z.object({ type: z.literal('weighted-round-robin') }).strict(),
  z.object({ type: z.literal('least-connections') }).strict(),
  z
    .object({
      type: z.literal('p2c-ewma'),
      decay: duration()
        .default(5000)
        .describe('EWMA time constant: how fast an observed latency fades (peaks count at once).'),
    })
    .strict(),
  z
    .object({
      type: z.literal('consistent-hash'),
      key: hashKeySchema.describe('Request attribute hashed to choose the target.'),
      algorithm: z.enum(['ring', 'maglev']).default('ring').describe('Ketama-style ring or Maglev table.'),
      virtualNodes: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(160)
        .describe('Ring points per unit of weight (ring only).'),
      tableSize: z
        .number()
        .int()
        .min(7)
        .max(5_000_011)
        .default(65_537)
        .refine(isPrime, 'must be a prime number')
        .describe('Maglev lookup table size, a prime well above 100 x the number of targets (maglev only).'),
    })
    .strict(),
])

/**
 * Active HTTP health checks of every target of an upstream.
 *
 * @example
 * ```ts
 * healthCheckSchema.parse({ path: '/healthz', interval: '5s' }).unhealthyThreshold // 3
 * ```
 */
export const healthCheckSchema = z
  .object({
    path: z.string().startsWith('/').default('/health').describe('Path probed on each target.'),
    method: z.enum(['GET', 'HEAD']).default('GET').describe('Probe method.'),
    interval: duration().default(10_000).describe('Time between probes of one target.'),
    timeout: duration().default(2000).describe('A probe that takes longer counts as a failure.'),
    healthyThreshold: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe('Consecutive passing probes that bring an unhealthy target back.'),
    unhealthyThreshold: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Consecutive failing probes that take a target out of rotation.'),
    expectedStatuses: z
      .array(z.number().int().min(100).max(599))
      .nonempty()
      .optional()
      .describe('Statuses that pass; default any 2xx or 3xx.'),
  })
  .strict()

/**
 * Passive outlier detection: targets that fail in a row are ejected for a growing period.
 *
 * @example
 * ```ts
 * outlierDetectionSchema.parse({ consecutiveFailures: 3 }).baseEjectionTime // 30000
 * ```
 */
export const outlierDetectionSchema = z
  .object({
    consecutiveFailures: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe('Consecutive connect errors, resets, timeouts or 5xx responses that eject a target.'),
    baseEjectionTime: duration()
      .default(30_000)
      .describe('Ejection period; multiplied by the number of recent ejections of the target.'),
    maxEjectionTime: duration().default(300_000).describe('Upper bound of one ejection period.'),
    maxEjectionPercent: z
      .number()
      .min(0)
      .max(100)
      .default(50)
      .describe('Share of targets that may be ejected at once (at least one, never all).'),
  })
  .strict()

/**
 * Upstream-wide circuit breaker over a rolling window of outcomes.
 *
 * @example
 * ```ts
 * circuitBreakerSchema.parse({ openDuration: '10s' }).openDuration // 10000
 * ```
 */
export const circuitBreakerSchema = z
  .object({
    failureRate: z
      .number()
      .gt(0)
      .max(1)
      .default(0.5)
      .describe('Share of failed calls (transport errors, 5xx) in the window that opens the breaker.'),
    minimumRequests: z
      .number()
      .int()
      .min(1)
      .default(20)
      .describe('Calls needed in the window before the failure rate is judged.'),
    window: duration().default(10_000).describe('Rolling window length (ten buckets).'),
    openDuration: duration()
      .default(30_000)
      .describe('Time the breaker stays open (503 at once) before half-open probes.'),
    halfOpenRequests: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Probe calls allowed while half-open; all must succeed to close.'),
  })
  .strict()

/**
 * Retry conditions: transport failures by kind, or response statuses.
 *
 * @example
 * ```ts
 * retryOnSchema.parse('reset') // 'reset'
 * retryOnSchema.parse(503) // 503
 * ```
 */
export const retryOnSchema = z.union([
  z.enum(['connect-failure', 'reset', 'timeout']),
  z.number().int().min(500).max(599),
])

/**
 * Retry policy of an upstream; `retries` / `retryBackoff` remain as shorthands.
 *
 * @example
 * ```ts
 * retrySchema.parse({ attempts: 2, perTryTimeout: '1s' }).budget // { ratio: 0.2, minPerSecond: 10 }
 * ```
 */
export const retrySchema = z
  .object({
    attempts: z
      .number()
      .int()
      .min(0)
      .max(10)
      .optional()
      .describe('Retries after the first try (default: `retries`).'),
    perTryTimeout: duration()
      .default(0)
      .describe('Time limit of each try until response headers; -> 504, retried on `timeout` (0: none).'),
    retryOn: z
      .array(retryOnSchema)
      .default(['connect-failure', 'reset', 502, 503, 504])
      .describe("What is retried: 'connect-failure', 'reset', 'timeout' and/or 5xx statuses."),
    backoff: duration()
      .optional()
      .describe('Base backoff delay (default: `retryBackoff`), doubled per retry, jittered.'),
    maxBackoff: duration().default(10_000).describe('Upper bound of one backoff delay.'),
    budget: z
      .object({
        ratio: z
          .number()
          .min(0)
          .max(1)
          .default(0.2)
          .describe('Retries allowed as a share of requests over the last 10 s.'),
        minPerSecond: z
          .number()
          .min(0)
          .default(10)
          .describe('Retries per second always allowed, on top of the ratio.'),
      })
      .strict()
      .prefault({})
      .describe('Retry budget: caps retries so they cannot amplify an outage.'),
  })
  .strict()

/**
 * DNS re-resolution of targets given by hostname.
 *
 * @example
 * ```ts
 * dnsSchema.parse({ refresh: '10s' }) // { refresh: 10000, family: 0 }
 * ```
 */
export const dnsSchema = z
  .object({
    refresh: duration().default(30_000).describe('Interval between resolutions (A and AAAA).'),
    family: z
      .union([z.literal(0), z.literal(4), z.literal(6)])
      .default(0)
      .describe('4, 6, or 0 for both.'),
  })
  .strict()

/**
 * TLS towards the targets of an `https://` upstream: trusted CAs, the SNI / verified name, and a client
 * certificate for mTLS. Files are read once at start-up. Verification is on unless `rejectUnauthorized: false`.
 *
 * @example
 * ```ts
 * upstreamTlsSchema.parse({ ca: '/etc/gw/internal-ca.pem', servername: 'users.internal' })
 * ```
 */
export const upstreamTlsSchema = z
  .object({
    ca: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Path of CA certificates (PEM) trusted for the targets' certificates, instead of the system store.",
      ),
    servername: z
      .string()
      .min(1)
      .optional()
      .describe(
        'SNI name sent and name verified in the certificate (default the target host, none for IPs; a Host header sent upstream by `preserveHost` or `dns` takes its place).',
      ),
    rejectUnauthorized: z
      .boolean()
      .default(true)
      .describe('Verify the target certificate; false accepts any certificate (testing only).'),
    cert: z
      .string()
      .min(1)
      .optional()
      .describe('Path of a client certificate (PEM) presented to the targets (mTLS).'),
    key: z.string().min(1).optional().describe('Path of the private key (PEM) of `cert`.'),
    passphrase: z.string().optional().describe('Passphrase of an encrypted `key`.'),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Lowest TLS version offered.'),
  })
  .strict()
  .superRefine((value, ctx) => {
    if ((value.cert === undefined) !== (value.key === undefined))
      ctx.addIssue({
        code: 'custom',
        path: value.cert === undefined ? ['cert'] : ['key'],
        message: 'a client certificate needs both `cert` and `key`',
        input: value,
      })
  })

/**
 * An upstream (service) gw forwards to: one target (`url`) or several (`targets`), a balancer, health checks,
 * outlier detection, a circuit breaker, a concurrency cap and retries.
 *
 * @example
 * ```ts
 * upstreamSchema.parse({ targets: [{ url: 'http://10.0.0.5:3001' }, { url: 'http://10.0.0.6:3001' }], retries: 2 })
 * ```
 */
export const upstreamSchema = z
  .object({
    url: httpUrl
      .optional()
      .describe(
        'Base URL of the target (single-target shorthand), e.g. http://127.0.0.1:3001 (a path prefix is prepended to forwarded paths). Exactly one of `url` and `targets`.',
      ),
    targets: z
      .array(targetSchema)
      .nonempty()
      .optional()
      .describe('Several targets with weights. Exactly one of `url` and `targets`.'),
    balancer: balancerSchema
      .default({ type: 'round-robin' })
      .describe(
        "Load balancer: { type: 'round-robin' | 'weighted-round-robin' | 'least-connections' | 'p2c-ewma' | 'consistent-hash' }.",
      ),
    timeouts: timeoutsSchema
      .default({ connect: 5000, headers: 30_000, body: 30_000 })
      .describe('Connect, response-headers and body-idle timeouts.'),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe(
        'Retries for idempotent requests that failed before any response byte (the seed `backends.*.retries`); shorthand of `retry.attempts`.',
      ),
    retryBackoff: duration()
      .default(50)
      .describe(
        'Base delay before a retry; doubled each attempt, with jitter. Shorthand of `retry.backoff`.',
      ),
    retry: retrySchema.prefault({}).describe('Retry conditions, per-try timeout and retry budget.'),
    maxPending: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('Concurrent requests to this upstream; more -> 503 with Retry-After (0: no cap).'),
    healthCheck: healthCheckSchema.optional().describe('Active HTTP health checks (off unless set).'),
    outlierDetection: outlierDetectionSchema
      .optional()
      .describe('Passive ejection of failing targets (off unless set).'),
    circuitBreaker: circuitBreakerSchema
      .optional()
      .describe('Failure-rate circuit breaker (off unless set).'),
    dns: dnsSchema
      .optional()
      .describe(
        'Re-resolve hostname targets on an interval; each address becomes a target (off unless set).',
      ),
    pool: poolSchema
      .default({
        connections: 128,
        keepAlive: true,
        keepAliveTimeout: 4000,
        keepAliveMaxTimeout: 600_000,
        pipelining: 1,
      })
      .describe('Connection pool per target (undici Pool).'),
    tls: upstreamTlsSchema
      .optional()
      .describe('TLS options for `https://` targets: CA, SNI name, verification, client certificate.'),
    preserveHost: z
      .boolean()
      .default(false)
      .describe(
        'Send the client Host header upstream instead of the target host (X-Forwarded-Host is always set).',
      ),
  })
  .strict()
  .superRefine((value, ctx) => {
    if ((value.url === undefined) === (value.targets === undefined))
      ctx.addIssue({
        code: 'custom',
        path: value.url === undefined ? ['url'] : ['targets'],
        message: 'exactly one of `url` and `targets` is required',
        input: value,
      })
  })

function isPrime(n: number): boolean {
  if (n < 2) return false
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false
  return true
}

type UpstreamSchemaInput = z.input<typeof upstreamSchema>
/**
 * Upstream config as written by users, single-target form (`url`). Kept as the narrow, original shape so that
 * code reading `config.url` keeps compiling; {@link AnyUpstreamInput} also admits `targets`.
 */
export type UpstreamInput = Omit<UpstreamSchemaInput, 'url' | 'targets'> & {
  url: string
  targets?: undefined
}
/** Upstream config as written by users, several-targets form (`targets`). */
export type MultiTargetUpstreamInput = Omit<UpstreamSchemaInput, 'url' | 'targets'> & {
  url?: undefined
  targets: NonNullable<UpstreamSchemaInput['targets']>
}
/** Upstream config as written by users: one `url` or several `targets`. */
export type AnyUpstreamInput = UpstreamInput | MultiTargetUpstreamInput
/** Upstream config after validation and defaults. */
export type UpstreamConfig = z.output<typeof upstreamSchema>
/** Balancer config after defaults. */
export type BalancerConfig = z.output<typeof balancerSchema>
/** Consistent-hash key source. */
export type HashKeyConfig = z.output<typeof hashKeySchema>
/** Health-check config after defaults. */
export type HealthCheckConfig = z.output<typeof healthCheckSchema>
/** Outlier-detection config after defaults. */
export type OutlierDetectionConfig = z.output<typeof outlierDetectionSchema>
/** Circuit-breaker config after defaults. */
export type CircuitBreakerConfig = z.output<typeof circuitBreakerSchema>
/** Upstream TLS config after defaults. */
export type UpstreamTlsConfig = z.output<typeof upstreamTlsSchema>
/** Retry config after defaults. */
export type RetryConfig = z.output<typeof retrySchema>
/** A retry condition. */
export type RetryOn = z.output<typeof retryOnSchema>
