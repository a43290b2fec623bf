import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  createGateway,
  definePolicy,
  type Gateway,
  type GatewayOptions,
  type Logger,
  type RouteConfig,
} from '../src/index.js'
import { type FakeUpstream, startFakeUpstream } from '../src/testing/index.js'

interface Entry {
  level: string
  obj: unknown
  msg: string | undefined
}
function recordingLogger(entries: Entry[]): Logger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      entries.push({ level, obj, msg })
    }
  const log: Logger = {
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    child: () => log,
  }
  return log
}

const closedTags: string[] = []
const tagged = definePolicy({
  name: 'test-tag',
  stage: 'transform',
  schema: z.object({ tag: z.string() }),
  create(config) {
    return {
      onResponse(_ex, res) {
        res.headers['x-config'] = config.tag
      },
      async close() {
        closedTags.push(config.tag)
      },
    }
  },
})

let counterInstances = 0
const counting = definePolicy({
  name: 'test-counter',
  stage: 'transform',
  schema: z.object({ step: z.number(), pattern: z.instanceof(RegExp).optional() }),
  create(config) {
    counterInstances++
    let count = 0
    return {
      onResponse(_ex, res) {
        count += config.step
        res.headers['x-count'] = String(count)
      },
      async close() {
        closedTags.push(`counter-${config.step}`)
      },
    }
  },
})

const mounting = definePolicy({
  name: 'test-mount',
  stage: 'transform',
  schema: z.object({ reply: z.string() }),
  create(config, setup) {
    setup.admin?.mount('GET', '/test/hello', () => ({ body: { reply: config.reply } }))
    return {}
  },
})

const gateways: Gateway[] = []
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
  closedTags.length = 0
})

describe('gateway.reload', () => {
  let a: FakeUpstream
  let b: FakeUpstream
  let slow: FakeUpstream
  let release: (() => void) | undefined
  let slowArrived: (() => void) | undefined
  beforeAll(async () => {
    a = await startFakeUpstream((_req, res) => {
      res.end('a')
    })
    b = await startFakeUpstream((_req, res) => {
      res.end('b')
    })
    slow = await startFakeUpstream(async (_req, res) => {
      slowArrived?.()
      await new Promise<void>((resolve) => {
        release = resolve
      })
      res.end('slow')
    })
  })
  afterAll(async () => {
    release?.()
    await Promise.all([a.close(), b.close(), slow.close()])
  })

  const config = (generation: number, extra: Partial<GatewayOptions> = {}): GatewayOptions => {
    const routes: RouteConfig[] = [
      { id: 'v', path: '/v', upstream: generation % 2 === 0 ? 'a' : 'b' },
      { id: `only-${generation}`, path: `/only/${generation}`, upstream: 'a' },
    ]
    if (generation === 0) routes.push({ id: 'slow', path: '/slow', upstream: 'slow' })
    return {
      server: { host: '127.0.0.1', port: 0 },
      upstreams: { a: { url: a.url }, b: { url: b.url }, slow: { url: slow.url } },
      policies: [tagged({ tag: `g${generation}` })],
      routes,
      ...extra,
    }
  }

  async function start(options: GatewayOptions): Promise<Gateway> {
    const gw = await createGateway(options)
    gateways.push(gw)
    await gw.listen()
    return gw
  }

  it('reloads 5 times under concurrent keep-alive load with zero failed requests', async () => {
    const gw = await start(config(0))
    const agent = new Agent({ connections: 8, pipelining: 1 })
    const seen: { status: number; body: string; tag: string }[] = []
    let reloading = true
    const client = async (): Promise<void> => {
      for (let i = 0; i < 400 && (reloading || i < 20); i++) {
        const res = await request(`${gw.url}/v`, { dispatcher: agent })
        seen.push({
          status: res.statusCode,
          body: await res.body.text(),
          tag: String(res.headers['x-config']),
        })
      }
    }
    const clients = Array.from({ length: 8 }, client)
    const results = []
    for (let generation = 1; generation <= 5; generation++) {
      await new Promise((resolve) => setTimeout(resolve, 30))
      results.push(await gw.reload(config(generation)))
    }
    reloading = false
    await Promise.all(clients)
    await agent.close()
    expect(seen.length).toBeGreaterThanOrEqual(160)
    expect(seen.filter((r) => r.status !== 200)).toEqual([])
    for (const r of seen) expect(`${r.body}:${r.tag}`).toMatch(/^(a:g[024]|b:g[135])$/)
    expect(new Set(seen.map((r) => r.tag)).size).toBeGreaterThan(1)
    expect(results[4]?.routes).toEqual({ added: ['only-5'], removed: ['only-4'], kept: ['v'] })
    expect(results[4]?.upstreams).toEqual({
      added: [],
      removed: [],
      reused: ['a', 'b', 'slow'],
      replaced: [],
    })
    const last = await fetch(`${gw.url}/v`)
    expect(await last.text()).toBe('b')
    expect((await fetch(`${gw.url}/only/5`)).status).toBe(200)
    expect((await fetch(`${gw.url}/only/4`)).status).toBe(404)
  })

  it('lets an in-flight request finish on the old pipeline, then closes its policies and replaced upstreams', async () => {
    const gw = await start(config(0))
    const oldA = gw.upstreams.get('a')
    const arrived = new Promise<void>((resolve) => {
      slowArrived = resolve
    })
    const inflight = fetch(`${gw.url}/slow`)
    await arrived
    const next = config(1, { upstreams: { a: { url: a.url, maxPending: 77 }, b: { url: b.url } } })
    const result = await gw.reload(next)
    expect(result.upstreams).toEqual({ added: [], removed: ['slow'], reused: ['b'], replaced: ['a'] })
    expect(gw.upstreams.get('a')).not.toBe(oldA)
    expect((await fetch(`${gw.url}/slow`)).status).toBe(404)
    expect(closedTags).toEqual([])
    release?.()
    const res = await inflight
    expect(res.status).toBe(200)
    expect(res.headers.get('x-config')).toBe('g0')
    expect(await res.text()).toBe('slow')
    for (let i = 0; i < 100 && closedTags.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(closedTags).toEqual(['g0'])
    expect((await fetch(`${gw.url}/v`)).headers.get('x-config')).toBe('g1')
  })

  it('reuses policy instances whose route, options and mode are unchanged, so their state survives', async () => {
    counterInstances = 0
    const withCounter = (step: number, generation: number): GatewayOptions => {
      const base = config(generation)
      return {
        ...base,
        routes: base.routes.map((r) => (r.id === 'v' ? { ...r, policies: [counting({ step })] } : r)),
      }
    }
    const gw = await start(withCounter(1, 0))
    const count = async (): Promise<string | null> => (await fetch(`${gw.url}/v`)).headers.get('x-count')
    expect([await count(), await count()]).toEqual(['1', '2'])
    const same = await gw.reload(withCounter(1, 1))
    expect(same.policies).toEqual({ created: 1, reused: 1 })
    expect(await count()).toBe('3')
    expect(counterInstances).toBe(1)
    const changed = await gw.reload(withCounter(5, 2))
    expect(changed.policies).toEqual({ created: 2, reused: 0 })
    expect(await count()).toBe('5')
    expect(counterInstances).toBe(2)
    for (let i = 0; i < 100 && !closedTags.includes('counter-1'); i++)
      await new Promise((r) => setTimeout(r, 10))
    expect(closedTags).toContain('counter-1')
    expect(closedTags).not.toContain('counter-5')

    const entry = counting({ step: 1, pattern: /x/ })
    expect((await gw.reload({ ...config(5), policies: [entry] })).policies.created).toBe(1)
    expect((await gw.reload({ ...config(6), policies: [entry] })).policies).toEqual({ created: 0, reused: 1 })
    expect(
      (await gw.reload({ ...config(7), policies: [counting({ step: 1, pattern: /x/ })] })).policies,
    ).toEqual({
      created: 1,
      reused: 0,
    })
  })

  it('keeps the admin endpoints of reused policies mounted, and swaps those of replaced ones', async () => {
    const key = 'reload-mount-key-0123456789'
    const withMount = (generation: number, reply: string): GatewayOptions => ({
      ...config(generation),
      admin: { port: 0, host: '127.0.0.1', apiKey: key },
      policies: [mounting({ reply })],
    })
    const gw = await start(withMount(0, 'one'))
    const hello = async (): Promise<unknown> =>
      (await fetch(`${gw.adminUrl}/test/hello`, { headers: { 'x-admin-key': key } })).json()
    expect(await hello()).toEqual({ reply: 'one' })
    expect((await gw.reload(withMount(1, 'one'))).policies).toEqual({ created: 0, reused: 1 })
    expect(await hello()).toEqual({ reply: 'one' })
    expect((await gw.reload(withMount(2, 'two'))).policies).toEqual({ created: 1, reused: 0 })
    expect(await hello()).toEqual({ reply: 'two' })
  })

  it('rejects an invalid configuration with its paths, logs it and keeps the old one serving', async () => {
    const entries: Entry[] = []
    const gw = await start({ ...config(0), logger: recordingLogger(entries) })
    const before = gw.upstreams.get('a')
    const bad = config(1)
    bad.routes[0] = { id: 'v', path: '/v', upstream: 'missing' }
    bad.upstreams = { ...bad.upstreams, a: { url: 'not a url' } }
    const error = await gw.reload(bad).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'GW_ERR_CONFIG' })
    const issues = (error as { extensions: { issues: { path: string }[] } }).extensions.issues
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['routes[0].upstream', 'upstreams.a.url']),
    )
    const logged = entries.find((e) => e.level === 'error' && e.msg?.includes('reload rejected'))
    expect(logged).toBeDefined()
    expect((logged!.obj as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain(
      'routes[0].upstream',
    )
    const res = await fetch(`${gw.url}/v`)
    expect(res.headers.get('x-config')).toBe('g0')
    expect(await res.text()).toBe('a')
    expect(gw.upstreams.get('a')).toBe(before)
    expect(closedTags).toEqual([])
    const ok = await gw.reload(config(1))
    expect(ok.routes.added).toEqual(['only-1'])
  })

  it('closes what a failed compile created, not the reused upstreams', async () => {
    const gw = await start(config(0))
    const failing = definePolicy({
      name: 'test-fail',
      stage: 'guard',
      schema: z.object({}),
      create() {
        throw new Error('boom at create')
      },
    })
    const next = config(1, { upstreams: { a: { url: a.url }, b: { url: b.url, maxPending: 77 } } })
    next.policies = [...(next.policies ?? []), failing({})]
    await expect(gw.reload(next)).rejects.toThrow('boom at create')
    expect(closedTags).toEqual(['g1'])
    const res = await fetch(`${gw.url}/v`)
    expect(await res.text()).toBe('a')
    expect(res.headers.get('x-config')).toBe('g0')
  })

  it('reports server and admin changes as restart required and keeps the running values', async () => {
    const entries: Entry[] = []
    const gw = await start({ ...config(0), logger: recordingLogger(entries) })
    const port = new URL(gw.url).port
    const result = await gw.reload(config(1, { server: { host: '127.0.0.1', port: 1, drainTimeout: 5000 } }))
    expect(result.restartRequired).toEqual(['server.port', 'server.drainTimeout'])
    expect(entries.filter((e) => e.msg?.includes('only changes on restart')).map((e) => e.obj)).toEqual([
      { path: 'server.port' },
      { path: 'server.drainTimeout' },
    ])
    expect(new URL(gw.url).port).toBe(port)
    expect(gw.serverConfig.port).toBe(0)
    expect(await (await fetch(`${gw.url}/v`)).text()).toBe('b')
  })

  it('reloads through POST /reload on the admin listener: 200 with the changes, 422 with issue paths', async () => {
    const key = 'reload-admin-key-0123456789'
    let generation = 0
    let broken = false
    const source = () => {
      const next = config(++generation, { admin: { port: 0, apiKey: key } })
      if (broken) next.routes[0] = { id: 'v', path: '/v', upstream: 'nowhere' }
      return next
    }
    const gw = await start({ ...config(0), admin: { port: 0, apiKey: key }, reloadSource: source })
    const post = () => fetch(`${gw.adminUrl}/reload`, { method: 'POST', headers: { 'x-admin-key': key } })
    const ok = await post()
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({
      reloaded: true,
      routes: { added: ['only-1'], removed: ['only-0', 'slow'], kept: ['v'] },
      restartRequired: [],
    })
    expect(await (await fetch(`${gw.url}/v`)).text()).toBe('b')
    broken = true
    const bad = await post()
    expect(bad.status).toBe(422)
    expect(bad.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await bad.json()) as { code: string; issues: { path: string; message: string }[] }
    expect(problem.code).toBe('GW_ERR_RELOAD_INVALID')
    expect(problem.issues).toEqual([
      { path: 'routes[0].upstream', message: "unknown upstream 'nowhere' (defined: a, b, slow)" },
    ])
    expect(await (await fetch(`${gw.url}/v`)).text()).toBe('b')
    const routes = await fetch(`${gw.adminUrl}/routes`, { headers: { 'x-admin-key': key } })
    expect(((await routes.json()) as { routes: { id: string }[] }).routes.map((r) => r.id)).toEqual([
      'v',
      'only-1',
    ])
  })
})
