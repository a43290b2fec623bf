import type { BalancerConfig } from '../schema.js'
import { ConsistentHashBalancer } from './consistent-hash.js'
import { LeastConnectionsBalancer } from './least-connections.js'
import { P2cEwmaBalancer } from './p2c-ewma.js'
import { RoundRobinBalancer } from './round-robin.js'
import type { BalancedTarget, Balancer, BalancerDeps } from './types.js'
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js'

export { ConsistentHashBalancer, type ConsistentHashOptions, compileHashKey } from './consistent-hash.js'
export { LeastConnectionsBalancer } from './least-connections.js'
export { P2cEwmaBalancer, UNMEASURED_PENALTY } from './p2c-ewma.js'
export { RoundRobinBalancer } from './round-robin.js'
export type { BalancedTarget, Balancer, BalancerDeps } from './types.js'
export { WeightedRoundRobinBalancer } from './weighted-round-robin.js'

/**
 * Creates the balancer an upstream config asks for.
 *
 * @example
 * ```ts
 * const balancer = createBalancer({ type: 'p2c-ewma', decay: 5000 }, { now: Date.now, random: Math.random })
 * ```
 */
export function createBalancer<T extends BalancedTarget>(
  config: BalancerConfig,
  deps: BalancerDeps,
): Balancer<T> {
  switch (config.type) {
    case 'round-robin':
      return new RoundRobinBalancer<T>()
    case 'weighted-round-robin':
      return new WeightedRoundRobinBalancer<T>()
    case 'least-connections':
      return new LeastConnectionsBalancer<T>()
    case 'p2c-ewma':
      return new P2cEwmaBalancer<T>(deps, config.decay)
    case 'consistent-hash':
      return new ConsistentHashBalancer<T>(config, deps)
  }
}
