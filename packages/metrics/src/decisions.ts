import { createStateKey, type DecisionRecord, type StateKey } from '@gw/core'

/**
 * Decision records reported for the current request (by any policy, through the telemetry sink), in the order
 * they were made. The access log writes them on the request's line.
 *
 * @example
 * ```ts
 * const decisions = ex.get(decisionsKey) ?? []
 * const denied = decisions.find((d) => d.outcome === 'deny')
 * ```
 */
export const decisionsKey: StateKey<DecisionRecord[]> = createStateKey<DecisionRecord[]>('metrics.decisions')
