/**
 * Rate-limit fault bench: 4 `gw start` processes (default rate-limit settings) on one redis-server reached
 * through a delaying TCP proxy in its own process; for each condition and algorithm, bursts far over the limit
 * (limit 20 per hour per client key, 200 concurrent requests spread evenly over the gateways), repeated.
 * Prints markdown tables: admitted / limit (min-max over the repetitions), the documented bound, and how many
 * requests the local fallback decided.
 *
 * Usage: `pnpm --filter @gw/reliability bench:limits [-- --reps 3 --burst 200 --limit 20 --gateways 4]`
 * (`--only <text>` runs the conditions whose name contains it; `--timeout <ms>` overrides the store timeout for
 * experiments)
 * (limits/run.mjs bundles this file with esbuild and runs it).
 */
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { ALGORITHMS, type Algorithm, type LimitsRig, startLimitsRig, starveCpu } from './rig.js'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    reps: { type: 'string', default: '3' },
    burst: { type: 'string', default: '200' },
    limit: { type: 'string', default: '20' },
    gateways: { type: 'string', default: '4' },
    only: { type: 'string' },
    timeout: { type: 'string' },
  },
})
const reps = Number(values.reps)
const total = Number(values.burst)
const limit = Number(values.limit)
const gatewayCount = Number(values.gateways)
/** The default `fallback.instances`: each gateway admits ceil(limit / 4) on its own while Redis is unavailable. */
const local = Math.ceil(limit / 4)

interface Condition {
  name: string
  bound: string
  run(rig: LimitsRig, algorithm: Algorithm, client: string): Promise<{ admitted: number; other: number }>
  before?(rig: LimitsRig): Promise<void>
  after?(rig: LimitsRig): Promise<void>
}

const delayed = (ms: number): Condition => ({
  name: `Redis replies delayed ${ms} ms`,
  bound: `${limit} when every call is answered within 100 ms, else <= ${limit} + ${gatewayCount} x ${local} = ${limit + gatewayCount * local}`,
  before: (rig) => rig.proxy.setDelay(ms),
  run: (rig, algorithm, client) => rig.burst(algorithm, client, total),
  after: (rig) => rig.proxy.setDelay(0),
})

let starved: { stop(): Promise<void> } | undefined
const conditions: Condition[] = [
  delayed(0),
  delayed(20),
  delayed(80),
  delayed(300),
  {
    name: 'Redis killed and restarted mid-burst',
    bound: `<= 2 x ${limit} + ${gatewayCount} x ${local} = ${2 * limit + gatewayCount * local}`,
    run: (rig, algorithm, client) =>
      rig.stream(algorithm, client, 40, total / 40, 100, async (wave) => {
        if (wave === 2) await rig.killRedis()
        if (wave === 15) await rig.startRedis()
      }),
  },
  {
    name: `CPU starved (${availableParallelism() * 2} busy-loop processes)`,
    bound: `${limit} when every call is answered within 100 ms, else <= ${limit + gatewayCount * local}`,
    before: async () => {
      starved = starveCpu(availableParallelism() * 2)
      await new Promise((r) => setTimeout(r, 1000))
    },
    run: (rig, algorithm, client) => rig.burst(algorithm, client, total),
    after: async () => {
      await starved?.stop()
    },
  },
]

const selected = conditions.filter((c) => values.only === undefined || c.name.includes(values.only))
// --timeout overrides the store timeout for experiments; the documented table uses the defaults.
const extra = values.timeout === undefined ? {} : { timeout: Number(values.timeout) }
const rig = await startLimitsRig({ gateways: gatewayCount, limit, extra })
const rows: {
  condition: Condition
  admitted: Record<string, number[]>
  fallback: Record<string, number[]>
}[] = []
try {
  for (const condition of selected) {
    const row = {
      condition,
      admitted: Object.fromEntries(ALGORITHMS.map((a) => [a, [] as number[]])),
      fallback: Object.fromEntries(ALGORITHMS.map((a) => [a, [] as number[]])),
    }
    rows.push(row)
    for (let rep = 0; rep < reps; rep++) {
      await rig.settle()
      await condition.before?.(rig)
      for (const algorithm of ALGORITHMS) {
        const client = `bench-${Date.now().toString(36)}-${rep}-${algorithm}`
        const before = await rig.fallbackDecisions()
        const result = await condition.run(rig, algorithm, client)
        const fallback = (await rig.fallbackDecisions()) - before
        row.admitted[algorithm]!.push(result.admitted)
        row.fallback[algorithm]!.push(fallback)
        process.stderr.write(
          `${condition.name} | ${algorithm} | rep ${rep + 1}: admitted ${result.admitted}, other ${result.other}, fallback ${fallback}\n`,
        )
      }
      await condition.after?.(rig)
    }
  }
} finally {
  await starved?.stop()
  await rig.close()
}

const range = (xs: number[]) => {
  const lo = Math.min(...xs)
  const hi = Math.max(...xs)
  return lo === hi ? String(lo) : `${lo}-${hi}`
}
const header = `| condition | ${ALGORITHMS.join(' | ')} | documented bound |`
const rule = `| --- | ${ALGORITHMS.map(() => '---:').join(' | ')} | --- |`
const lines = [
  `Admitted of ${total} concurrent requests, limit ${limit}, ${gatewayCount} gateways, ${reps} runs each (min-max):`,
  '',
  header,
  rule,
  ...rows.map(
    (r) =>
      `| ${r.condition.name} | ${ALGORITHMS.map((a) => `${range(r.admitted[a]!)} / ${limit}`).join(' | ')} | ${r.condition.bound} |`,
  ),
  '',
  'Requests decided by the local fallback (summed over the gateways, min-max):',
  '',
  `| condition | ${ALGORITHMS.join(' | ')} |`,
  `| --- | ${ALGORITHMS.map(() => '---:').join(' | ')} |`,
  ...rows.map((r) => `| ${r.condition.name} | ${ALGORITHMS.map((a) => range(r.fallback[a]!)).join(' | ')} |`),
]
process.stdout.write(`${lines.join('\n')}\n`)
