// CPU per request of attack-filter (CRS v4, paranoia 1, default settings): the policy's onRequest on test
// exchanges, measured with process.cpuUsage over many iterations, plus rule compilation time.
// Run: pnpm --filter @gw/bench bench:crs-micro   (build @gw/security first: pnpm turbo run build --filter=@gw/security)
import os from 'node:os'
import { createManualClock, createTestExchange } from '@gw/core/testing'
import { attackFilter } from '@gw/security/attack-filter'
import { BROWSER_HEADERS, cookie, formBody, getPath } from './requests.mjs'

const ITERATIONS = Number(process.env.ITERATIONS ?? 4000)
const setup = {
  policy: 'attack-filter',
  routeId: undefined,
  mode: 'enforce',
  log: { child: () => setup.log, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, trace() {} },
  clock: createManualClock(),
  telemetry: { enabled: false, decision() {}, count() {}, observe() {} },
  need: () => {
    throw new Error('no resources')
  },
  has: () => false,
}

const load = () => os.loadavg()[0].toFixed(2)
const entry = attackFilter({})
let t = process.cpuUsage()
const started = performance.now()
const handlers = await entry.definition.create(entry.options, setup)
const compileMs = performance.now() - started
const compileCpu = process.cpuUsage(t)
console.log(
  `rule compilation (full CRS v4): ${compileMs.toFixed(0)} ms wall, ${((compileCpu.user + compileCpu.system) / 1000).toFixed(0)} ms CPU`,
)

async function measure(label, make) {
  for (let i = 0; i < 500; i++) await run(make(1e6 + i))
  t = process.cpuUsage()
  for (let i = 0; i < ITERATIONS; i++) await run(make(i))
  const used = process.cpuUsage(t)
  console.log(`${label}: ${((used.user + used.system) / ITERATIONS).toFixed(1)} us CPU per request (load average ${load()})`)
}

async function run(ex) {
  const verdict = handlers.onRequest(ex)
  if (verdict instanceof Promise) await verdict
}

for (const vary of [false, true]) {
  const suffix = vary ? 'unique values per request' : 'identical requests'
  await measure(`GET, 3 args, 10 headers, ${suffix}`, (i) =>
    createTestExchange({ url: getPath(i, vary), headers: { ...BROWSER_HEADERS, cookie: cookie(i, vary) } }),
  )
  await measure(`POST 4 KiB form, ${suffix}`, (i) => {
    const body = formBody(i, vary)
    return createTestExchange({
      method: 'POST',
      url: '/api/orders',
      headers: {
        ...BROWSER_HEADERS,
        cookie: cookie(i, vary),
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(body.length),
      },
      body,
    })
  })
}
console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`)
