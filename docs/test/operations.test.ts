import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { injectOptionsTable } from '@gw/core/config'
import { describe, expect, it } from 'vitest'
import { renderErrorCodesTable } from '../scripts/error-codes.js'

const docs = fileURLToPath(new URL('..', import.meta.url))
const packages = join(docs, '..', 'packages')

function sources(dir: string): string {
  let text = ''
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) text += sources(path)
    else if (/\.[cm]?[jt]s$/.test(entry.name) && !entry.name.includes('.test.'))
      text += readFileSync(path, 'utf8')
  }
  return text
}

describe('docs/operations.md', () => {
  it('lists every error code of every catalogue (regenerate: pnpm --filter @gw/docs docs)', async () => {
    const path = join(docs, 'operations.md')
    const current = readFileSync(path, 'utf8')
    const next = injectOptionsTable(current, 'error-codes', await renderErrorCodesTable())
    if (process.env.UPDATE_DOCS === '1') writeFileSync(path, next)
    expect(current).toBe(next)
    expect(next).toContain('| `GW_ERR_RATE_LIMITED` | 429 |')
  })

  it('lists every metric a gw package defines or reports, each named gw_<area>_<name>_<unit|total>', () => {
    const text = readFileSync(join(docs, 'operations.md'), 'utf8')
    const section = text.slice(text.indexOf('## Metrics'), text.indexOf('### Grafana dashboard'))
    const rows = new Map(
      [...section.matchAll(/^\| `(gw_[a-z0-9_]+)` \| (counter|histogram|gauge) \|/gm)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    )
    const defined = new Set<string>()
    const metricsSource = sources(join(packages, 'metrics', 'src'))
    for (const [, name] of metricsSource.matchAll(/\$\{(?:prefix|p|this\.config\.prefix)\}([a-z0-9_]+)`/g))
      defined.add(`gw_${name}`)
    const others = readdirSync(packages).filter((p) => p !== 'metrics' && p !== 'core')
    for (const pkg of others) {
      const source = sources(join(packages, pkg, 'src'))
      for (const [, kind, raw] of source.matchAll(/\.(count|observe)\('([a-z0-9_]+)'/g)) {
        const base = raw!.replace(/^gw_/, '')
        defined.add(`gw_${base}${kind === 'count' && !base.endsWith('_total') ? '_total' : ''}`)
      }
    }
    expect(defined.size).toBeGreaterThanOrEqual(15)
    expect([...defined].sort()).toEqual([...rows.keys()].sort())
    for (const [name, type] of rows) {
      expect(name, name).toMatch(/^gw_[a-z]+_[a-z0-9]+(_[a-z0-9]+)*$/)
      if (type === 'counter') expect(name, name).toMatch(/_total$/)
      if (type === 'histogram') expect(name, name).toMatch(/_(seconds|bytes)$/)
      if (type === 'gauge') expect(name, name).not.toMatch(/_total$/)
    }
  })
})

describe('docs/grafana/gw-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(join(docs, 'grafana', 'gw-dashboard.json'), 'utf8')) as {
    uid: string
    panels: { type: string; title: string; targets?: { expr: string }[] }[]
  }
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))

  it('has the RED, upstream, rate-limit and cache panels', () => {
    const titles = dashboard.panels.map((p) => p.title)
    for (const title of [
      'Request rate by route',
      'Error ratio by route (5xx)',
      'Latency p50 / p95 / p99 by route',
      'Upstream errors by kind',
      'Rate-limit decisions',
      'Cache hit ratio',
    ])
      expect(titles).toContain(title)
    expect(exprs.length).toBeGreaterThanOrEqual(15)
  })

  it('queries only metrics that the gw packages or prom-client define', () => {
    const metricsSource = sources(join(packages, 'metrics', 'src'))
    const reported = ['ratelimit', 'cache', 'auth', 'security', 'transform']
      .map((p) => sources(join(packages, p, 'src')))
      .join('\n')
    const promClient = dirname(
      createRequire(join(packages, 'metrics', 'package.json')).resolve('prom-client/package.json'),
    )
    const promSource = sources(join(promClient, 'lib'))
    const names = new Set(exprs.flatMap((expr) => expr.match(/\b(?:gw|nodejs|process)_[a-z0-9_]+\b/g) ?? []))
    expect(names.size).toBeGreaterThanOrEqual(10)
    const missing: string[] = []
    for (const name of names) {
      if (!name.startsWith('gw_')) {
        if (!promSource.includes(`'${name}'`)) missing.push(name)
        continue
      }
      const base = name.slice(3).replace(/_(bucket|sum|count)$/, '')
      const family = metricsSource.includes(`}${base}\``) || metricsSource.includes(`'gw_${base}'`)
      const counted = reported.includes(`count('${base.replace(/_total$/, '')}'`)
      if (!family && !counted) missing.push(name)
    }
    expect(missing).toEqual([])
  })
})

describe('docs/grafana/gw-dashboard.json against a real scrape', () => {
  it('uses label names that the scraped series carry', async () => {
    const { createGateway, noopLogger } = await import('@gw/core')
    const { startFakeUpstream } = await import('@gw/core/testing')
    const { createPrometheusTelemetry, instrumentUpstreams, metrics } = await import('@gw/metrics')
    const { rateLimit } = await import('@gw/ratelimit')
    const { cache } = await import('@gw/cache')
    const upstream = await startFakeUpstream((_req, res) => {
      res.setHeader('cache-control', 'public, max-age=60')
      res.end('ok')
    })
    const telemetry = createPrometheusTelemetry({}, { log: noopLogger })
    const upstreams = instrumentUpstreams(
      telemetry,
      { api: { url: upstream.url } },
      { log: noopLogger, via: 'gw' },
    )
    const gateway = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      telemetry,
      upstreams,
      policies: [metrics({ exposition: 'gateway' }), rateLimit({ limit: 3, window: '1m', key: 'ip' })],
      routes: [{ id: 'api', path: '/api/*', upstream: 'api', policies: [cache({})] }],
    })
    await gateway.listen()
    let scrape = ''
    try {
      for (let i = 0; i < 4; i++) await (await fetch(`${gateway.url}/api/item`)).arrayBuffer()
      scrape = await (await fetch(`${gateway.url}/metrics`)).text()
    } finally {
      await gateway.close()
      await upstream.close()
    }
    const series = new Map<string, Set<string>>()
    for (const line of scrape.split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*)\{([^}]*)\}/.exec(line)
      if (!match) continue
      const labels = series.get(match[1]!) ?? new Set<string>()
      for (const [, name] of match[2]!.matchAll(/(\w+)="/g)) labels.add(name!)
      series.set(match[1]!, labels)
    }
    const dashboard = JSON.parse(readFileSync(join(docs, 'grafana', 'gw-dashboard.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[]
    }
    const ignored = new Set(['job', 'instance', 'le'])
    const problems: string[] = []
    let checked = 0
    for (const { expr } of dashboard.panels.flatMap((p) => p.targets ?? [])) {
      const names = (expr.match(/\bgw_[a-z0-9_]+\b/g) ?? []).filter((name) => series.has(name))
      if (names.length === 0) continue
      checked++
      const labels = new Set<string>()
      for (const [, list] of expr.matchAll(/by \(([^)]*)\)/g))
        for (const l of list!.split(',')) labels.add(l.trim())
      for (const [, selector] of expr.matchAll(/\{([^}]*)\}/g))
        for (const [, l] of selector!.matchAll(/(\w+)\s*(?:=~|!=|!~|=)/g)) labels.add(l!)
      for (const label of labels) {
        if (ignored.has(label)) continue
        if (!names.some((name) => series.get(name)?.has(label))) problems.push(`${label} in ${expr}`)
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12)
    expect(problems).toEqual([])
  })
})
