import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createGateway, definePolicy, type Gateway, type GatewayOptions } from '../src/index.js'
import { noopLogger } from '../src/logger.js'
import { type FakeUpstream, type FakeUpstreamHandler, startFakeUpstream } from '../src/testing/index.js'
import { createUpstream } from '../src/upstream/create-upstream.js'
import type { DnsResolver } from '../src/upstream/dns.js'
import { send, startFront } from './upstream-harness.js'

const gateways: Gateway[] = []
const servers: FakeUpstream[] = []
const cleanups: (() => Promise<unknown>)[] = []

async function start(options: GatewayOptions): Promise<Gateway> {
  const gw = await createGateway({ ...options, server: { host: '127.0.0.1', port: 0, ...options.server } })
  gateways.push(gw)
  await gw.listen()
  return gw
}

async function upstream(handler?: FakeUpstreamHandler): Promise<FakeUpstream> {
  const up = await startFakeUpstream(handler)
  servers.push(up)
  return up
}

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => {})))
  await Promise.all(cleanups.splice(0).map((c) => c()))
})

const named =
  (name: string): FakeUpstreamHandler =>
  (_req, res) => {
    res.writeHead(200, { 'x-served-by': name })
    res.end(name)
  }

describe('traffic split', () => {
  it('splits requests between upstreams by weight, exactly and evenly spaced', async () => {
    const stable = await upstream(named('stable'))
    const canary = await upstream(named('canary'))
    const seen: (string | undefined)[] = []
    const capture = definePolicy({
      name: 'capture-upstream',
      stage: 'observe',
      schema: z.object({}),
      create: () => ({ onComplete: (ex) => void seen.push(ex.route.upstream) }),
    })
    const gw = await start({
      upstreams: { stable: { url: stable.url }, canary: { url: canary.url } },
      routes: [
        {
          path: '/*',
          split: [
            { upstream: 'stable', weight: 3 },
            { upstream: 'canary', weight: 1 },
          ],
          policies: [capture({})],
        },
      ],
    })
    const bodies: string[] = []
    for (let i = 0; i < 40; i++) bodies.push(await (await fetch(`${gw.url}/x`)).text())
    expect(bodies.filter((b) => b === 'stable')).toHaveLength(30)
    expect(bodies.filter((b) => b === 'canary')).toHaveLength(10)
    expect(bodies.slice(0, 8)).toEqual([
      'stable',
      'stable',
      'canary',
      'stable',
      'stable',
      'stable',
      'canary',
      'stable',
    ])
    await expect.poll(() => seen.length).toBe(40)
    expect(seen.filter((u) => u === 'canary')).toHaveLength(10)
  })

  it('rejects a split naming an unknown upstream, or with only zero weights', async () => {
    await expect(
      createGateway({
        upstreams: { a: { url: 'http://127.0.0.1:1' } },
        routes: [{ path: '/*', split: [{ upstream: 'b', weight: 1 }] }],
      }),
    ).rejects.toThrow(/routes\[0\]\.split\[0\]\.upstream: unknown upstream 'b'/)
    await expect(
      createGateway({
        upstreams: { a: { url: 'http://127.0.0.1:1' } },
        routes: [{ path: '/*', split: [{ upstream: 'a', weight: 0 }] }],
      }),
    ).rejects.toThrow(/at least one branch needs a positive weight/)
  })
})

describe('request mirroring', () => {
  it('copies requests to the shadow without delaying the client, and discards its answers', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const primary = await upstream(named('primary'))
    const shadow = await upstream(async (_req, res) => {
      await held
      res.writeHead(500)
      res.end('shadow says no')
    })
    const gw = await start({
      upstreams: { primary: { url: primary.url }, shadow: { url: shadow.url } },
      routes: [{ path: '/*', upstream: 'primary', mirror: { upstream: 'shadow' } }],
    })
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/items/${i}?q=1`, { headers: { 'x-trace': `t${i}` } })
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('primary')
    }
    await expect.poll(() => shadow.requests.length).toBe(5)
    expect(shadow.requests.map((r) => r.url)).toEqual([0, 1, 2, 3, 4].map((i) => `/items/${i}?q=1`))
    expect(shadow.requests[2]!.headers['x-trace']).toBe('t2')
    release()
  })

  it('never fails the client when the shadow is down', async () => {
    const primary = await upstream(named('primary'))
    const gw = await start({
      upstreams: { primary: { url: primary.url }, shadow: { url: 'http://127.0.0.1:1' } },
      routes: [{ path: '/*', upstream: 'primary', mirror: { upstream: 'shadow' } }],
    })
    for (let i = 0; i < 3; i++) expect((await fetch(`${gw.url}/x`)).status).toBe(200)
  })

  it('does not mirror streamed bodies, and honours percent', async () => {
    const primary = await upstream()
    const shadow = await upstream()
    const gw = await start({
      upstreams: { primary: { url: primary.url }, shadow: { url: shadow.url } },
      routes: [
        { path: '/all/*', upstream: 'primary', mirror: { upstream: 'shadow' } },
        { path: '/none/*', upstream: 'primary', mirror: { upstream: 'shadow', percent: 0 } },
      ],
    })
    const post = await fetch(`${gw.url}/all/x`, { method: 'POST', body: 'payload' })
    expect(post.status).toBe(200)
    for (let i = 0; i < 5; i++) await (await fetch(`${gw.url}/none/x`)).text()
    await (await fetch(`${gw.url}/all/y`)).text()
    await expect.poll(() => shadow.requests.length).toBe(1)
    expect(shadow.requests[0]!.url).toBe('/all/y')
    expect(primary.requests).toHaveLength(7)
  })
})

describe('DNS re-resolution', () => {
  async function listen(
    host: string,
    port: number,
    name: string,
    hosts: (IncomingHttpHeaders | undefined)[],
  ) {
    const server: Server = createServer((req, res) => {
      hosts.push(req.headers)
      res.writeHead(200)
      res.end(name)
    })
    server.listen(port, host)
    await once(server, 'listening')
    cleanups.push(() => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    })
    return (server.address() as AddressInfo).port
  }

  it('re-resolves a hostname target and moves traffic to the new addresses, keeping the Host header', async () => {
    const seen: (IncomingHttpHeaders | undefined)[] = []
    const port = await listen('127.0.0.1', 0, 'first', seen)
    await listen('127.0.0.2', port, 'second', seen)
    let addresses = ['127.0.0.1']
    const lookups: string[] = []
    const resolver: DnsResolver = async (host) => {
      lookups.push(host)
      return addresses
    }
    const svc = createUpstream(
      'svc',
      { url: `http://users.internal.test:${port}`, dns: { refresh: '1h', family: 4 } },
      { log: noopLogger, via: 'gw', resolver },
    )
    const front = await startFront(svc)
    cleanups.push(async () => {
      await front.close()
      await svc.close()
    })
    await svc.resolveDns()
    expect(svc.targets().map((t) => t.url)).toEqual([`http://127.0.0.1:${port}`])
    expect((await send(`${front.url}/a`)).body).toBe('first')
    expect(seen[0]!.host).toBe(`users.internal.test:${port}`)
    addresses = ['127.0.0.2']
    await svc.resolveDns()
    expect(svc.targets().map((t) => t.url)).toEqual([`http://127.0.0.2:${port}`])
    expect((await send(`${front.url}/b`)).body).toBe('second')
    addresses = ['127.0.0.1', '127.0.0.2']
    await svc.resolveDns()
    const bodies = [(await send(`${front.url}/c`)).body, (await send(`${front.url}/d`)).body]
    expect(bodies.sort()).toEqual(['first', 'second'])
    expect(lookups.every((h) => h === 'users.internal.test')).toBe(true)
  })

  it('keeps the current targets when resolution fails', async () => {
    let fail = false
    const resolver: DnsResolver = async () => {
      if (fail) throw Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' })
      return ['127.0.0.1']
    }
    const svc = createUpstream(
      'svc',
      { url: 'http://users.internal.test:8080', dns: { refresh: '1h' } },
      { log: noopLogger, via: 'gw', resolver },
    )
    cleanups.push(() => svc.close())
    await svc.resolveDns()
    fail = true
    await svc.resolveDns()
    expect(svc.targets().map((t) => t.url)).toEqual(['http://127.0.0.1:8080'])
  })
})
