import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('..', import.meta.url))
export const packages = join(root, '..')
export const cli = join(root, 'dist', 'cli.js')

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

export interface GwOptions {
  env?: Record<string, string>
  cwd?: string
  stdin?: string
}

/** Spawns `node dist/cli.js ...args` with a minimal environment. */
export function spawnGw(args: string[], options: GwOptions = {}): ChildProcess {
  return spawn(process.execPath, [cli, ...args], {
    cwd: options.cwd ?? root,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
}

/** Runs `gw` to completion and collects its output. */
export async function gw(args: string[], options: GwOptions = {}): Promise<Run> {
  const child = spawnGw(args, options)
  if (options.stdin !== undefined) child.stdin?.end(options.stdin)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stdout, stderr }
}

/** Waits for `gw start`'s "listening on" line and returns the URL; rejects if the process exits first. */
export function listening(child: ChildProcess, output: { stderr: string; stdout: string }): Promise<string> {
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString()
  })
  return new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      output.stderr += chunk.toString()
      const match = /gw: listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(output.stderr)
      if (match?.[1]) resolve(match[1])
    })
    child.on('exit', () => reject(new Error(`gw exited early:\n${output.stderr}\n${output.stdout}`)))
  })
}

/**
 * A project directory outside the workspace whose node_modules hold only the given workspace packages
 * (`auth` -> @gw/auth) and, with `ioredis`, the ioredis the policy packages use: what a user's project with
 * those packages installed looks like to `gw`.
 */
export function project(gwPackages: string[], options: { ioredis?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cli-project-'))
  mkdirSync(join(dir, 'node_modules', '@gw'), { recursive: true })
  for (const name of gwPackages)
    symlinkSync(join(packages, name), join(dir, 'node_modules', '@gw', name), 'dir')
  if (options.ioredis) {
    const ioredis = realpathSync(join(packages, 'ratelimit', 'node_modules', 'ioredis'))
    symlinkSync(ioredis, join(dir, 'node_modules', 'ioredis'), 'dir')
  }
  return dir
}

export const noStack = (text: string): boolean => !/^\s+at /m.test(text)
