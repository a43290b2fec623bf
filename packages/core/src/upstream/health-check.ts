import type { Logger } from '../logger.js'
import type { HealthCheckConfig } from './schema.js'

/** The per-target field health checks write ({@link UpstreamTarget} fits). */
export interface HealthState {
  readonly url: string
  healthy: boolean
}

/** Runs one probe against a target; resolves true when it passed. Must not reject. */
export type HealthProbe<T extends HealthState> = (target: T) => Promise<boolean>

/**
 * Active health checking: every `interval`, each target is probed; `unhealthyThreshold` consecutive failures
 * take it out of rotation, `healthyThreshold` consecutive passes bring it back. Targets start healthy. Rounds
 * never overlap; the timer does not keep the process alive.
 *
 * @example
 * ```ts
 * const checker = new HealthChecker(config, probe, () => targets, () => refresh(), log)
 * checker.start()
 * await checker.checkNow() // one round, e.g. in tests
 * checker.stop()
 * ```
 */
export class HealthChecker<T extends HealthState> {
  readonly #config: HealthCheckConfig
  readonly #probe: HealthProbe<T>
  readonly #targets: () => readonly T[]
  readonly #onChange: () => void
  readonly #log: Logger
  readonly #streaks = new Map<T, number>()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined

  constructor(
    config: HealthCheckConfig,
    probe: HealthProbe<T>,
    targets: () => readonly T[],
    onChange: () => void,
    log: Logger,
  ) {
    this.#config = config
    this.#probe = probe
    this.#targets = targets
    this.#onChange = onChange
    this.#log = log
  }

  /** Starts the periodic rounds (the first one at once). */
  start(): void {
    if (this.#timer !== undefined) return
    void this.checkNow()
    this.#timer = setInterval(() => void this.checkNow(), this.#config.interval)
    this.#timer.unref()
  }

  /** Stops the rounds. */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Runs one round over all targets (or joins the running one). */
  checkNow(): Promise<void> {
    this.#running ??= this.#round().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #round(): Promise<void> {
    const targets = this.#targets()
    const results = await Promise.all(targets.map((t) => this.#probe(t)))
    let changed = false
    for (const key of this.#streaks.keys()) if (!targets.includes(key)) this.#streaks.delete(key)
    targets.forEach((target, i) => {
      const passed = results[i]!
      const streak = this.#streaks.get(target) ?? 0
      const next = passed ? Math.max(1, streak + 1) : Math.min(-1, streak - 1)
      this.#streaks.set(target, next)
      if (target.healthy && next <= -this.#config.unhealthyThreshold) {
        target.healthy = false
        changed = true
        this.#log.warn({ target: target.url }, 'target failed its health checks; out of rotation')
      } else if (!target.healthy && next >= this.#config.healthyThreshold) {
        target.healthy = true
        changed = true
        this.#log.info({ target: target.url }, 'target passed its health checks; back in rotation')
      }
    })
    if (changed) this.#onChange()
  }
}

/**
 * Whether a probe status passes: listed in `expectedStatuses`, or any 2xx/3xx when none are listed.
 *
 * @example
 * ```ts
 * statusPasses(204, undefined) // true
 * statusPasses(200, [204]) // false
 * ```
 */
export function statusPasses(status: number, expected: readonly number[] | undefined): boolean {
  return expected === undefined ? status >= 200 && status < 400 : expected.includes(status)
}
