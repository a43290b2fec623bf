import { isIP } from 'node:net'
import { z } from 'zod'
import { duration } from './duration.js'

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const
/** Methods a route may list. */
export const httpMethodSchema = z.enum(HTTP_METHODS)
/** Methods a route accepts when it lists none. */
export const DEFAULT_ROUTE_METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]

const cidrSchema = z.string().refine((value) => {
  const [address, bits, extra] = value.split('/')
  if (extra !== undefined || !address) return false
  const family = isIP(address)
  if (family === 0) return false
  if (bits === undefined) return true
  const n = Number(bits)
  return Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128)
}, 'expected an IP address or CIDR block, e.g. 10.0.0.0/8')

/** Listener, limits and operational endpoints of the gateway's HTTP server. */
export const serverSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(3000).describe('Listening port (PORT).'),
    host: z.string().default('0.0.0.0').describe('Listening address.'),
    headersTimeout: duration()
      .default(10_000)
      .describe('Time allowed to receive the complete request headers; -> 408.'),
    requestTimeout: duration()
      .default(30_000)
      .describe('Time allowed to receive the complete request (the seed `server.timeout`); -> 408.'),
    keepAliveTimeout: duration()
      .default(5000)
      .describe('Idle time before a client keep-alive connection is closed.'),
    maxHeaderSize: z
      .number()
      .int()
      .min(1024)
      .max(1_048_576)
      .default(16_384)
      .describe('Maximum size of request headers in bytes; larger -> 431.'),
    maxConnections: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('Maximum concurrent client connections (0: no cap).'),
    maxRequestsPerSocket: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Requests per keep-alive connection (0: no cap).'),
    trustProxy: z
      .array(cidrSchema)
      .default([])
      .describe('Addresses/CIDRs of proxies in front of gw whose X-Forwarded-* headers are trusted.'),
    drainTimeout: duration()
      .default(10_000)
      .describe('On shutdown, how long in-flight requests may take before connections are closed.'),
    healthPath: z.string().startsWith('/').default('/health').describe('Liveness endpoint path.'),
    readyPath: z.string().startsWith('/').default('/ready').describe('Readiness endpoint path.'),
    requestIdHeader: z
      .string()
      .toLowerCase()
      .default('x-request-id')
      .describe('Header carrying the request id in and out.'),
    via: z
      .string()
      .regex(/^[\w.-]+$/)
      .default('gw')
      .describe('Pseudonym used in the Via header.'),
  })
  .strict()

/** Server options as written. */
export type ServerInput = z.input<typeof serverSchema>
/** Server options after defaults. */
export type ServerConfig = z.output<typeof serverSchema>

/** Path rewrite of a route: a regular expression over the (prefix-stripped) path and its replacement. */
export const rewriteSchema = z
  .object({
    pattern: z
      .string()
      .refine((p) => {
        try {
          new RegExp(p)
          return true
        } catch {
          return false
        }
      }, 'invalid regular expression')
      .describe('Regular expression matched against the path (without query).'),
    replacement: z.string().describe('Replacement, with $1..$9 / $<name> captures.'),
  })
  .strict()

/** Everything a route has besides its policies (shared by code and file configs). */
export const routeBaseSchema = z
  .object({
    id: z
      .string()
      .regex(/^[\w.:-]+$/)
      .optional()
      .describe('Stable route id for logs and metrics; default `METHODS path`.'),
    path: z
      .string()
      .startsWith('/')
      .describe(
        "find-my-way pattern: '/users/:id', '/api/users/*' (a trailing /* also matches the bare prefix).",
      ),
    methods: z
      .array(httpMethodSchema)
      .nonempty()
      .optional()
      .describe('Methods served; default all but TRACE.'),
    host: z.string().optional().describe('Only match requests for this Host (without port).'),
    upstream: z.string().optional().describe('Name of the upstream to forward to.'),
    stripPrefix: z
      .string()
      .startsWith('/')
      .optional()
      .describe('Prefix removed from the path before forwarding.'),
    rewrite: rewriteSchema.optional().describe('Regex path rewrite applied after stripPrefix.'),
    split: z
      .array(
        z
          .object({
            upstream: z.string().describe('Upstream name.'),
            weight: z.number().int().min(0).max(10_000).describe('Relative share of requests (0: none).'),
          })
          .strict(),
      )
      .min(1)
      .optional()
      .describe(
        'Weighted traffic split between upstreams (canary), instead of `upstream`; spread with smooth weighted round-robin.',
      ),
    mirror: z
      .object({
        upstream: z.string().describe('Shadow upstream name.'),
        percent: z.number().min(0).max(100).default(100).describe('Share of requests mirrored.'),
      })
      .strict()
      .optional()
      .describe(
        'Copy requests to a shadow upstream, fire-and-forget: its answers are discarded and never delay or fail the client. Requests with a streamed (unbuffered) body are not mirrored.',
      ),
    websocket: z
      .boolean()
      .optional()
      .describe(
        'Proxy `Upgrade: websocket` requests on this route (policies run on the upgrade request). Default true.',
      ),
    retryNonIdempotent: z
      .boolean()
      .optional()
      .describe(
        'Let the upstream retry non-idempotent methods (POST, PATCH) whose body is absent or buffered. Default false.',
      ),
  })
  .strict()

/** Route fields as written. */
export type RouteBaseInput = z.input<typeof routeBaseSchema>
