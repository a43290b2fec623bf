import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { renderConfigurationReference } from '../scripts/configuration-reference.js'

const path = fileURLToPath(new URL('../configuration-reference.md', import.meta.url))

describe('docs/configuration-reference.md', () => {
  it('is what the zod schemas generate (regenerate: pnpm --filter @gw/docs docs)', async () => {
    const generated = await renderConfigurationReference()
    if (process.env.UPDATE_DOCS === '1') writeFileSync(path, generated)
    expect(readFileSync(path, 'utf8')).toBe(generated)
  })

  it('documents every top-level key, policy and option it is generated from', async () => {
    const text = await renderConfigurationReference()
    for (const heading of ['## `server`', '## `upstreams.<name>`', '## `routes[]`', '## `resources`'])
      expect(text).toContain(`\n${heading}\n`)
    for (const row of ['| `port` |', '| `redis.url` |', '| `redis.cluster` |', '| `defaultLabels` |'])
      expect(text).toContain(row)
    for (const policy of ['jwt', 'rate-limit', 'cache', 'compress', 'cors', 'metrics'])
      expect(text).toContain(`\n#### \`${policy}\`\n`)
  })
})
