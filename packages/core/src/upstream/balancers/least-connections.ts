import type { Exchange } from '../../exchange/exchange.js'
import type { BalancedTarget, Balancer } from './types.js'

/**
 * Least connections: the target with the fewest requests in flight relative to its weight
 * (`(inflight + 1) / weight`). Ties go round-robin so that an idle upstream still spreads its load.
 *
 * @example
 * ```ts
 * const lc = new LeastConnectionsBalancer()
 * lc.update(targets)
 * lc.pick(ex, undefined) // the least busy target
 * ```
 */
export class LeastConnectionsBalancer<T extends BalancedTarget> implements Balancer<T> {
  #targets: readonly T[] = []
  #start = 0

  update(targets: readonly T[]): void {
    this.#targets = targets
    this.#start = 0
  }

  pick(_ex: Exchange | undefined, tried: readonly T[] | undefined): T | undefined {
    const targets = this.#targets
    const n = targets.length
    if (n === 0) return undefined
    const skipTried = tried !== undefined && targets.some((t) => !tried.includes(t))
    let best: T | undefined
    let bestLoad = Number.POSITIVE_INFINITY
    const start = this.#start
    for (let k = 0; k < n; k++) {
      const target = targets[(start + k) % n]!
      if (skipTried && tried.includes(target)) continue
      const load = (target.inflight + 1) / target.weight
      if (load < bestLoad) {
        best = target
        bestLoad = load
      }
    }
    this.#start = (start + 1) % n
    return best
  }
}
