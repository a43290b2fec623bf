import { afterEach, describe, expect, it } from 'vitest'
import { createGateway, type Gateway, type GatewayOptions } from '../src/index.js'
import { type FakeUpstream, type FakeUpstreamHandler, startFakeUpstream } from '../src/testing/index.js'
import type { ManagedUpstream } from '../src/upstream/types.js'

const gateways: Gateway[] = []
const servers: FakeUpstream[] = []

async function start(options: GatewayOptions): Promise<Gateway> {
  const gw = await createGateway({ ...options, server: { host: '127.0.0.1', port: 0, ...options.server } })
  gateways.push(gw)
  await gw.listen()
  return gw
}

async function upstreams(n: number, handler?: (i: number) => FakeUpstreamHandler): Promise<FakeUpstream[]> {
  const started = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      startFakeUpstream(
        handler?.(i) ??
          ((_req, res) => {
            res.writeHead(200, { 'content-type': 'text/plain', 'x-target': String(i) })
            res.end(`target-${i}`)
          }),
      ),
    ),
  )
  servers.push(...started)
  return started
}

function managed(gw: Gateway, name = 'svc'): ManagedUpstream {
  return gw.upstreams.get(name) as ManagedUpstream
}

/** Sends `total` GETs with at most `concurrency` in flight; returns the responses in completion order. */
async function load(
  url: string,
  total: number,
  concurrency: number,
  onProgress?: (done: number) => void,
): Promise<{ status: number; target: string | null; body: string }[]> {
  const results: { status: number; target: string | null; body: string }[] = []
  let next = 0
  const worker = async () => {
    while (next < total) {
      next++
      const res = await fetch(url)
      results.push({ status: res.status, target: res.headers.get('x-target'), body: await res.text() })
      onProgress?.(results.length)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return results
}

function tally(results: { target: string | null }[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of results) out[r.target ?? 'none'] = (out[r.target ?? 'none'] ?? 0) + 1
  return out
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => {})))
})

describe('load balancing over real sockets', () => {
  it('round-robins across three targets', async () => {
    const ups = await upstreams(3)
    const gw = await start({
      upstreams: { svc: { targets: ups.map((u) => ({ url: u.url })) } },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const results = await load(`${gw.url}/x`, 30, 1)
    expect(tally(results)).toEqual({ 0: 10, 1: 10, 2: 10 })
  })

  it('splits by weight with smooth weighted round-robin', async () => {
    const ups = await upstreams(2)
    const gw = await start({
      upstreams: {
        svc: {
          targets: [
            { url: ups[0]!.url, weight: 3 },
            { url: ups[1]!.url, weight: 1 },
          ],
          balancer: { type: 'weighted-round-robin' },
        },
      },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    expect(tally(await load(`${gw.url}/x`, 40, 1))).toEqual({ 0: 30, 1: 10 })
  })

  it('keeps a client on one target with consistent hashing by header', async () => {
    const ups = await upstreams(3)
    const gw = await start({
      upstreams: {
        svc: {
          targets: ups.map((u) => ({ url: u.url })),
          balancer: {
            type: 'consistent-hash',
            key: { source: 'header', name: 'X-User' },
            algorithm: 'maglev',
          },
        },
      },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const seen = new Map<string, Set<string | null>>()
    for (let i = 0; i < 60; i++) {
      const user = `user-${i % 12}`
      const res = await fetch(`${gw.url}/x`, { headers: { 'x-user': user } })
      await res.text()
      if (!seen.has(user)) seen.set(user, new Set())
      seen.get(user)!.add(res.headers.get('x-target'))
    }
    for (const targets of seen.values()) expect(targets.size).toBe(1)
    const used = new Set([...seen.values()].flatMap((s) => [...s]))
    expect(used.size).toBeGreaterThan(1)
  })

  it('adds and removes targets at runtime without dropping in-flight requests', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const ups = await upstreams(3, (i) => async (req, res) => {
      if (req.url === '/slow') await held
      res.writeHead(200, { 'x-target': String(i) })
      res.end(`target-${i}`)
    })
    const gw = await start({
      upstreams: { svc: { url: ups[0]!.url } },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const svc = managed(gw)
    const slow = fetch(`${gw.url}/slow`)
    while (ups[0]!.requests.length === 0) await delay(5)
    svc.setTargets([{ url: ups[1]!.url }, { url: ups[2]!.url }])
    expect(svc.targets().map((t) => t.url)).toEqual([ups[1]!.url, ups[2]!.url])
    expect(tally(await load(`${gw.url}/x`, 10, 1))).toEqual({ 1: 5, 2: 5 })
    release()
    const res = await slow
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('target-0')
    svc.removeTarget(ups[1]!.url)
    svc.addTarget({ url: ups[0]!.url, weight: 1 })
    expect(tally(await load(`${gw.url}/x`, 10, 1))).toEqual({ 0: 5, 2: 5 })
  })
})

describe('chaos: failures under load', () => {
  it('three targets, one killed under load: every idempotent GET succeeds through retries', async () => {
    const ups = await upstreams(3, (i) => async (_req, res) => {
      await delay(2)
      res.writeHead(200, { 'x-target': String(i) })
      res.end(`target-${i}`)
    })
    const gw = await start({
      upstreams: {
        svc: {
          targets: ups.map((u) => ({ url: u.url })),
          retries: 2,
          retryBackoff: 5,
          outlierDetection: { consecutiveFailures: 2, baseEjectionTime: '30s' },
        },
      },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    let killed: Promise<void> | undefined
    const results = await load(`${gw.url}/x`, 600, 24, (done) => {
      if (done === 150) killed = ups[1]!.close()
    })
    await killed
    expect(results.filter((r) => r.status !== 200)).toEqual([])
    expect(results).toHaveLength(600)
    const counts = tally(results)
    expect(counts[0]! + counts[2]!).toBeGreaterThan(400)
    const status = managed(gw).targets()
    expect(status[1]).toMatchObject({ ejected: true })
  })

  it('one target made slow: p2c-ewma shifts traffic away from it', async () => {
    const ups = await upstreams(3, (i) => async (_req, res) => {
      if (i === 2) await delay(200)
      res.writeHead(200, { 'x-target': String(i) })
      res.end(`target-${i}`)
    })
    const gw = await start({
      upstreams: { svc: { targets: ups.map((u) => ({ url: u.url })), balancer: { type: 'p2c-ewma' } } },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const counts = tally(await load(`${gw.url}/x`, 300, 8))
    expect(counts[2] ?? 0).toBeLessThan(300 * 0.12)
    expect(counts[0]).toBeGreaterThan(100)
    expect(counts[1]).toBeGreaterThan(100)
  })

  it('with round-robin the same slow target still gets its third (the contrast)', async () => {
    const ups = await upstreams(3, (i) => async (_req, res) => {
      if (i === 2) await delay(20)
      res.writeHead(200, { 'x-target': String(i) })
      res.end(`target-${i}`)
    })
    const gw = await start({
      upstreams: { svc: { targets: ups.map((u) => ({ url: u.url })) } },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    expect(tally(await load(`${gw.url}/x`, 60, 1))).toEqual({ 0: 20, 1: 20, 2: 20 })
  })
})

describe('retries', () => {
  it('retries a 503 on another target; POST is not retried', async () => {
    const ups = await upstreams(2, (i) => (_req, res) => {
      res.writeHead(i === 0 ? 503 : 200, { 'x-target': String(i) })
      res.end(`target-${i}`)
    })
    const gw = await start({
      upstreams: { svc: { targets: ups.map((u) => ({ url: u.url })), retries: 1, retryBackoff: 1 } },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const results = await load(`${gw.url}/x`, 20, 1)
    expect(tally(results)).toEqual({ 1: 20 })
    expect(ups[0]!.requests.length).toBe(10)
    const posts = await Promise.all(
      Array.from(
        { length: 4 },
        async () => (await fetch(`${gw.url}/x`, { method: 'POST', body: 'a' })).status,
      ),
    )
    expect(posts.sort()).toEqual([200, 200, 503, 503])
  })

  it('retries a non-idempotent buffered request only when the route opts in', async () => {
    const ups = await upstreams(2, (i) => (_req, res) => {
      res.writeHead(i === 0 ? 502 : 200, { 'x-target': String(i) })
      res.end(`target-${i}`)
    })
    const gw = await start({
      upstreams: { svc: { targets: ups.map((u) => ({ url: u.url })), retries: 1, retryBackoff: 1 } },
      routes: [{ path: '/*', upstream: 'svc', retryNonIdempotent: true }],
    })
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${gw.url}/x`, { method: 'POST' })).status)
    expect(statuses).toEqual([200, 200, 200, 200])
  })

  it('stops retrying when the retry budget is spent', async () => {
    const ups = await upstreams(1, () => (_req, res) => {
      res.writeHead(503)
      res.end()
    })
    const gw = await start({
      upstreams: {
        svc: {
          url: ups[0]!.url,
          retry: { attempts: 3, backoff: 1, budget: { ratio: 0, minPerSecond: 0.2 } },
        },
      },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    for (let i = 0; i < 10; i++) expect((await fetch(`${gw.url}/x`)).status).toBe(503)
    expect(ups[0]!.requests.length).toBe(12)
  })

  it('applies a per-try timeout and retries the next target', async () => {
    const ups = await upstreams(2, (i) => async (_req, res) => {
      if (i === 0) await delay(2000)
      res.writeHead(200, { 'x-target': String(i) })
      res.end(`target-${i}`)
    })
    const gw = await start({
      upstreams: {
        svc: {
          targets: ups.map((u) => ({ url: u.url })),
          retry: { attempts: 1, perTryTimeout: 100, retryOn: ['timeout'], backoff: 1 },
        },
      },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const results = await load(`${gw.url}/x`, 4, 1)
    expect(tally(results)).toEqual({ 1: 4 })
    const noRetry = await start({
      upstreams: { svc: { url: ups[0]!.url, retry: { perTryTimeout: 100 } } },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const res = await fetch(`${noRetry.url}/x`)
    expect(res.status).toBe(504)
    expect(((await res.json()) as { code: string }).code).toBe('GW_ERR_UPSTREAM_TIMEOUT')
  })
})

describe('health, ejection, circuit breaking and concurrency caps', () => {
  it('ejects a target that keeps failing and sends it nothing while ejected', async () => {
    const ups = await upstreams(3, (i) => (_req, res) => {
      res.writeHead(i === 0 ? 500 : 200, { 'x-target': String(i) })
      res.end()
    })
    const gw = await start({
      upstreams: {
        svc: {
          targets: ups.map((u) => ({ url: u.url })),
          outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '60s' },
        },
      },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const results = await load(`${gw.url}/x`, 60, 1)
    expect(ups[0]!.requests.length).toBe(3)
    expect(results.filter((r) => r.status === 500)).toHaveLength(3)
    expect(managed(gw).targets()[0]).toMatchObject({ ejected: true })
  })

  it('takes a target out on failed health checks and answers 503 with Retry-After when none is left', async () => {
    const healthy = [true, true]
    const ups = await upstreams(2, (i) => (req, res) => {
      if (req.url === '/healthz') res.writeHead(healthy[i] ? 200 : 503)
      else res.writeHead(200, { 'x-target': String(i) })
      res.end()
    })
    const gw = await start({
      upstreams: {
        svc: {
          targets: ups.map((u) => ({ url: u.url })),
          healthCheck: { path: '/healthz', interval: '1h', unhealthyThreshold: 2, healthyThreshold: 1 },
        },
      },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const svc = managed(gw)
    await svc.checkHealth()
    healthy[0] = false
    await svc.checkHealth()
    expect(svc.targets()[0]!.healthy).toBe(true)
    await svc.checkHealth()
    expect(svc.targets()[0]!.healthy).toBe(false)
    expect(tally(await load(`${gw.url}/x`, 6, 1))).toEqual({ 1: 6 })
    healthy[1] = false
    await svc.checkHealth()
    await svc.checkHealth()
    const res = await fetch(`${gw.url}/x`)
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('retry-after')).toBe('3600')
    expect(((await res.json()) as { code: string }).code).toBe('GW_ERR_NO_HEALTHY_TARGET')
    healthy[0] = true
    await svc.checkHealth()
    expect(tally(await load(`${gw.url}/x`, 4, 1))).toEqual({ 0: 4 })
    const probes = ups[0]!.requests.filter((r) => r.url === '/healthz')
    expect(probes[0]!.headers['user-agent']).toBe('gw-health-check')
  })

  it('opens the circuit breaker on a failure rate and answers 503 at once with Retry-After', async () => {
    const ups = await upstreams(1, () => (_req, res) => {
      res.writeHead(500)
      res.end()
    })
    const gw = await start({
      upstreams: {
        svc: {
          url: ups[0]!.url,
          circuitBreaker: { minimumRequests: 5, failureRate: 0.5, openDuration: '20s' },
        },
      },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    for (let i = 0; i < 5; i++) expect((await fetch(`${gw.url}/x`)).status).toBe(500)
    expect(managed(gw).circuitState).toBe('open')
    const res = await fetch(`${gw.url}/x`)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('20')
    expect(((await res.json()) as { code: string }).code).toBe('GW_ERR_CIRCUIT_OPEN')
    expect(ups[0]!.requests.length).toBe(5)
  })

  it('caps pending requests per upstream with 503 and Retry-After', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const ups = await upstreams(1, () => async (_req, res) => {
      await held
      res.writeHead(200)
      res.end('ok')
    })
    const gw = await start({
      upstreams: { svc: { url: ups[0]!.url, maxPending: 2 } },
      routes: [{ path: '/*', upstream: 'svc' }],
    })
    const first = [fetch(`${gw.url}/a`), fetch(`${gw.url}/b`)]
    while (ups[0]!.requests.length < 2) await delay(5)
    const rejected = await fetch(`${gw.url}/c`)
    expect(rejected.status).toBe(503)
    expect(rejected.headers.get('retry-after')).toBe('1')
    expect(((await rejected.json()) as { code: string }).code).toBe('GW_ERR_UPSTREAM_OVERLOADED')
    release()
    for (const res of await Promise.all(first)) expect(await res.text()).toBe('ok')
    const after = await fetch(`${gw.url}/d`)
    expect(after.status).toBe(200)
    await after.text()
  })
})
