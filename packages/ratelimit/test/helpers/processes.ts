import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { request } from 'node:http'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const OUT_DIR = join(PACKAGE, 'node_modules', '.cache', 'gw-ratelimit-test')

/** Bundles the gateway fixture (our TypeScript sources inlined, packages external) into a runnable .mjs. */
export function buildGatewayFixture(): string {
  mkdirSync(OUT_DIR, { recursive: true })
  const outfile = join(OUT_DIR, `gateway-process-${process.pid}.mjs`)
  execFileSync(
    join(PACKAGE, 'node_modules', '.bin', 'esbuild'),
    [
      join(PACKAGE, 'test', 'fixtures', 'gateway-process.ts'),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node20',
      '--packages=external',
      `--outfile=${outfile}`,
      '--log-level=warning',
    ],
    { cwd: PACKAGE, stdio: 'pipe' },
  )
  return outfile
}

export interface GatewayProcess {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

export async function startGatewayProcess(
  script: string,
  env: Record<string, string>,
): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: PACKAGE,
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway process did not start in 45 s')), 45_000)
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      resolve((JSON.parse(line) as { port: number }).port)
    })
  })
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      child.stdin?.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** One GET on a fresh connection (no keep-alive reuse races with the server's idle timeout). */
export function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false, headers }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

/** Fires `total` requests at once, spread round-robin over the gateways; returns the statuses. */
export async function burst(
  urls: string[],
  path: string,
  total: number,
  headers: Record<string, string> = {},
) {
  const statuses = await Promise.all(
    Array.from({ length: total }, (_, i) => get(`${urls[i % urls.length]}${path}`, headers)),
  )
  const count = (s: number) => statuses.filter((x) => x === s).length
  const other = statuses.filter((s) => s !== 200 && s !== 429)
  return {
    admitted: count(200),
    limited: count(429),
    other: other.length,
    otherStatuses: [...new Set(other)],
  }
}
