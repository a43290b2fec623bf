import type { Exchange } from '../../exchange/exchange.js'
import { cookieValues } from '../../util/cookie.js'
import { hash32 } from '../hash.js'
import type { HashKeyConfig } from '../schema.js'
import type { BalancedTarget, Balancer, BalancerDeps } from './types.js'

/**
 * Reads the hash key of a request: a header value, a cookie value, the client ip or a route parameter.
 * Returns `undefined` when the request has none (the balancer then picks at random).
 *
 * @example
 * ```ts
 * const key = compileHashKey({ source: 'cookie', name: 'session' })
 * key(ex) // 'abc123' for `Cookie: theme=dark; session=abc123`
 * ```
 */
export function compileHashKey(config: HashKeyConfig): (ex: Exchange) => string | undefined {
  switch (config.source) {
    case 'ip':
      return (ex) => ex.request.ip || undefined
    case 'param': {
      const name = config.name
      return (ex) => ex.route.params[name] || undefined
    }
    case 'header': {
      const name = config.name
      return (ex) => {
        const value = ex.request.headers[name]
        const first = Array.isArray(value) ? value[0] : value
        return first || undefined
      }
    }
    case 'cookie': {
      const name = config.name
      return (ex) => cookieValues(ex.request.headers.cookie, name)[0] || undefined
    }
  }
}

/** A lookup structure from key hash to target index. */
interface Placement {
  /** Index of the owner of `hash`, and of the following owners when `skip` > 0. */
  lookup(hash: number, skip: number): number
}

class Ring implements Placement {
  readonly #points: Uint32Array
  readonly #owners: Uint32Array

  constructor(targets: readonly BalancedTarget[], virtualNodes: number) {
    const entries: { hash: number; owner: number }[] = []
    targets.forEach((target, owner) => {
      const count = virtualNodes * target.weight
      for (let v = 0; v < count; v++) entries.push({ hash: hash32(`${target.url}#${v}`), owner })
    })
    entries.sort((a, b) => a.hash - b.hash || a.owner - b.owner)
    this.#points = Uint32Array.from(entries, (e) => e.hash)
    this.#owners = Uint32Array.from(entries, (e) => e.owner)
  }

  lookup(hash: number, skip: number): number {
    const points = this.#points
    let lo = 0
    let hi = points.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (points[mid]! < hash) lo = mid + 1
      else hi = mid
    }
    return this.#owners[(lo + skip) % points.length]!
  }
}

class Maglev implements Placement {
  readonly #table: Int32Array

  constructor(targets: readonly BalancedTarget[], size: number) {
    const n = targets.length
    const table = new Int32Array(size).fill(-1)
    const offsets = targets.map((t) => hash32(t.url, 0x9e3779b9) % size)
    const skips = targets.map((t) => (hash32(t.url, 0x85ebca6b) % (size - 1)) + 1)
    const next = new Uint32Array(n)
    const maxWeight = Math.max(...targets.map((t) => t.weight))
    const credit = new Float64Array(n)
    let filled = 0
    while (filled < size) {
      for (let i = 0; i < n && filled < size; i++) {
        credit[i]! += targets[i]!.weight / maxWeight
        while (credit[i]! >= 1 && filled < size) {
          credit[i]! -= 1
          let slot = (offsets[i]! + next[i]! * skips[i]!) % size
          while (table[slot] !== -1) {
            next[i]!++
            slot = (offsets[i]! + next[i]! * skips[i]!) % size
          }
          table[slot] = i
          next[i]!++
          filled++
        }
      }
    }
    this.#table = table
  }

  lookup(hash: number, skip: number): number {
    return this.#table[(hash + skip) % this.#table.length]!
  }
}

/** Options of {@link ConsistentHashBalancer}. */
export interface ConsistentHashOptions {
  key: HashKeyConfig
  algorithm: 'ring' | 'maglev'
  virtualNodes: number
  tableSize: number
}

/**
 * Consistent hashing: a request key (header, cookie, client ip or route param) maps to a target through a
 * ring (Ketama-style, `virtualNodes x weight` points per target) or a Maglev lookup table. When a target is
 * added or removed only about 1/N of the keys move (exactly the removed target's keys, for the ring). A retry
 * takes the next owner on the ring / table. Requests without a key are spread at random.
 *
 * @example
 * ```ts
 * const ch = new ConsistentHashBalancer({ key: { source: 'header', name: 'x-user' }, algorithm: 'ring', virtualNodes: 160, tableSize: 65537 }, deps)
 * ch.update(targets)
 * ch.pick(ex, undefined) // same target for the same x-user
 * ```
 */
export class ConsistentHashBalancer<T extends BalancedTarget> implements Balancer<T> {
  #targets: readonly T[] = []
  #placement: Placement | undefined
  readonly #options: ConsistentHashOptions
  readonly #deps: BalancerDeps
  readonly #key: (ex: Exchange) => string | undefined

  constructor(options: ConsistentHashOptions, deps: BalancerDeps) {
    this.#options = options
    this.#deps = deps
    this.#key = compileHashKey(options.key)
  }

  update(targets: readonly T[]): void {
    this.#targets = targets
    if (targets.length === 0) this.#placement = undefined
    else
      this.#placement =
        this.#options.algorithm === 'maglev'
          ? new Maglev(targets, this.#options.tableSize)
          : new Ring(targets, this.#options.virtualNodes)
  }

  pick(ex: Exchange | undefined, tried: readonly T[] | undefined): T | undefined {
    if (this.#placement === undefined) return undefined
    const key = ex === undefined ? undefined : this.#key(ex)
    if (key === undefined) return this.#random(tried)
    return this.pickByKey(key, tried)
  }

  /** The target owning `key` (skipping `tried` targets while others exist). */
  pickByKey(key: string, tried?: readonly T[]): T | undefined {
    const targets = this.#targets
    const placement = this.#placement
    if (placement === undefined) return undefined
    const hash = hash32(key)
    const first = targets[placement.lookup(hash, 0)]!
    if (tried === undefined || tried.length === 0 || !tried.includes(first)) return first
    if (targets.every((t) => tried.includes(t))) return first
    for (let skip = 1; ; skip++) {
      const target = targets[placement.lookup(hash, skip)]!
      if (!tried.includes(target)) return target
    }
  }

  #random(tried: readonly T[] | undefined): T | undefined {
    let targets = this.#targets
    if (tried !== undefined && tried.length > 0) {
      const rest = targets.filter((t) => !tried.includes(t))
      if (rest.length > 0) targets = rest
    }
    return targets[Math.floor(this.#deps.random() * targets.length) % targets.length]
  }
}
