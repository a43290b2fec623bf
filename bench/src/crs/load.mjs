// Throughput of the plain gw proxy vs the same gateway with attack-filter (CRS v4, PL1, defaults) in the same run:
// a GET with 3 query arguments and 10 browser-like headers (identical requests, and unique argument values per
// request). Also reports the gateway process's CPU time per request, which a busy machine distorts less than req/s.
// Run: pnpm --filter @gw/bench bench:crs-load   (build @gw/security first). DURATION=10 (seconds per run).
import { fork } from 'node:child_process'
import os from 'node:os'
import autocannon from 'autocannon'
import { BROWSER_HEADERS, cookie, getPath } from './requests.mjs'

const DURATION = Number(process.env.DURATION ?? 10)
const child = fork(new URL('./load-server.mjs', import.meta.url))
const ports = await new Promise((r) => child.once('message', r))
const cpu = () =>
  new Promise((r) => {
    child.once('message', (m) => r(m.cpu))
    child.send('cpu')
  })

async function run(name, port, vary) {
  let i = 0
  const before = await cpu()
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 32,
    duration: DURATION,
    requests: [
      {
        setupRequest: (req) => {
          i++
          return { ...req, method: 'GET', path: getPath(i, vary), headers: { ...BROWSER_HEADERS, cookie: cookie(i, vary) } }
        },
      },
    ],
  })
  const after = await cpu()
  const us = (after.user + after.system - before.user - before.system) / Math.max(1, result.requests.total)
  const non2xx = result.non2xx
  console.log(
    `| ${name} | ${vary ? 'unique' : 'identical'} | ${result.requests.average.toFixed(0)} | ${us.toFixed(0)} | ${non2xx} | ${os.loadavg()[0].toFixed(1)} |`,
  )
  return result.requests.average
}

console.log('| gateway | values | req/s | gateway CPU us/request | non-2xx | load avg |\n| --- | --- | --- | --- | --- | --- |')
for (const vary of [false, true]) {
  const plain = await run('plain proxy', ports.plain, vary)
  const crs = await run('attack-filter CRS PL1', ports.crs, vary)
  console.log(`| ratio | ${vary ? 'unique' : 'identical'} | ${((100 * crs) / plain).toFixed(0)} % of plain | | | |`)
}
child.send('exit')
