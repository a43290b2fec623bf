import type { Exchange } from '../../exchange/exchange.js'
import type { BalancedTarget, Balancer } from './types.js'

/**
 * Plain round-robin: targets in turn, ignoring weights. A retry takes the next untried target without moving
 * the rotation, so a failing target does not shift the first tries of later requests onto itself.
 *
 * @example
 * ```ts
 * const rr = new RoundRobinBalancer()
 * rr.update([a, b, c])
 * rr.pick(undefined, undefined) // a, then b, then c, then a ...
 * ```
 */
export class RoundRobinBalancer<T extends BalancedTarget> implements Balancer<T> {
  #targets: readonly T[] = []
  #next = 0

  update(targets: readonly T[]): void {
    this.#targets = targets
    if (this.#next >= targets.length) this.#next = 0
  }

  pick(_ex: Exchange | undefined, tried: readonly T[] | undefined): T | undefined {
    const targets = this.#targets
    const n = targets.length
    if (n === 0) return undefined
    for (let k = 0; k < n; k++) {
      const i = (this.#next + k) % n
      const target = targets[i]!
      if (tried === undefined) {
        this.#next = (i + 1) % n
        return target
      }
      if (!tried.includes(target)) return target
    }
    const target = targets[this.#next]!
    this.#next = (this.#next + 1) % n
    return target
  }
}
