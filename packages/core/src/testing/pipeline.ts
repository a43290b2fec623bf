import type { Readable } from 'node:stream'
import type { Clock } from '../clock.js'
import type { Exchange } from '../exchange/exchange.js'
import { type Logger, noopLogger } from '../logger.js'
import {
  type CompiledChain,
  instantiatePolicies,
  type PolicyInstance,
  validateChainOrder,
} from '../policy/chain.js'
import { localResponse } from '../policy/define-policy.js'
import { buildOutcome, completeExchange, runExchange } from '../policy/runner.js'
import type { GwResponse, MaybePromise, Outcome, PolicyEntry, Resources } from '../policy/types.js'
import { noopTelemetry, type Telemetry } from '../telemetry.js'
import { createUpstreamDirectory } from '../upstream/directory.js'
import type { Upstream } from '../upstream/types.js'
import { createManualClock } from './clock.js'
import { createTestExchange, type TestRequest } from './exchange.js'

/** A fake upstream for in-process pipelines: a function, or a fixed response. */
export type TestUpstream =
  | ((ex: Exchange) => MaybePromise<GwResponse>)
  | { status: number; headers?: GwResponse['headers']; body?: unknown }

/** Options of {@link createTestPipeline} and {@link runPipeline}. */
export interface TestPipelineOptions {
  /** What the terminal answers; default 200 `{"ok":true}`. */
  upstream?: TestUpstream
  clock?: Clock
  log?: Logger
  telemetry?: Telemetry
  resources?: Partial<Resources>
  /**
   * Upstreams by name for the `upstreams` resource (policies that forward on their own, e.g. a cache's
   * background refresh); without it the resource is missing, unless given in `resources`.
   */
  upstreams?: Readonly<Record<string, Upstream>>
  /** Route id passed to route-level setup. Default `test`. */
  routeId?: string
}

/** The result of one in-process pipeline run. */
export interface PipelineResult {
  status: number
  headers: GwResponse['headers']
  /** The body, fully read. */
  body: Buffer
  /** The body as UTF-8 text. */
  text: string
  /** The body parsed as JSON. */
  json<T = unknown>(): T
  exchange: Exchange
  outcome: Outcome
  /** How many times the terminal (upstream) was called. */
  upstreamCalls: number
}

/** A pipeline whose policies were created once, for several runs. */
export interface TestPipeline {
  run(request?: TestRequest): Promise<PipelineResult>
  /** Calls every policy's `close()`. */
  close(): Promise<void>
}

/**
 * Creates policies once (like a gateway at start-up, order checks included) and runs requests through them
 * in-process, with no sockets.
 *
 * @example
 * ```ts
 * const pipeline = await createTestPipeline([rateLimit({ limit: 1, window: '1m' })])
 * expect((await pipeline.run()).status).toBe(200)
 * expect((await pipeline.run()).status).toBe(429)
 * ```
 */
export async function createTestPipeline(
  policies: PolicyEntry[],
  options: TestPipelineOptions = {},
): Promise<TestPipeline> {
  const clock = options.clock ?? createManualClock()
  const log = options.log ?? noopLogger
  const telemetry = options.telemetry ?? noopTelemetry
  validateChainOrder(
    policies.map((entry, i) => ({ entry, where: `policies[${i}]` })),
    log,
  )
  const instances: PolicyInstance[] = await instantiatePolicies(policies, options.routeId ?? 'test', {
    log,
    clock,
    telemetry,
    resources: withUpstreams(options),
  })
  let upstreamCalls = 0
  const upstream = options.upstream ?? { status: 200, body: { ok: true } }
  const chain: CompiledChain = {
    routeId: options.routeId ?? 'test',
    policies: instances,
    telemetry,
    terminal: (ex) => {
      upstreamCalls++
      if (typeof upstream === 'function') return upstream(ex)
      return localResponse(upstream.status, upstream.body, { ...upstream.headers })
    },
  }
  return {
    async run(request = {}) {
      const before = upstreamCalls
      const ex = createTestExchange(request, { clock, log })
      const response = await runExchange(ex, chain)
      const body = await readAll(response.body)
      const outcome = buildOutcome(ex, chain, response.status, false, body.length)
      completeExchange(ex, chain, outcome)
      const text = body.toString('utf8')
      return {
        status: response.status,
        headers: response.headers,
        body,
        text,
        json: <T>() => JSON.parse(text) as T,
        exchange: ex,
        outcome,
        upstreamCalls: upstreamCalls - before,
      }
    },
    async close() {
      for (const instance of [...instances].reverse()) await instance.handlers.close?.()
    },
  }
}

/**
 * Runs one request through policies in-process and closes them: the quickest pipeline test.
 *
 * @example
 * ```ts
 * const res = await runPipeline([requireHeader({ header: 'x-tenant' })], { url: '/' })
 * expect(res.status).toBe(400)
 * ```
 */
export async function runPipeline(
  policies: PolicyEntry[],
  request: TestRequest = {},
  options: TestPipelineOptions = {},
): Promise<PipelineResult> {
  const pipeline = await createTestPipeline(policies, options)
  try {
    return await pipeline.run(request)
  } finally {
    await pipeline.close()
  }
}

function withUpstreams(options: TestPipelineOptions): Partial<Resources> {
  const upstreams = options.upstreams
  if (upstreams === undefined) return options.resources ?? {}
  return {
    upstreams: createUpstreamDirectory((name) =>
      Object.hasOwn(upstreams, name) ? upstreams[name] : undefined,
    ),
    ...options.resources,
  }
}

async function readAll(body: GwResponse['body']): Promise<Buffer> {
  if (body === null) return Buffer.alloc(0)
  if (typeof body === 'string') return Buffer.from(body)
  if (body instanceof Uint8Array) return Buffer.from(body)
  const chunks: Buffer[] = []
  for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
}
