import type { Exchange } from '../../exchange/exchange.js'
import type { BalancedTarget, Balancer } from './types.js'

/**
 * Smooth weighted round-robin (nginx): every pick adds each target's weight to its running score, takes the
 * highest score and subtracts the total weight from it. Weights 5/1/1 give `a a b a c a a`, not `a a a a a b c`:
 * the heavy target's turns are spread out.
 *
 * @example
 * ```ts
 * const wrr = new WeightedRoundRobinBalancer()
 * wrr.update([{ ...a, weight: 3 }, b])
 * wrr.pick(undefined, undefined)
 * ```
 */
export class WeightedRoundRobinBalancer<T extends BalancedTarget> implements Balancer<T> {
  #targets: readonly T[] = []
  #current = new Float64Array(0)

  update(targets: readonly T[]): void {
    const previous = new Map<T, number>()
    this.#targets.forEach((t, i) => {
      previous.set(t, this.#current[i]!)
    })
    this.#targets = targets
    this.#current = new Float64Array(targets.length)
    targets.forEach((t, i) => {
      this.#current[i] = previous.get(t) ?? 0
    })
  }

  pick(_ex: Exchange | undefined, tried: readonly T[] | undefined): T | undefined {
    const targets = this.#targets
    const n = targets.length
    if (n === 0) return undefined
    if (n === 1) return targets[0]
    const skipTried = tried !== undefined && targets.some((t) => !tried.includes(t))
    const current = this.#current
    let total = 0
    let best = -1
    for (let i = 0; i < n; i++) {
      const target = targets[i]!
      if (skipTried && tried.includes(target)) continue
      current[i]! += target.weight
      total += target.weight
      if (best === -1 || current[i]! > current[best]!) best = i
    }
    current[best]! -= total
    return targets[best]
  }
}
