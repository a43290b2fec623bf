// Command-line options of the harness.
import { readdirSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

export const CONTENDER_IDS = [
  'direct',
  'floor',
  'pipeline-floor',
  'gw',
  'fastify',
  'express',
  'gw-chain',
  'gw-chain-nocache',
  'fastify-chain',
  'express-chain',
]

const PLAIN = ['direct', 'floor', 'pipeline-floor', 'gw', 'fastify', 'express']

/**
 * What one run of the harness measures: each scenario is a request (body size, headers announced by the
 * servers) and the contenders that serve it. Extra cases named with --only join the first selected scenario.
 */
export const SCENARIOS = {
  'plain-100b': { id: 'plain-100b', title: 'Plain proxy, 100 B response', body: '100b', contenders: PLAIN },
  'plain-16k': { id: 'plain-16k', title: 'Plain proxy, 16 KiB response', body: '16k', contenders: PLAIN },
  chain: {
    id: 'chain',
    title: 'Chain: JWT HS256 + rate limit + security headers + metrics, 100 B response',
    body: '100b',
    contenders: ['floor', 'gw-chain', 'gw-chain-nocache', 'fastify-chain', 'express-chain'],
  },
}

/**
 * Extra cases: every other script in servers/ that starts a server (calls announceReady, directly or through a
 * shared `*-common.mjs` module). They run only when named with --only, e.g. `--only gw,ratelimit-memory`.
 */
export const CASE_IDS = (() => {
  const dir = new URL('../servers/', import.meta.url)
  return readdirSync(dir)
    .filter((file) => file.endsWith('.mjs') && file !== 'common.mjs' && !file.endsWith('-common.mjs'))
    .map((file) => file.slice(0, -4))
    .filter((id) => !CONTENDER_IDS.includes(id))
    .filter((id) => /announceReady\(|-common\.mjs'/.test(readFileSync(new URL(`${id}.mjs`, dir), 'utf8')))
    .sort()
})()

export const USAGE = `Usage: pnpm bench -- [options]

  --duration <s>      seconds per measured run (default 10)
  --runs <n>          measured runs per contender (default 3)
  --warmup <s>        warm-up seconds before the runs of each contender (default 3)
  --connections <n>   concurrent connections (default 50)
  --pipelining <n>    requests in flight per connection (default 1; above 1 needs autocannon)
  --quiet-wait <s>    before each run, wait up to this long for other processes to go idle (default 30)
  --no-retry          keep runs disturbed by other processes instead of running them again
  --scenarios <ids>   comma-separated subset of: ${Object.keys(SCENARIOS).join(', ')} (default all)
  --only <ids>        comma-separated contenders (within the scenarios): ${CONTENDER_IDS.join(', ')}
                      or extra cases (run in the first scenario): ${CASE_IDS.join(', ')}
  --skip <ids>        comma-separated contenders to leave out
  --load <tool>       wrk or autocannon (default wrk when installed)
  --upstream <kind>   nginx or node (default nginx when installed)
  --alloc <s>         seconds of load during which heap allocations are measured, per contender (default 3; 0: off)
  --quick             smoke test: 3 s, 1 run, 1 s warm-up, 5 s quiet wait (explicit options still win)
  --no-pin            do not pin processes to cores with taskset
  --write-docs        replace the results section of docs/benchmarks.md
  --help              this text
`

/** Caps that keep every run bounded whatever is typed. */
const LIMITS = {
  duration: [1, 300],
  runs: [1, 20],
  warmup: [0, 60],
  connections: [1, 1000],
  pipelining: [1, 100],
  'quiet-wait': [0, 600],
  alloc: [0, 60],
}

function intOption(name, raw, fallback) {
  if (raw === undefined) return fallback
  const n = Number(raw)
  const [min, max] = LIMITS[name]
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max} (got ${raw})`)
  }
  return n
}

function idList(name, raw) {
  if (raw === undefined) return undefined
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const unknown = ids.filter((id) => !CONTENDER_IDS.includes(id) && !CASE_IDS.includes(id))
  if (unknown.length > 0) throw new Error(`--${name}: unknown contender(s) ${unknown.join(', ')}`)
  return ids
}

/** Parses argv (a bare `--`, as pnpm forwards it, is ignored). */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      'quiet-wait': { type: 'string' },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      load: { type: 'string' },
      upstream: { type: 'string' },
      alloc: { type: 'string' },
      skip: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      'no-retry': { type: 'boolean', default: false },
      'write-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  const quick = values.quick
  const onlyGiven = idList('only', values.only)
  const only = onlyGiven ?? CONTENDER_IDS
  const skip = idList('skip', values.skip) ?? []
  const cases = only.filter((id) => CASE_IDS.includes(id) && !skip.includes(id))
  // Extra cases are plain-proxy variants: without --scenarios they run in the 100 B scenario only.
  const scenarioIds =
    values.scenarios
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? (cases.length > 0 ? ['plain-100b'] : Object.keys(SCENARIOS))
  for (const id of scenarioIds) if (!(id in SCENARIOS)) throw new Error(`--scenarios: unknown scenario ${id}`)
  const references = new Set(['direct', 'floor'])
  const jobs = scenarioIds
    .map((id) => ({
      scenario: SCENARIOS[id],
      contenders: SCENARIOS[id].contenders.filter((c) => only.includes(c) && !skip.includes(c)),
    }))
    // A scenario with nothing but reference rows left (direct, floor) compares nothing: dropped.
    .filter((job) => job.contenders.some((c) => !references.has(c)) || onlyGiven === undefined)
  if (cases.length > 0) {
    if (jobs.length === 0) jobs.push({ scenario: SCENARIOS['plain-100b'], contenders: [] })
    jobs[0].contenders.push(...cases)
  }
  for (const [name, value, allowed] of [
    ['load', values.load, ['wrk', 'autocannon']],
    ['upstream', values.upstream, ['nginx', 'node']],
  ]) {
    if (value !== undefined && !allowed.includes(value))
      throw new Error(`--${name} must be one of ${allowed.join(', ')} (got ${value})`)
  }
  return {
    help: values.help,
    quick,
    duration: intOption('duration', values.duration, quick ? 3 : 10),
    runs: intOption('runs', values.runs, quick ? 1 : 3),
    warmup: intOption('warmup', values.warmup, quick ? 1 : 3),
    connections: intOption('connections', values.connections, 50),
    pipelining: intOption('pipelining', values.pipelining, 1),
    quietWait: intOption('quiet-wait', values['quiet-wait'], quick ? 5 : 30),
    jobs,
    contenders: jobs.flatMap((job) => job.contenders),
    loadTool: values.load,
    upstreamKind: values.upstream,
    allocSeconds: intOption('alloc', values.alloc, quick ? 1 : 3),
    pin: !values['no-pin'],
    retryNoisy: !values['no-retry'],
    writeDocs: values['write-docs'],
  }
}
