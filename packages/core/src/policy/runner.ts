import { Readable } from 'node:stream'
import { GatewayError, renderProblem, toGatewayError } from '../errors.js'
import type { Exchange } from '../exchange/exchange.js'
import type { DecisionRecord } from '../telemetry.js'
import type { CompiledChain } from './chain.js'
import type { GwResponse, MaybePromise, Outcome, Verdict } from './types.js'

/**
 * Runs a request through a compiled chain: `onRequest` in order until one responds or denies, then the
 * terminal, then `onResponse` in reverse over the entered policies except the responder. Never rejects: errors
 * become problem+json responses. Each denial (a thrown `GatewayError` below 500 or carrying a `decision`, or
 * a `respond` of 400+) is recorded once: `deny`, or `report` when the entry runs in report mode and the request
 * goes on. Stays synchronous while every handler is.
 *
 * @example
 * ```ts
 * const res = await runExchange(ex, chain)
 * ```
 */
export function runExchange(ex: Exchange, chain: CompiledChain): MaybePromise<GwResponse> {
  const res = runRequestPhase(ex, chain, 0)
  if (!isPromise(res)) return runResponsePhase(ex, chain, res, ex._entered - 1)
  // The request phase turns policy failures into responses itself; a rejection here is the terminal's.
  return res.then(
    (r) => runResponsePhase(ex, chain, r, ex._entered - 1),
    (error: unknown) => runResponsePhase(ex, chain, errorResponse(ex, error, undefined), ex._entered - 1),
  )
}

/** Receives the final response of an exchange run by {@link runExchangeInto}. */
export interface ExchangeSink {
  send(response: GwResponse): void
}

/**
 * {@link runExchange} for a server: hands the final response to `sink` instead of returning it, which spares
 * the promise (and its two callbacks) a caller would chain on the returned one when the exchange went async.
 *
 * @example
 * ```ts
 * runExchangeInto(ex, chain, { send: (res) => writeToClient(res) })
 * ```
 */
export function runExchangeInto(ex: Exchange, chain: CompiledChain, sink: ExchangeSink): void {
  const res = runRequestPhase(ex, chain, 0)
  if (!isPromise(res)) {
    deliver(ex, chain, sink, res)
    return
  }
  res.then(
    (r) => deliver(ex, chain, sink, r),
    (error: unknown) => deliver(ex, chain, sink, errorResponse(ex, error, undefined)),
  )
}

function deliver(ex: Exchange, chain: CompiledChain, sink: ExchangeSink, res: GwResponse): void {
  const out = runResponsePhase(ex, chain, res, ex._entered - 1)
  if (!isPromise(out)) sink.send(out)
  else
    out.then(
      (r) => sink.send(r),
      (error: unknown) => sink.send(errorResponse(ex, error, undefined)),
    )
}

function runRequestPhase(ex: Exchange, chain: CompiledChain, from: number): MaybePromise<GwResponse> {
  const policies = chain.policies
  for (let i = from; i < policies.length; i++) {
    const policy = policies[i]!
    ex._entered = i + 1
    const onRequest = policy.handlers.onRequest
    if (onRequest === undefined) continue
    let verdict: MaybePromise<Verdict>
    try {
      verdict = onRequest(ex)
    } catch (error) {
      if (recordDenial(ex, chain, i, error)) continue
      return failAt(ex, chain, i, error)
    }
    if (verdict === undefined) continue
    if (isPromise(verdict)) {
      return verdict.then(
        (v) => takeRequestVerdict(ex, chain, i, v) ?? runRequestPhase(ex, chain, i + 1),
        (error: unknown) =>
          recordDenial(ex, chain, i, error) ? runRequestPhase(ex, chain, i + 1) : failAt(ex, chain, i, error),
      )
    }
    const answer = takeRequestVerdict(ex, chain, i, verdict)
    if (answer !== undefined) return answer
  }
  return runTerminal(ex, chain)
}

function takeRequestVerdict(
  ex: Exchange,
  chain: CompiledChain,
  index: number,
  verdict: Verdict,
): GwResponse | undefined {
  if (!verdict) return undefined
  const res = verdict.respond
  if (res.status >= 400) {
    // A local reply that is an error is a denial without a rule or key (policies should throw instead).
    const report = chain.policies[index]!.mode === 'report'
    record(ex, chain, index, report ? 'report' : 'deny', undefined, res.status)
    if (report) {
      discardBody(res)
      return undefined
    }
  }
  ex._responder = index
  return res
}

/**
 * Records the denial a handler threw, once: `deny`, or in report mode `report` (logged, and the request goes
 * on: returns true). A denial is a `GatewayError` below 500, or any `GatewayError` carrying a `decision`;
 * anything else is a failure, answered as it is in both modes.
 */
function recordDenial(ex: Exchange, chain: CompiledChain, index: number, error: unknown): boolean {
  if (!(error instanceof GatewayError) || (error.status >= 500 && error.decision === undefined)) return false
  const report = chain.policies[index]!.mode === 'report'
  record(ex, chain, index, report ? 'report' : 'deny', error, error.status)
  return report
}

function record(
  ex: Exchange,
  chain: CompiledChain,
  index: number,
  outcome: 'deny' | 'report',
  error: GatewayError | undefined,
  status: number,
): void {
  const policy = chain.policies[index]!.name
  if (outcome === 'report')
    ex.log.warn({ policy, status, code: error?.code }, 'report mode: request would have been denied')
  if (!chain.telemetry.enabled) return
  const decision = error?.decision
  const entry: DecisionRecord = { policy, outcome }
  if (decision?.rule !== undefined) entry.rule = decision.rule
  if (decision?.key !== undefined) entry.key = decision.key
  entry.reason = decision?.reason ?? error?.code ?? String(status)
  if (decision?.matches !== undefined) entry.matches = decision.matches
  chain.telemetry.decision(ex, entry)
}

function failAt(ex: Exchange, chain: CompiledChain, index: number, error: unknown): GwResponse {
  ex._responder = index
  return errorResponse(ex, error, chain.policies[index]?.name)
}

/** A rejected terminal promise is left to `runExchange`, which renders it: one promise less per request. */
function runTerminal(ex: Exchange, chain: CompiledChain): MaybePromise<GwResponse> {
  try {
    return chain.terminal(ex)
  } catch (error) {
    return errorResponse(ex, error, undefined)
  }
}

function runResponsePhase(
  ex: Exchange,
  chain: CompiledChain,
  res: GwResponse,
  from: number,
): MaybePromise<GwResponse> {
  const policies = chain.policies
  for (let i = from; i >= 0; i--) {
    if (i === ex._responder) continue
    const onResponse = policies[i]!.handlers.onResponse
    if (onResponse === undefined) continue
    let verdict: MaybePromise<Verdict>
    try {
      verdict = onResponse(ex, res)
    } catch (error) {
      discardBody(res)
      res = errorResponse(ex, error, policies[i]!.name)
      continue
    }
    if (verdict === undefined) continue
    if (isPromise(verdict)) {
      const current = res
      return verdict.then(
        (v) => runResponsePhase(ex, chain, replaceResponse(current, v), i - 1),
        (error: unknown) => {
          discardBody(current)
          return runResponsePhase(ex, chain, errorResponse(ex, error, policies[i]!.name), i - 1)
        },
      )
    }
    res = replaceResponse(res, verdict)
  }
  return res
}

function replaceResponse(current: GwResponse, verdict: Verdict): GwResponse {
  if (!verdict || verdict.respond === current) return current
  if (verdict.respond.body !== current.body) discardBody(current)
  return verdict.respond
}

/**
 * Turns a thrown error into a problem+json response, logging internal errors with their stack.
 *
 * @example
 * ```ts
 * const res = errorResponse(ex, new GatewayError('GW_ERR_X', 400, 'bad'), 'my-policy')
 * ```
 */
export function errorResponse(ex: Exchange, error: unknown, policy: string | undefined): GwResponse {
  const gwError = toGatewayError(error)
  ex._error = gwError
  if (gwError.status >= 500 && gwError.decision === undefined) {
    ex.log.error({ err: gwError.cause ?? gwError, code: gwError.code, policy }, gwError.message)
  }
  const { status, headers, body } = renderProblem(gwError, ex.id)
  return { status, headers, body }
}

/**
 * Runs `onComplete` exactly once per entered policy, in reverse order. Errors are logged, never thrown.
 *
 * @example
 * ```ts
 * completeExchange(ex, chain, { status: 200, aborted: false, error: undefined, respondedBy: undefined, durationMs: 3, bytesSent: 120 })
 * ```
 */
export function completeExchange(ex: Exchange, chain: CompiledChain, outcome: Outcome): void {
  if (ex._completed) return
  ex._completed = true
  const policies = chain.policies
  for (let i = ex._entered - 1; i >= 0; i--) {
    const policy = policies[i]!
    const onComplete = policy.handlers.onComplete
    if (onComplete === undefined) continue
    try {
      onComplete(ex, outcome)
    } catch (error) {
      policy.log.error({ err: error, reqId: ex.id }, 'onComplete failed')
    }
  }
}

/**
 * Builds the {@link Outcome} of an exchange from what was sent.
 *
 * @example
 * ```ts
 * const outcome = buildOutcome(ex, chain, 200, false, 1024)
 * ```
 */
export function buildOutcome(
  ex: Exchange,
  chain: CompiledChain,
  status: number,
  aborted: boolean,
  bytesSent: number,
): Outcome {
  const error: GatewayError | undefined = ex._error
  return {
    status: aborted ? 499 : status,
    aborted,
    error,
    respondedBy: ex._responder >= 0 ? chain.policies[ex._responder]?.name : undefined,
    durationMs: ex.now() - ex.startedAt,
    bytesSent,
  }
}

/** Releases a response body that will not be sent (frees the upstream connection). */
export function discardBody(res: GwResponse): void {
  const body = res.body
  if (body instanceof Readable && !body.destroyed) {
    body.on('error', ignore)
    body.destroy()
  }
}

function ignore(): void {}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}
