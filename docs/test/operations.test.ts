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
