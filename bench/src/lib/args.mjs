// Command-line options of the harness.
import { readdirSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

export const CONTENDER_IDS = ['direct', 'bare', 'gw', 'fastify', 'express']

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
  --pipelining <n>    requests in flight per connection (default 1)
  --quiet-wait <s>    before each run, wait up to this long for other processes to go idle (default 30)
  --no-retry          keep runs disturbed by other processes instead of running them again
  --only <ids>        comma-separated subset of: ${CONTENDER_IDS.join(', ')}
                      or extra cases: ${CASE_IDS.join(', ')}
  --skip <ids>        comma-separated contenders to leave out
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
      skip: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      'no-retry': { type: 'boolean', default: false },
      'write-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  const quick = values.quick
  const only = idList('only', values.only) ?? CONTENDER_IDS
  const skip = idList('skip', values.skip) ?? []
  return {
    help: values.help,
    quick,
    duration: intOption('duration', values.duration, quick ? 3 : 10),
    runs: intOption('runs', values.runs, quick ? 1 : 3),
    warmup: intOption('warmup', values.warmup, quick ? 1 : 3),
    connections: intOption('connections', values.connections, 50),
    pipelining: intOption('pipelining', values.pipelining, 1),
    quietWait: intOption('quiet-wait', values['quiet-wait'], quick ? 5 : 30),
    contenders: [
      ...CONTENDER_IDS.filter((id) => only.includes(id) && !skip.includes(id)),
      ...only.filter((id) => CASE_IDS.includes(id) && !skip.includes(id)),
    ],
    pin: !values['no-pin'],
    retryNoisy: !values['no-retry'],
    writeDocs: values['write-docs'],
  }
}
