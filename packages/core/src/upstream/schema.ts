import { z } from 'zod'
import { duration } from '../config/duration.js'

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

/**
 * An upstream (service) gw forwards to. This issue supports one target; the shape leaves room for targets
 * with weights, balancers and health checks.
 */
export const upstreamSchema = z
  .object({
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL')
      .describe(
        'Base URL of the target, e.g. http://127.0.0.1:3001 (a path prefix is prepended to forwarded paths).',
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
        'Retries for idempotent requests without a body that failed before any response byte (the seed `backends.*.retries`).',
      ),
    retryBackoff: duration()
      .default(50)
      .describe('Base delay before a retry; doubled each attempt, with jitter.'),
    pool: poolSchema
      .default({
        connections: 128,
        keepAlive: true,
        keepAliveTimeout: 4000,
        keepAliveMaxTimeout: 600_000,
        pipelining: 1,
      })
      .describe('Connection pool per target (undici Pool).'),
    preserveHost: z
      .boolean()
      .default(false)
      .describe(
        'Send the client Host header upstream instead of the target host (X-Forwarded-Host is always set).',
      ),
  })
  .strict()

/** Upstream config as written by users. */
export type UpstreamInput = z.input<typeof upstreamSchema>
/** Upstream config after validation and defaults. */
export type UpstreamConfig = z.output<typeof upstreamSchema>
