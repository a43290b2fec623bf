import type { Exchange } from '../../exchange/exchange.js'

/** What a balancer reads from a target ({@link UpstreamTarget} fits). */
export interface BalancedTarget {
  /** Identity of the target (hash placements derive from it). */
  readonly url: string
  /** Relative weight, >= 1. */
  readonly weight: number
  /** Requests in flight. */
  readonly inflight: number
  /** Peak-EWMA latency in ms at `now`, decayed for idle time. */
  decayedEwma(now: number, decay: number): number
}

/**
 * Chooses a target per request among the currently available ones. `update` is called at start-up and whenever
 * the available set changes (health, ejection, runtime add/remove); `pick` runs per try and avoids the
 * targets already `tried` by this request when another one exists.
 *
 * @example
 * ```ts
 * const balancer = createBalancer({ type: 'round-robin' }, deps)
 * balancer.update(targets)
 * const target = balancer.pick(ex, undefined)
 * ```
 */
export interface Balancer<T extends BalancedTarget = BalancedTarget> {
  /** Replaces the set of targets to pick from (the available ones, in configuration order). */
  update(targets: readonly T[]): void
  /** Picks a target, or `undefined` when the set is empty. */
  pick(ex: Exchange | undefined, tried: readonly T[] | undefined): T | undefined
}

/** Start-up services of a balancer: a clock and a source of randomness (injected in tests). */
export interface BalancerDeps {
  now(): number
  random(): number
}
