import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SIDECAR_ENV_VARS } from '../src/env.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const section = readme.slice(readme.indexOf('## Environment'), readme.indexOf('## What it does'))
const rows = [...section.matchAll(/^\| `([A-Z_]+)`\s*\| ([^|]+)\|/gm)].map((m) => ({
  name: m[1] as string,
  fallback: (m[2] as string).trim(),
}))

describe('README environment table', () => {
  it('lists exactly the variables the sidecar reads, in the same order', () => {
    expect(rows.map((r) => r.name)).toEqual(Object.keys(SIDECAR_ENV_VARS))
  })

  it('shows the default the code uses', () => {
    for (const row of rows) {
      const fallback = SIDECAR_ENV_VARS[row.name as keyof typeof SIDECAR_ENV_VARS].default
      if (fallback === 'unset' || fallback === 'inferred') expect(row.fallback, row.name).toBe(fallback)
      else expect(row.fallback.replaceAll('`', '').replace(' / ', ' / '), row.name).toBe(fallback)
    }
  })
})
