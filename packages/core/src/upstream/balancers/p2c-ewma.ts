import type { Exchange } from '../../exchange/exchange.js'
import type { BalancedTarget, Balancer, BalancerDeps } from './types.js'

/**
 * Cost of a target without a latency sample that has requests in flight (Finagle's penalty).
 *
 * @example
 * ```ts
 * p2c.cost(newTargetWithInflight, now) >= UNMEASURED_PENALTY // true
 * ```
 */
export const UNMEASURED_PENALTY = 1e9

/**
 * Power of two choices over peak-EWMA latency (Finagle / Linkerd): two distinct random targets are compared
 * by `(ewma + 1 ms) * (inflight + 1) / weight` and the cheaper one wins. A slow target's EWMA jumps to its latency at
 * once, so traffic shifts away within a few requests; its value decays while idle, so it is probed again and
 * comes back once it is fast. Two random choices avoid the herd effect of always taking the global best.
 *
 * @example
 * ```ts
 * const p2c = new P2cEwmaBalancer({ now: Date.now, random: Math.random }, 5000)
 * p2c.update(targets)
 * p2c.pick(ex, undefined)
 * ```
 */
export class P2cEwmaBalancer<T extends BalancedTarget> implements Balancer<T> {
  #targets: readonly T[] = []
  readonly #deps: BalancerDeps
  readonly #decay: number

  constructor(deps: BalancerDeps, decay: number) {
    this.#deps = deps
    this.#decay = decay
  }

  update(targets: readonly T[]): void {
    this.#targets = targets
  }

  pick(_ex: Exchange | undefined, tried: readonly T[] | undefined): T | undefined {
    let targets = this.#targets
    if (tried !== undefined && tried.length > 0) {
      const rest = targets.filter((t) => !tried.includes(t))
      if (rest.length > 0) targets = rest
    }
    const n = targets.length
    if (n <= 1) return targets[0]
    const random = this.#deps.random
    const i = Math.floor(random() * n) % n
    let j = Math.floor(random() * (n - 1)) % (n - 1)
    if (j >= i) j++
    const a = targets[i]!
    const b = targets[j]!
    const now = this.#deps.now()
    const costA = this.cost(a, now)
    const costB = this.cost(b, now)
    if (costA === costB) return random() < 0.5 ? a : b
    return costA < costB ? a : b
  }

  /**
   * The load score of a target at `now` (lower is better). A target that has not answered yet but already has
   * requests in flight costs {@link UNMEASURED_PENALTY}, so a new (or newly slow) target does not soak up
   * requests before its first latency sample arrives.
   */
  cost(target: T, now: number): number {
    const ewma = target.decayedEwma(now, this.#decay)
    if (ewma === 0 && target.inflight > 0) return UNMEASURED_PENALTY + target.inflight
    return ((ewma + 1) * (target.inflight + 1)) / target.weight
  }
}
