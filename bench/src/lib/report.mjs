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

function ratio(a, b) {
  if (!a || a.skipped || !b || b.skipped || !a.rps || !b.rps) return null
  return { rps: a.rps / b.rps, p99: a.p99 && b.p99 ? a.p99 / b.p99 : null }
}

function ratioLine(label, [numId, num], [denId, den], r) {
  if (!r) {
    const missing = [
      [numId, num],
      [denId, den],
    ]
      .filter(([, c]) => !c || c.skipped)
      .map(([id]) => id)
    return `- ${label}: n/a (${missing.length > 0 ? missing.join(' and ') + ' not measured' : 'no data'})`
  }
  const p99 = r.p99 === null ? '' : `, p99 latency ×${r.p99.toFixed(2)}`
  return `- ${label}: req/s ×${r.rps.toFixed(2)} (${(r.rps * 100).toFixed(0)} %)${p99}`
}

/** The results section: context line, table, ratios, skipped contenders. */
export function renderMarkdown({ summaries, opts, env }) {
  const byId = Object.fromEntries(summaries.map((s) => [s.id, s]))
  const bare = byId.bare
  const lines = []
  lines.push(
    `Measured ${env.date} on ${env.cpuModel} (${env.cores} cores), Linux ${env.kernel}, Node ${env.node}, ` +
      `autocannon ${env.autocannon}: ${opts.connections} connections, pipelining ${opts.pipelining}, ` +
      `${opts.runs} × ${opts.duration} s runs after a ${opts.warmup} s warm-up per contender` +
      (opts.quick ? ' (quick mode: a smoke test, not a measurement)' : '') +
      '. ' +
      (env.pinned
        ? 'Proxy pinned to core 1; load generator and upstream to core 0.'
        : 'Processes were not pinned (no taskset or --no-pin).'),
  )
  lines.push('')
  lines.push(
    '| Contender | Version | req/s (median) | vs bare | req/s per run | p50 ms | p99 ms | RSS MB | CPU % | Other load % | Errors |',
  )
  lines.push('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const s of summaries) {
    if (s.skipped) {
      lines.push(`| ${s.label} | ${s.version} | skipped | — | — | — | — | — | — | — |`)
      continue
    }
    const vsBare = bare && !bare.skipped && bare.rps ? `${((s.rps / bare.rps) * 100).toFixed(0)} %` : '—'
    const perRun = s.runs.map((r) => fmtInt(r.rps)).join(' / ')
    lines.push(
      `| ${s.label} | ${s.version} | ${fmtInt(s.rps)} | ${vsBare} | ${perRun} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ` +
        `${fmtMb(s.rss)} | ${fmtPct(s.cpu)} | ${fmtPct(s.otherLoad)} | ${s.errors} |`,
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
  lines.push('')
  lines.push(
    ratioLine('gw / bare (Node floor)', ['gw', byId.gw], ['bare', byId.bare], ratio(byId.gw, byId.bare)),
  )
  lines.push(
    ratioLine('gw / fastify', ['gw', byId.gw], ['fastify', byId.fastify], ratio(byId.gw, byId.fastify)),
  )
  const skipped = summaries.filter((s) => s.skipped)
  if (skipped.length > 0) {
    lines.push('')
    lines.push('Skipped in this run:')
    for (const s of skipped) lines.push(`- ${s.id}: ${s.reason}`)
  }
  return lines.join('\n') + '\n'
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
