import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGateway, type Gateway } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cors, securityHeaders } from '../src/index.js'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) =>
  existsSync(p),
)
const required = process.env.CI === 'true' || process.env.CI === '1'

interface Outcome {
  ok: boolean
  status?: number
  requestId?: string | null
  error?: string
}

/** The page runs every case with fetch() and writes the outcomes as JSON into <pre id="out">. */
function page(targets: { allow: string; other: string; star: string }): string {
  const script = `
    const cases = {
      simpleGet: () => fetch('${targets.allow}/api/items'),
      preflightedPut: () => fetch('${targets.allow}/api/items', { method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: '{}' }),
      credentialedGet: () => fetch('${targets.allow}/api/items', { credentials: 'include' }),
      gatewayNotFound: () => fetch('${targets.allow}/nope'),
      methodNotAllowed: () => fetch('${targets.allow}/api/items', { method: 'PATCH' }),
      headerNotAllowed: () => fetch('${targets.allow}/api/items', { headers: { 'x-secret': '1' } }),
      otherOriginOnly: () => fetch('${targets.other}/api/items'),
      starWithoutCredentials: () => fetch('${targets.star}/api/items'),
      starWithCredentials: () => fetch('${targets.star}/api/items', { credentials: 'include' }),
    }
    const out = {}
    ;(async () => {
      for (const [name, run] of Object.entries(cases)) {
        try {
          const res = await run()
          await res.text()
          out[name] = { ok: true, status: res.status, requestId: res.headers.get('x-request-id') }
        } catch (e) {
          out[name] = { ok: false, error: String(e && e.name) }
        }
      }
      document.getElementById('out').textContent = JSON.stringify(out)
    })()`
  return `<!doctype html><html><body><pre id="out">pending</pre><script>${script}</script></body></html>`
}

function dumpDom(url: string, profile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM!,
      [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        '--virtual-time-budget=10000',
        '--dump-dom',
        url,
      ],
      { timeout: 18_000, maxBuffer: 1024 * 1024 },
      (error, stdout) => (error && stdout === '' ? reject(error) : resolve(stdout)),
    )
  })
}

describe.skipIf(!CHROMIUM && !required)('CORS end to end in headless Chromium', () => {
  let upstream: FakeUpstream
  let pageServer: Server
  let pageOrigin: string
  const gateways: Gateway[] = []
  let profile: string

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('chromium is required under CI (Debian package `chromium`)')
    profile = mkdtempSync(join(tmpdir(), 'gw-security-chromium-'))
    upstream = await startFakeUpstream()
    pageServer = createServer()
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve))
    pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`
    const make = async (policy: ReturnType<typeof cors>) => {
      const gw = await createGateway({
        upstreams: { api: { url: upstream.url } },
        policies: [securityHeaders(), policy],
        routes: [{ path: '/api/*', upstream: 'api', methods: ['GET', 'PUT'] }],
      })
      const { port } = await gw.listen({ port: 0, host: '127.0.0.1' })
      gateways.push(gw)
      return `http://localhost:${port}`
    }
    const allow = await make(
      cors({ origins: [pageOrigin], credentials: true, exposedHeaders: ['x-request-id'] }),
    )
    const other = await make(cors({ origins: ['https://other.example'] }))
    const star = await make(cors({ origins: '*' }))
    const html = page({ allow, other, star })
    pageServer.on('request', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(html)
    })
  })

  afterAll(async () => {
    for (const gw of gateways) await gw.close()
    await upstream?.close()
    await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()))
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('lets the browser read allowed responses and blocks the rest', async () => {
    const dom = await dumpDom(`${pageOrigin}/`, profile)
    const json = /<pre id="out">(.*?)<\/pre>/s.exec(dom)?.[1]
    expect(json, dom.slice(0, 500)).toBeDefined()
    const out = JSON.parse(json!.replaceAll('&quot;', '"')) as Record<string, Outcome>
    expect(out.simpleGet).toMatchObject({ ok: true, status: 200 })
    expect(out.simpleGet?.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(out.preflightedPut).toMatchObject({ ok: true, status: 200 })
    expect(out.credentialedGet).toMatchObject({ ok: true, status: 200 })
    expect(out.gatewayNotFound).toMatchObject({ ok: true, status: 404 })
    expect(out.methodNotAllowed).toEqual({ ok: false, error: 'TypeError' })
    expect(out.headerNotAllowed).toEqual({ ok: false, error: 'TypeError' })
    expect(out.otherOriginOnly).toEqual({ ok: false, error: 'TypeError' })
    expect(out.starWithoutCredentials).toMatchObject({ ok: true, status: 200 })
    expect(out.starWithoutCredentials?.requestId).toBeNull()
    expect(out.starWithCredentials).toEqual({ ok: false, error: 'TypeError' })
    const methods = upstream.requests.map((r) => r.method)
    expect(methods).not.toContain('OPTIONS')
    expect(methods).not.toContain('PATCH')
  })
})
