import { z } from 'zod'

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
