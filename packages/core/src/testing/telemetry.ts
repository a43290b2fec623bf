import type { Exchange } from '../exchange/exchange.js'
import type { DecisionRecord, Telemetry } from '../telemetry.js'

/** A decision record with the id of the request it was made for. */
export interface RecordedDecision extends DecisionRecord {
  requestId: string
}

/** A {@link Telemetry} that keeps everything it is given, for assertions. */
export interface RecordingTelemetry extends Telemetry {
  /** Every decision record, in order, with its request id. */
  readonly decisions: RecordedDecision[]
  /** Sum of every `count(name, value)` per name (labels ignored). */
  readonly counts: Map<string, number>
  /** Every `observe(name, value)` value per name, in order. */
  readonly observations: Map<string, number[]>
  /** The decision records of one request. */
  decisionsFor(requestId: string): RecordedDecision[]
  /** Forgets everything recorded so far. */
  clear(): void
}

/**
 * Creates a telemetry sink that records decisions, counts and observations in memory, to assert what a
 * policy reported: pass it as `telemetry` to `createGateway`, `runPipeline` or `createTestPipeline`.
 *
 * @example
 * ```ts
 * const telemetry = createRecordingTelemetry()
 * await runPipeline([requireTenant({ tenants: ['acme'] }, { mode: 'report' })], { headers: { 'x-tenant': 'evil' } }, { telemetry })
 * expect(telemetry.decisions).toMatchObject([{ policy: 'require-tenant', outcome: 'report', reason: 'unknown-tenant' }])
 * ```
 */
export function createRecordingTelemetry(): RecordingTelemetry {
  const decisions: RecordedDecision[] = []
  const counts = new Map<string, number>()
  const observations = new Map<string, number[]>()
  return {
    enabled: true,
    decisions,
    counts,
    observations,
    decision(ex: Exchange, record: DecisionRecord) {
      decisions.push({ requestId: ex.id, ...record })
    },
    count(name, value) {
      counts.set(name, (counts.get(name) ?? 0) + value)
    },
    observe(name, value) {
      const list = observations.get(name)
      if (list === undefined) observations.set(name, [value])
      else list.push(value)
    },
    decisionsFor(requestId) {
      return decisions.filter((d) => d.requestId === requestId)
    },
    clear() {
      decisions.length = 0
      counts.clear()
      observations.clear()
    },
  }
}
