import { describe, it } from 'vitest'
import { createManualClock, type ManualClock } from './clock.js'

/** One case of a store contract: receives a fresh store and the clock it was built with. */
export type StoreContractCase<S> = (ctx: { store: S; clock: ManualClock }) => void | Promise<void>

/** An implementation under test: how to build and dispose of a store. */
export interface StoreImplementation<S> {
  /** Shown in test names, e.g. `memory` or `redis`. */
  name: string
  create(ctx: { clock: ManualClock }): S | Promise<S>
  destroy?(store: S): void | Promise<void>
}

/**
 * Declares a contract suite once; every store implementation runs the same cases (undici's cache-store
 * tests follow this shape). Returns a function that registers the suite for one implementation with vitest.
 *
 * @example
 * ```ts
 * export const counterStoreContract = defineStoreContract<CounterStore>('counter store', {
 *   'increments atomically': async ({ store }) => {
 *     expect(await store.incr('k')).toBe(1)
 *   },
 * })
 * counterStoreContract({ name: 'memory', create: ({ clock }) => new MemoryCounterStore(clock) })
 * ```
 */
export function defineStoreContract<S>(
  suiteName: string,
  cases: Record<string, StoreContractCase<S>>,
): (implementation: StoreImplementation<S>) => void {
  return (implementation) => {
    describe(`${suiteName} contract: ${implementation.name}`, () => {
      for (const [caseName, run] of Object.entries(cases)) {
        it(caseName, async () => {
          const clock = createManualClock()
          const store = await implementation.create({ clock })
          try {
            await run({ store, clock })
          } finally {
            await implementation.destroy?.(store)
          }
        })
      }
    })
  }
}
