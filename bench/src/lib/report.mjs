// Turning measurements into the markdown report.
import { readFileSync, writeFileSync } from 'node:fs'

export const DOCS_START = '<!-- bench-results:start -->'
export const DOCS_END = '<!-- bench-results:end -->'

/** Median of the finite numbers in `values` (null when there are none). */
export function median(values) {
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (xs.length === 0) return null
  const mid = Math.floor(xs.length / 2)
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2
}

/** Per-contender summary of its runs. */
export function summarise(result) {
  if (result.skipped) return { ...result }
  const runs = result.runs
  const errors = runs.reduce((n, r) => n + r.errors + r.non2xx, 0)
  return {
    ...result,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.latency.p50)),
    p99: median(runs.map((r) => r.latency.p99)),
    rss: median(runs.map((r) => r.proxyRss)),
    cpuUs: median(runs.map((r) => r.cpuUsPerRequest)),
    heapPerRequest: result.alloc?.bytesPerRequest ?? null,
    cpu: median(runs.map((r) => r.proxyCpuPct)),
    upstreamCpu: median(runs.map((r) => r.upstreamCpuPct)),
    otherLoad: median(runs.map((r) => r.otherLoadPct)),
    errors,
  }
}

const fmtInt = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'))
const fmtMs = (n) => (n === null || n === undefined ? '—' : n < 10 ? n.toFixed(2) : n.toFixed(1))
const fmtMb = (bytes) => (bytes === null || bytes === undefined ? '—' : (bytes / (1024 * 1024)).toFixed(1))
const fmtPct = (n) => (n === null || n === undefined ? '—' : n.toFixed(0))

const fmtBytes = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'))
const fmtUs = (n) => (n === null || n === undefined ? '—' : n.toFixed(1))

function measured(s) {
  return s !== undefined && !s.skipped && s.rps
}

function ratio(a, b) {
  if (!measured(a) || !measured(b)) return null
  return {
    rps: a.rps / b.rps,
    p99: a.p99 && b.p99 ? a.p99 / b.p99 : null,
    rss: a.peakRss && b.peakRss ? a.peakRss / b.peakRss : null,
    cpuUs: a.cpuUs && b.cpuUs ? a.cpuUs / b.cpuUs : null,
  }
}

function ratioLine(label, [numId, num], [denId, den]) {
  const r = ratio(num, den)
  if (!r) {
    const missing = [
      [numId, num],
      [denId, den],
    ]
      .filter(([, c]) => !measured(c))
      .map(([id]) => id)
    return `- ${label}: n/a (${missing.length > 0 ? missing.join(' and ') + ' not measured' : 'no data'})`
  }
  const parts = [`req/s ×${r.rps.toFixed(2)}`]
  if (r.p99 !== null) parts.push(`p99 latency ×${r.p99.toFixed(2)}`)
  if (r.rss !== null) parts.push(`peak RSS ×${r.rss.toFixed(2)}`)
  if (r.cpuUs !== null) parts.push(`CPU per request ×${r.cpuUs.toFixed(2)}`)
  return `- ${label}: ${parts.join(', ')}`
}

/** Ratio lines tracked per scenario (issue 18's targets). */
const RATIOS = {
  'plain-100b': [
    ['gw / floor', 'gw', 'floor'],
    ['gw / fastify', 'gw', 'fastify'],
  ],
  'plain-16k': [
    ['gw / floor', 'gw', 'floor'],
    ['gw / fastify', 'gw', 'fastify'],
  ],
  chain: [
    ['gw chain (cache on) / floor', 'gw-chain', 'floor'],
    ['gw chain (cache on) / fastify chain', 'gw-chain', 'fastify-chain'],
    ['gw chain (cache off) / fastify chain', 'gw-chain-nocache', 'fastify-chain'],
  ],
}

function scenarioTable({ scenario, summaries }, lines) {
  const byId = Object.fromEntries(summaries.map((s) => [s.id, s]))
  const floor = byId.floor
  lines.push(`### ${scenario.title}`)
  lines.push('')
  lines.push(
    '| Contender | Version | req/s (median) | vs floor | req/s per run | p50 ms | p99 ms | peak RSS MB | CPU µs/req | heap B/req | CPU % | Other load % | Errors |',
  )
  lines.push('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const s of summaries) {
    if (s.skipped) {
      lines.push(`| ${s.label} | ${s.version} | skipped | — | — | — | — | — | — | — | — | — | — |`)
      continue
    }
    const vsFloor = measured(floor) ? `${((s.rps / floor.rps) * 100).toFixed(0)} %` : '—'
    const perRun = s.runs.map((r) => fmtInt(r.rps)).join(' / ')
    lines.push(
      `| ${s.label} | ${s.version} | ${fmtInt(s.rps)} | ${vsFloor} | ${perRun} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ` +
        `${fmtMb(s.peakRss)} | ${fmtUs(s.cpuUs)} | ${fmtBytes(s.heapPerRequest)} | ${fmtPct(s.cpu)} | ${fmtPct(s.otherLoad)} | ${s.errors} |`,
    )
  }
  const noisy = summaries.filter((s) => !s.skipped && s.otherLoad !== null && s.otherLoad >= 10)
  if (noisy.length > 0) {
    lines.push('')
    lines.push(
      `Note: other processes used CPU during the runs of ${noisy.map((s) => s.id).join(', ')} ` +
        '(Other load column, % of one core); treat those rows as noisy.',
    )
  }
  const retried = summaries.filter((s) => !s.skipped && s.discardedCount > 0)
  if (retried.length > 0) {
    lines.push('')
    lines.push(
      'Runs disturbed by other processes (run again): ' +
        retried
          .map((s) => {
            const kept = s.runs.filter((r) => r.disturbed).length
            return `${s.id} ${s.discardedCount}` + (kept > 0 ? ` (out of attempts: ${kept} kept anyway)` : '')
          })
          .join(', ') +
        '.',
    )
  }
  const ratios = (RATIOS[scenario.id] ?? []).filter(([, a]) => byId[a] !== undefined)
  if (ratios.length > 0) {
    lines.push('')
    for (const [label, a, b] of ratios) lines.push(ratioLine(label, [a, byId[a]], [b, byId[b]]))
  }
  const skipped = summaries.filter((s) => s.skipped)
  if (skipped.length > 0) {
    lines.push('')
    lines.push('Skipped in this run:')
    for (const s of skipped) lines.push(`- ${s.id}: ${s.reason}`)
  }
  lines.push('')
}

/** The results section: context line, one table per scenario with its ratios, skipped contenders. */
export function renderMarkdown({ scenarios, opts, env }) {
  const lines = []
  lines.push(
    `Measured ${env.date} on ${env.cpuModel} (${env.cores} cores), Linux ${env.kernel}, Node ${env.node}; ` +
      `load: ${env.loadTool}, ${opts.connections} connections, pipelining ${opts.pipelining}; upstream: ${env.upstream}; ` +
      `${opts.runs} × ${opts.duration} s runs after a ${opts.warmup} s warm-up per contender` +
      (opts.allocSeconds > 0 ? `, then ${opts.allocSeconds} s of load for heap B/req` : '') +
      (opts.quick ? ' (quick mode: a smoke test, not a measurement)' : '') +
      '. ' +
      (env.pinned
        ? 'Proxy pinned to core 1; load generator and upstream to core 0.'
        : 'Processes were not pinned (no taskset or --no-pin).'),
  )
  lines.push('')
  for (const scenario of scenarios) scenarioTable(scenario, lines)
  return lines.join('\n')
}

/** Replaces the text between the results markers of the docs page (appends a section if they are missing). */
export function writeDocsSection(docsPath, markdown) {
  const block = `${DOCS_START}\n${markdown}${DOCS_END}`
  let text
  try {
    text = readFileSync(docsPath, 'utf8')
  } catch {
    text = '# Benchmarks\n'
  }
  const start = text.indexOf(DOCS_START)
  const end = text.indexOf(DOCS_END)
  const next =
    start !== -1 && end > start
      ? text.slice(0, start) + block + text.slice(end + DOCS_END.length)
      : text.trimEnd() + '\n\n## Results\n\n' + block + '\n'
  writeFileSync(docsPath, next)
}
