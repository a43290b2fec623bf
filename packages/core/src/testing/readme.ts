import { readFileSync, writeFileSync } from 'node:fs'
import { expect } from 'vitest'
import type { z } from 'zod'
import { injectOptionsTable, renderOptionsTable } from '../config/options-table.js'

/**
 * The README check every gw package runs: each options table between `<!-- options:NAME -->` and
 * `<!-- /options:NAME -->` must be what `renderOptionsTable` makes of the schema (a missing marker fails). Run
 * with `UPDATE_README=1` to rewrite the tables instead of comparing. Returns the README text.
 *
 * @example
 * ```ts
 * it('options tables match the zod schemas (regenerate with UPDATE_README=1)', () => {
 *   expectOptionsTables(new URL('../README.md', import.meta.url), { cache: cacheSchema })
 * })
 * ```
 */
export function expectOptionsTables(
  readme: URL | string,
  tables: Readonly<Record<string, z.core.$ZodType>>,
): string {
  const current = readFileSync(readme, 'utf8')
  let expected = current
  for (const [name, schema] of Object.entries(tables))
    expected = injectOptionsTable(expected, name, renderOptionsTable(schema))
  if (process.env.UPDATE_README === '1') writeFileSync(readme, expected)
  else expect(current).toBe(expected)
  return expected
}
