import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { createTestCertificates } from '@gw/core/testing'
import { afterAll, afterEach, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = join(root, 'dist', 'cli.js')
const plugin = './test/fixtures/pid-policy.mjs'
const dir = mkdtempSync(join(tmpdir(), 'gw-cli-reload-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ADMIN_KEY = 'cli-admin-key-0123456789'

function config(label: string, extra = ''): string {
  return `server:
  port: 0
  host: 127.0.0.1
  drainTimeout: 5s
${extra}upstreams:
  nowhere: { url: 'http://127.0.0.1:1' }
routes:
  - id: who
    path: /who
    policies:
      - policy: worker-pid
        options: { label: ${label} }
    upstream: nowhere
`
}

class Gw {
  readonly child: ChildProcess
  stderr = ''
  stdout = ''
  readonly exited: Promise<[number | null]>
  #waiters: (() => void)[] = []
  constructor(args: string[]) {
    this.child = spawn(process.execPath, [cli, ...args, '--plugin', plugin], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.exited = once(this.child, 'exit') as Promise<[number | null]>
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
      this.#wake()
    })
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString()
      this.#wake()
    })
    this.child.once('exit', () => this.#wake())
  }
  #wake(): void {
    for (const w of this.#waiters.splice(0)) w()
  }
  async until<T>(test: () => T | undefined | false | null, what: string, ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms
    for (;;) {
      const value = test()
      if (value !== undefined && value !== false && value !== null) return value
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(
          `timed out waiting for ${what}\nstderr: ${this.stderr}\nstdout: ${this.stdout.slice(-2000)}`,
        )
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }
  count(text: string): number {
    return this.stderr.split(text).length - 1
  }
}

const running: Gw[] = []
afterEach(async () => {
  for (const gw of running.splice(0)) {
    if (gw.child.exitCode === null && gw.child.signalCode === null) {
      for (const m of gw.stderr.matchAll(/worker (\d+)\)/g)) {
        try {
          process.kill(Number(m[1]), 'SIGKILL')
        } catch {}
      }
      gw.child.kill('SIGKILL')
      await gw.exited
    }
  }
})

function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, agent: false, headers: { connection: 'close', ...headers } },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
    req.end()
  })
}
const who = async (url: string) =>
  JSON.parse((await get(`${url}/who`)).body) as { pid: number; label: string }

describe('gw start: reload', () => {
  it('reloads the file on SIGHUP, keeps serving the old config when the new one is invalid, and drains on SIGTERM', async () => {
    const file = join(dir, 'hup.yaml')
    writeFileSync(file, config('one'))
    const gw = new Gw(['start', file])
    running.push(gw)
    const url = await gw.until(() => /listening on (http:\/\/\S+)/.exec(gw.stderr)?.[1], 'listening')
    expect(await who(url)).toMatchObject({ label: 'one', pid: gw.child.pid })

    writeFileSync(file, config('two'))
    gw.child.kill('SIGHUP')
    await gw.until(() => gw.count('gw: reloaded') === 1, 'the reload')
    expect(await who(url)).toMatchObject({ label: 'two' })

    writeFileSync(file, config('three').replace('path: /who', 'path: 42'))
    gw.child.kill('SIGHUP')
    await gw.until(() => gw.stderr.includes('rejected'), 'the rejection')
    expect(gw.stderr).toContain('still serving the previous configuration')
    expect(gw.stderr).toContain('routes[0].path')
    expect(await who(url)).toMatchObject({ label: 'two' })

    gw.child.kill('SIGTERM')
    const [code] = await gw.exited
    expect(code).toBe(0)
  })

  it('re-reads the TLS certificate files on SIGHUP; a broken key keeps the current certificate', async () => {
    const pki = createTestCertificates({ hosts: ['localhost', '127.0.0.1'] })
    try {
      const cert = join(dir, 'tls.crt')
      const key = join(dir, 'tls.key')
      copyFileSync(pki.server.certPath, cert)
      copyFileSync(pki.server.keyPath, key)
      const file = join(dir, 'tls.yaml')
      writeFileSync(file, config('tls', `  tls:\n    cert: ${cert}\n    key: ${key}\n`))
      const gw = new Gw(['start', file])
      running.push(gw)
      const url = await gw.until(() => /listening on (https:\/\/\S+)/.exec(gw.stderr)?.[1], 'listening')
      const peer = () =>
        new Promise<string>((resolve, reject) => {
          const req = httpsRequest(`${url}/who`, { ca: pki.ca.cert, agent: false }, (res) => {
            resolve((res.socket as TLSSocket).getPeerCertificate().fingerprint256)
            res.resume()
          })
          req.on('error', reject)
          req.end()
        })
      const first = await peer()
      const next = pki.issue({ hosts: ['localhost', '127.0.0.1'], commonName: 'renewed' })
      copyFileSync(next.certPath, cert)
      copyFileSync(next.keyPath, key)
      gw.child.kill('SIGHUP')
      await gw.until(() => gw.stderr.includes('reloaded the TLS certificates'), 'the certificate reload')
      const renewed = await peer()
      expect(renewed).not.toBe(first)

      writeFileSync(key, 'not a key')
      gw.child.kill('SIGHUP')
      await gw.until(() => gw.stderr.includes('certificate reload failed'), 'the failed certificate reload')
      expect(await peer()).toBe(renewed)
    } finally {
      pki.cleanup()
    }
  })

  it('with --watch reloads when the file changes', async () => {
    const file = join(dir, 'watch.yaml')
    writeFileSync(file, config('before'))
    const gw = new Gw(['start', file, '--watch'])
    running.push(gw)
    const url = await gw.until(() => /listening on (http:\/\/\S+)/.exec(gw.stderr)?.[1], 'listening')
    expect(await who(url)).toMatchObject({ label: 'before' })
    writeFileSync(file, config('after'))
    await gw.until(() => gw.count('gw: reloaded') >= 1, 'the watched reload')
    expect(await who(url)).toMatchObject({ label: 'after' })
  })

  it('reloads through POST /reload on the admin listener of a file config, and reports restart-only changes', async () => {
    const file = join(dir, 'admin.yaml')
    const admin = `admin:\n  port: 0\n  apiKey: ${ADMIN_KEY}\n`
    writeFileSync(file, config('first', admin))
    const gw = new Gw(['start', file])
    running.push(gw)
    const adminUrl = await gw.until(() => /admin (http:\/\/[^;)\s]+)/.exec(gw.stderr)?.[1], 'the admin url')
    const url = /listening on (http:\/\/\S+)/.exec(gw.stderr)?.[1] ?? ''
    expect((await get(`${adminUrl}/reload`, {}, 'POST')).status).toBe(401)
    writeFileSync(file, config('second', admin).replace('drainTimeout: 5s', 'drainTimeout: 6s'))
    const res = await get(`${adminUrl}/reload`, { 'x-admin-key': ADMIN_KEY }, 'POST')
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toMatchObject({ reloaded: true, restartRequired: ['server.drainTimeout'] })
    expect(await who(url)).toMatchObject({ label: 'second' })
    const config2 = JSON.parse(
      (await get(`${adminUrl}/config`, { authorization: `Bearer ${ADMIN_KEY}` })).body,
    )
    expect(config2.admin.apiKey).toBe('[redacted]')
    writeFileSync(file, 'routes: {}\n')
    const bad = await get(`${adminUrl}/reload`, { 'x-admin-key': ADMIN_KEY }, 'POST')
    expect(bad.status).toBe(422)
    expect(JSON.parse(bad.body).issues).toEqual([expect.objectContaining({ path: 'routes' })])
    expect(await who(url)).toMatchObject({ label: 'second' })
  })
})

describe('gw start --workers', () => {
  it('serves from 2 workers, reloads each on SIGHUP and exits 0 on SIGTERM', async () => {
    const file = join(dir, 'workers.yaml')
    writeFileSync(file, config('w1'))
    const gw = new Gw(['start', file, '--workers', '2'])
    running.push(gw)
    await gw.until(() => gw.count('listening on') === 2, 'two workers')
    const url = /listening on (http:\/\/\S+)/.exec(gw.stderr)?.[1] ?? ''
    const workers = [...gw.stderr.matchAll(/worker (\d+)\)/g)].map((m) => Number(m[1]))
    expect(workers).toHaveLength(2)
    expect(workers).not.toContain(gw.child.pid)
    const seen = new Set<number>()
    for (let i = 0; i < 100 && seen.size < 2; i++) seen.add((await who(url)).pid)
    expect([...seen].sort()).toEqual([...workers].sort())

    writeFileSync(file, config('w2'))
    gw.child.kill('SIGHUP')
    await gw.until(() => gw.count('gw: reloaded') === 2, 'both workers reloaded')
    for (let i = 0; i < 6; i++) expect((await who(url)).label).toBe('w2')

    gw.child.kill('SIGTERM')
    const [code] = await gw.exited
    expect(code).toBe(0)
  })

  it('POST /reload on the admin listener reloads every worker, not only the one that answered', async () => {
    const file = join(dir, 'workers-admin.yaml')
    const admin = `admin:\n  port: 0\n  apiKey: ${ADMIN_KEY}\n`
    writeFileSync(file, config('a1', admin))
    const gw = new Gw(['start', file, '--workers', '2'])
    running.push(gw)
    await gw.until(() => gw.count('listening on') === 2, 'two workers')
    const url = /listening on (http:\/\/\S+)/.exec(gw.stderr)?.[1] ?? ''
    const adminUrl = /admin (http:\/\/[^;)\s]+)/.exec(gw.stderr)?.[1] ?? ''
    writeFileSync(file, config('a2', admin))
    const res = await get(`${adminUrl}/reload`, { 'x-admin-key': ADMIN_KEY }, 'POST')
    expect(res.status).toBe(200)
    await gw.until(() => gw.count('gw: reloaded') === 1, 'the other worker reloaded')
    const seen = new Map<number, string>()
    for (let i = 0; i < 100 && seen.size < 2; i++) {
      const answer = await who(url)
      seen.set(answer.pid, answer.label)
    }
    expect([...seen.values()]).toEqual(['a2', 'a2'])
    gw.child.kill('SIGTERM')
    expect((await gw.exited)[0]).toBe(0)
  })

  it('with --watch, the primary turns a file change into a reload of every worker', async () => {
    const file = join(dir, 'workers-watch.yaml')
    writeFileSync(file, config('x1'))
    const gw = new Gw(['start', file, '--workers', '2', '--watch'])
    running.push(gw)
    await gw.until(() => gw.count('listening on') === 2, 'two workers')
    const url = /listening on (http:\/\/\S+)/.exec(gw.stderr)?.[1] ?? ''
    writeFileSync(file, config('x2'))
    await gw.until(() => gw.count('gw: reloaded') === 2, 'both workers reloaded')
    for (let i = 0; i < 6; i++) expect((await who(url)).label).toBe('x2')
  })

  it('takes workers from the file and refuses a bad --workers value', async () => {
    const file = join(dir, 'file-workers.yaml')
    writeFileSync(file, `workers: 2\n${config('f')}`)
    const gw = new Gw(['start', file])
    running.push(gw)
    await gw.until(() => gw.count('listening on') === 2, 'two workers from the file')
    gw.child.kill('SIGTERM')
    expect((await gw.exited)[0]).toBe(0)
    const bad = new Gw(['start', file, '--workers', 'many'])
    running.push(bad)
    expect((await bad.exited)[0]).toBe(2)
    expect(bad.stderr).toContain("--workers must be a positive integer or 'auto'")
  })
})
