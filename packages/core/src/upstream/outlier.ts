import type { OutlierDetectionConfig } from './schema.js'

/** The per-target fields outlier detection reads and writes ({@link UpstreamTarget} fits). */
export interface OutlierState {
  consecutiveFailures: number
  ejections: number
  ejectedUntil: number
  restoredAt: number
}

/**
 * Passive outlier detection (Envoy's consecutive-errors detector): a target whose last `consecutiveFailures`
 * calls all failed (connect error, reset, timeout, 5xx) is ejected for `baseEjectionTime x ejections`, capped
 * at `maxEjectionTime`; the multiplier decays by one per `baseEjectionTime` spent healthy. At most
 * `maxEjectionPercent` of the targets (at least one, never all) are ejected at once.
 *
 * @example
 * ```ts
 * const detector = new OutlierDetector(outlierDetectionSchema.parse({}), clock.now)
 * if (detector.record(target, false, targets)) balancer.update(available())
 * ```
 */
export class OutlierDetector {
  readonly #config: OutlierDetectionConfig
  readonly #now: () => number
  /** Earliest `ejectedUntil` among ejected targets (Infinity when none). */
  nextExpiry = Number.POSITIVE_INFINITY

  constructor(config: OutlierDetectionConfig, now: () => number) {
    this.#config = config
    this.#now = now
  }

  /** Records one call result; returns true when it ejected the target. */
  record(target: OutlierState, success: boolean, all: readonly OutlierState[]): boolean {
    if (success) {
      target.consecutiveFailures = 0
      return false
    }
    target.consecutiveFailures++
    if (target.consecutiveFailures < this.#config.consecutiveFailures) return false
    const now = this.#now()
    if (target.ejectedUntil > now) return false
    let ejected = 0
    for (const t of all) if (t.ejectedUntil > now) ejected++
    if (ejected >= this.maxEjected(all.length)) return false
    const base = this.#config.baseEjectionTime
    if (target.restoredAt > 0 && base > 0)
      target.ejections = Math.max(0, target.ejections - Math.floor((now - target.restoredAt) / base))
    target.ejections++
    target.ejectedUntil = now + Math.min(base * target.ejections, this.#config.maxEjectionTime)
    target.consecutiveFailures = 0
    if (target.ejectedUntil < this.nextExpiry) this.nextExpiry = target.ejectedUntil
    return true
  }

  /** Brings back targets whose ejection expired; returns true when any came back. */
  restoreExpired(all: readonly OutlierState[]): boolean {
    const now = this.#now()
    if (now < this.nextExpiry) return false
    let changed = false
    let next = Number.POSITIVE_INFINITY
    for (const t of all) {
      if (t.ejectedUntil === 0) continue
      if (t.ejectedUntil <= now) {
        t.restoredAt = t.ejectedUntil
        t.ejectedUntil = 0
        changed = true
      } else if (t.ejectedUntil < next) next = t.ejectedUntil
    }
    this.nextExpiry = next
    return changed
  }

  /** How many of `total` targets may be ejected at once. */
  maxEjected(total: number): number {
    if (total <= 1) return 0
    return Math.min(total - 1, Math.max(1, Math.floor((total * this.#config.maxEjectionPercent) / 100)))
  }
}
