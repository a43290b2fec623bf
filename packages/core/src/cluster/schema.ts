import { z } from 'zod'

/**
 * `workers` in a gateway file: how many node:cluster workers `gw start` runs; `auto` is one per CPU
 * (`os.availableParallelism()`), 1 runs in a single process.
 *
 * @example
 * ```ts
 * workersSchema.parse('auto') // 'auto'
 * ```
 */
export const workersSchema = z
  .union([z.int().min(1).max(256), z.literal('auto')])
  .describe(
    "node:cluster workers for `gw start`: a count, or 'auto' for one per CPU. Default 1 (one process).",
  )
