#!/usr/bin/env node
// Microbenchmark of @detectSQLi / @detectXSS: CPU ns per call of gw's detectSqli/detectXss (built dist) on
// typical short arguments and 4 KiB inputs, next to the C libinjection that ModSecurity ships
// (libmodsecurity.so.3, timed in-process by scripts/libinjection/reference-driver.c) when it is installed.
//
// Run: pnpm --filter @gw/security bench:libinjection   (builds first; results are machine-dependent)
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { detectSqli, detectXss } from '../dist/libinjection/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const ROUND_NS = 60e6

const words =
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore'
// Flat one-byte strings, as Buffer#toString('latin1') gives a rule engine (not ropes or slices).
const fill = (unit, n) =>
  Buffer.from(unit.repeat(Math.ceil(n / unit.length)).slice(0, n), 'latin1').toString('latin1')
const cases = [
  ['short: number', '12345'],
  ['short: word', 'electronics'],
  ['short: email', 'jane.doe@example.com'],
  ['short: name with quote', "O'Reilly"],
  ['short: date', '2024-06-01T10:00:00Z'],
  ['short: sentence', 'Where is my order? It was due on Monday.'],
  ['short: sqli', "1' OR '1'='1"],
  ['short: xss', '"><img src=x onerror=alert(1)>'],
  ['4 KiB: prose', fill(`${words}, `, 4096)],
  ['4 KiB: form fields', fill('name=Jane+Doe&city=Berlin&note=call+me+after+5pm&qty=3&', 4096)],
  ['4 KiB: JSON', fill('{"id":123,"name":"widget","tags":["a","b"],"price":9.99},', 4096)],
  ['4 KiB: quotes and markup', fill(`It's <b>"quoted"</b> & (parenthesised) -- ok; `, 4096)],
]

/** CPU time (user + system) in ns: unlike wall time, it does not count waiting for a busy CPU. */
function cpuNs() {
  const { user, system } = process.cpuUsage()
  return (user + system) * 1000
}

/** Fastest of 5 rounds of 60 ms CPU time, after a warm-up: CPU ns per call. */
function nsPerCall(fn, input) {
  for (let i = 0; i < 2000; i++) fn(input)
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < 5; round++) {
    let calls = 0
    const start = cpuNs()
    let elapsed = 0
    while (elapsed < ROUND_NS) {
      for (let i = 0; i < 100; i++) fn(input)
      calls += 100
      elapsed = cpuNs() - start
    }
    best = Math.min(best, elapsed / calls)
  }
  return best
}

function referenceNs() {
  const lib = [
    '/usr/lib/x86_64-linux-gnu/libmodsecurity.so.3',
    '/usr/lib/aarch64-linux-gnu/libmodsecurity.so.3',
  ].find(existsSync)
  if (!lib) return undefined
  const bin = join(mkdtempSync(join(tmpdir(), 'gw-libinjection-bench-')), 'driver')
  execFileSync('cc', ['-O2', '-o', bin, join(here, '../scripts/libinjection/reference-driver.c'), '-ldl'])
  const records = []
  for (const [, input] of cases) {
    for (const which of [0, 1]) {
      const body = Buffer.from(input, 'latin1')
      const head = Buffer.alloc(6)
      head[0] = 'B'.charCodeAt(0)
      head[1] = which
      head.writeUInt32LE(body.length, 2)
      records.push(head, body)
    }
  }
  const out = spawnSync(bin, [lib], { input: Buffer.concat(records) })
  if (out.status !== 0) throw new Error(out.stderr.toString())
  return out.stdout.toString().trim().split('\n').map(Number)
}

const ref = referenceNs()
const fmt = (n) => (n === undefined ? 'n/a' : n < 10_000 ? n.toFixed(0) : `${(n / 1000).toFixed(1)}k`)
console.log(
  `node ${process.version}, ${process.arch}; CPU ns per call, fastest of 5 rounds (lower is better)`,
)
console.log('| input | bytes | detectSqli | C libinjection_sqli | detectXss | C libinjection_xss |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
cases.forEach(([name, input], i) => {
  const sqli = nsPerCall(detectSqli, input)
  const xss = nsPerCall(detectXss, input)
  console.log(
    `| ${name} | ${input.length} | ${fmt(sqli)} | ${fmt(ref?.[2 * i])} | ${fmt(xss)} | ${fmt(ref?.[2 * i + 1])} |`,
  )
})
