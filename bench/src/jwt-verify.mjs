// Uncached HS256 verification, in one process, three ways, with each library's defaults:
// - jose `jwtVerify` (what @gw/auth used for every algorithm before),
// - @gw/auth's `jwt` policy with its verified-token cache off (its synchronous node:crypto HMAC path; the
//   handler also reads the header, builds the principal and records nothing else),
// - fast-jwt `createVerifier` (what @fastify/jwt uses; its cache is off by default).
// Each contender verifies the same valid token for `--seconds` per round; rounds rotate the order and the
// median ops/s per contender is reported. Build first: pnpm turbo run build --filter=@gw/auth...
//
//   node src/jwt-verify.mjs [--seconds 2] [--rounds 5]
import { createHmac, createSecretKey } from 'node:crypto'
import { parseArgs } from 'node:util'
import { createManualClock, createTestExchange } from '@gw/core/testing'
import { createVerifier } from 'fast-jwt'
import { jwtVerify } from 'jose'

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '2' }, rounds: { type: 'string', default: '5' } },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)

const { jwt } = await import(new URL('../../packages/auth/dist/index.js', import.meta.url).href)

const secret = 'bench-secret-0123456789-0123456789-0123456789'
const now = Math.floor(Date.now() / 1000)
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'bench-user', scope: 'read', iat: now, exp: now + 86_400 })}`
const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`

const key = createSecretKey(Buffer.from(secret))
const fast = createVerifier({ key: secret, algorithms: ['HS256'] })
const clock = createManualClock(Date.now())
const entry = jwt({ algorithms: ['HS256'], secret, audit: 'failures', cache: { enabled: false } })
const handlers = await entry.definition.create(entry.options, {
  policy: 'jwt',
  routeId: 'bench',
  mode: 'enforce',
  log: { child: () => undefined, info() {}, warn() {}, error() {}, debug() {} },
  clock,
  telemetry: { enabled: false, decision() {}, count() {}, observe() {} },
  need: () => {
    throw new Error('no resources')
  },
  has: () => false,
})
const ex = createTestExchange({ headers: { authorization: `Bearer ${token}` } }, { clock })

const contenders = {
  'jose 6 jwtVerify': async () => {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] })
    if (payload.sub !== 'bench-user') throw new Error('jose: wrong payload')
  },
  '@gw/auth jwt policy, cache off': () => {
    const verdict = handlers.onRequest(ex)
    if (verdict !== undefined) throw new Error('gw: expected a synchronous accept')
  },
  'fast-jwt 6 createVerifier': () => {
    if (fast(token).sub !== 'bench-user') throw new Error('fast-jwt: wrong payload')
  },
}

async function measure(run) {
  for (let i = 0; i < 2000; i++) await run()
  const deadline = performance.now() + seconds * 1000
  let ops = 0
  const start = performance.now()
  while (performance.now() < deadline) {
    for (let i = 0; i < 500; i++) {
      const r = run()
      if (r !== undefined) await r
    }
    ops += 500
  }
  return (ops * 1000) / (performance.now() - start)
}

const names = Object.keys(contenders)
const results = Object.fromEntries(names.map((n) => [n, []]))
for (let round = 0; round < rounds; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length])
  for (const name of order) results[name].push(await measure(contenders[name]))
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
const base = median(results['fast-jwt 6 createVerifier'])
console.log(`node ${process.version}, ${rounds} rounds of ${seconds} s, median ops/s (uncached HS256 verification)\n`)
console.log('| contender | ops/s | vs fast-jwt |')
console.log('| --- | ---: | ---: |')
for (const name of names) {
  const m = median(results[name])
  console.log(`| ${name} | ${Math.round(m).toLocaleString('en-US')} | ${((m / base) * 100).toFixed(0)} % |`)
}
