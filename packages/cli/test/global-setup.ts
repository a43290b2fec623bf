import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const core = join(root, '..', 'core')

function newest(dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

/** Builds @gw/core (if it has no dist) and the CLI (if dist is older than src): the tests spawn `node dist/cli.js`. */
export default function setup(): void {
  if (!existsSync(join(core, 'dist', 'index.js')) || !existsSync(join(core, 'dist', 'config', 'index.js'))) {
    execFileSync('pnpm', ['run', 'build'], { cwd: core, stdio: 'inherit' })
  }
  const cli = join(root, 'dist', 'cli.js')
  if (!existsSync(cli) || statSync(cli).mtimeMs < newest(join(root, 'src'))) {
    execFileSync('pnpm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
  }
}
