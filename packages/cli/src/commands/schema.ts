import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { configJsonSchema } from '@gw/core/config'
import type { CliContext } from '../run-cli.js'
import { loadRegistry } from './load-registry.js'

/**
 * `gw schema [--out file]`: prints (or writes) the JSON Schema of gateway files for the policies installed
 * here, for editor validation and completion.
 *
 * @example
 * ```ts
 * await runSchema({ io, plugins: [] }, 'gw.schema.json')
 * ```
 */
export async function runSchema(ctx: CliContext, out: string | undefined): Promise<number> {
  const registry = await loadRegistry(ctx)
  const text = `${JSON.stringify(configJsonSchema(registry), null, 2)}\n`
  if (out === undefined) {
    ctx.io.stdout(text)
    return 0
  }
  writeFileSync(resolve(ctx.io.cwd, out), text)
  const names = [...registry.keys()]
  ctx.io.stderr(
    `gw: wrote ${out} (${names.length > 0 ? `policies: ${names.join(', ')}` : 'no policies installed'})\n`,
  )
  return 0
}
