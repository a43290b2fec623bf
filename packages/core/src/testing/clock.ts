import type { Clock } from '../clock.js'

/** A clock that only moves when told to. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`. */
  advance(ms: number): void
  /** Sets the current time. */
  set(epochMs: number): void
}

/**
 * Creates a {@link ManualClock} for deterministic tests.
 *
 * @example
 * ```ts
 * const clock = createManualClock(Date.UTC(2026, 0, 1))
 * clock.advance(1000)
 * ```
 */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start
  return {
    now: () => now,
    advance(ms) {
      now += ms
    },
    set(epochMs) {
      now = epochMs
    },
  }
}
