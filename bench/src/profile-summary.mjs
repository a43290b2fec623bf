// Summarises a V8 CPU profile (`node --cpu-prof`) into where the time goes: self time by function and by
// area (node internals by module, undici, gw packages, GC, idle), as a share of the busy (non-idle) samples.
// Usage: node bench/src/profile-summary.mjs <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs'

const [file, topArg] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: node profile-summary.mjs <file.cpuprofile> [top]\n')
  process.exit(2)
}
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfTicks = new Map()
for (const id of profile.samples) selfTicks.set(id, (selfTicks.get(id) ?? 0) + 1)

/** The area a frame belongs to, from its URL. */
function area(frame) {
  const url = frame.url ?? ''
  const name = frame.functionName
  if (url === '') {
    if (name === '(idle)') return '(idle)'
    if (name === '(garbage collector)') return 'garbage collector'
    if (name === '(program)') return '(program: native, not attributed)'
    return `native ${name || '(anonymous)'}`
  }
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:')
  const pkg = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/)
  if (pkg) return pkg[1]
  const gw = url.match(/packages\/([^/]+)\/dist/)
  if (gw) return `@gw/${gw[1]}`
  return url.replace(/^file:\/\//, '')
}

let total = 0
let idle = 0
const fns = new Map()
const areas = new Map()
for (const [id, ticks] of selfTicks) {
  const frame = byId.get(id).callFrame
  const a = area(frame)
  total += ticks
  if (a === '(idle)') {
    idle += ticks
    continue
  }
  const key = `${frame.functionName || '(anonymous)'}  ${a}:${frame.lineNumber + 1}`
  fns.set(key, (fns.get(key) ?? 0) + ticks)
  areas.set(a, (areas.get(a) ?? 0) + ticks)
}
const busy = total - idle
const pct = (n) => `${((n / busy) * 100).toFixed(1).padStart(5)} %`
process.stdout.write(
  `${file}: ${total} samples, ${idle} idle, ${busy} busy (shares below are of busy samples)\n\n`,
)
process.stdout.write('By area (self time):\n')
for (const [a, n] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top))
  process.stdout.write(`${pct(n)}  ${a}\n`)
process.stdout.write('\nBy function (self time):\n')
for (const [f, n] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top))
  process.stdout.write(`${pct(n)}  ${f}\n`)
