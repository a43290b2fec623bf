import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  createGateway,
  definePolicy,
  type Gateway,
  GatewayError,
  type GatewayOptions,
  type GwResponse,
} from '../src/index.js'
import { createTestPipeline, type FakeUpstream, startFakeUpstream } from '../src/testing/index.js'

const gateways: Gateway[] = []
const servers: FakeUpstream[] = []
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function upstream(name: string): Promise<FakeUpstream> {
  const up = await startFakeUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ name, method: req.method, url: req.url, probe: req.headers['x-probe'] ?? null }))
  })
  servers.push(up)
  return up
}

async function text(res: GwResponse): Promise<string> {
  if (typeof res.body === 'string') return res.body
  const chunks: Buffer[] = []
  for await (const chunk of res.body as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/** Answers `/ask/<upstream>/<path>` locally with what core's forwarding got from that upstream. */
const asking = definePolicy({
  name: 'test-ask',
  stage: 'transform',
  schema: z.object({ tag: z.string() }),
  create(_config, setup) {
    const upstreams = setup.need('upstreams')
    return {
      async onRequest(ex) {
        const [, , name, ...rest] = ex.request.path.split('/')
        if (name === undefined) return
        try {
          const res = await upstreams.forward(ex, {
            upstream: name,
            path: `/${rest.join('/')}`,
            headers: { 'x-probe': 'derived' },
          })
          return { respond: { status: 200, headers: {}, body: await text(res) } }
        } catch (error) {
          const code = error instanceof GatewayError ? error.code : 'unknown'
          return { respond: { status: 200, headers: {}, body: JSON.stringify({ error: code }) } }
        }
      },
    }
  },
})

describe('the upstreams resource', () => {
  it('is always present in a gateway and forwards derived requests through core, following reloads', async () => {
    const one = await upstream('one')
    const two = await upstream('two')
    const options = (url: string): GatewayOptions => ({
      server: { host: '127.0.0.1', port: 0 },
      upstreams: { svc: { url } },
      routes: [{ path: '/ask/*', upstream: 'svc', policies: [asking({ tag: 'same' })] }],
    })
    const gw = await createGateway(options(one.url))
    gateways.push(gw)
    await gw.listen()
    const first = await (await fetch(`${gw.url}/ask/svc/items?x=1`, { method: 'POST', body: 'b' })).json()
    expect(first).toEqual({ name: 'one', method: 'GET', url: '/items', probe: 'derived' })
    const result = await gw.reload(options(two.url))
    expect(result.upstreams.replaced).toEqual(['svc'])
    const second = await (await fetch(`${gw.url}/ask/svc/items`)).json()
    expect(second).toEqual({ name: 'two', method: 'GET', url: '/items', probe: 'derived' })
    expect(await (await fetch(`${gw.url}/ask/nope/x`)).json()).toEqual({ error: 'GW_ERR_NO_UPSTREAM' })
  })

  it('cannot be replaced through options.resources, and is not shown in the admin config view', async () => {
    const one = await upstream('one')
    const fake = { has: () => true, forward: () => Promise.reject(new Error('caller-provided')) }
    const gw = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0, apiKey: 'k'.repeat(32) },
      upstreams: { svc: { url: one.url } },
      resources: { upstreams: fake } as GatewayOptions['resources'],
      routes: [{ path: '/ask/*', upstream: 'svc', policies: [asking({ tag: 'x' })] }],
    })
    gateways.push(gw)
    await gw.listen()
    expect(await (await fetch(`${gw.url}/ask/svc/a`)).json()).toMatchObject({ name: 'one' })
    const config = (await (
      await fetch(`${gw.adminUrl}/config`, { headers: { 'x-admin-key': 'k'.repeat(32) } })
    ).json()) as { resources?: unknown }
    expect(config.resources).toBeUndefined()
  })

  it('is present in a test pipeline given upstreams, and missing (a coded start-up error) without', async () => {
    const calls: string[] = []
    const pipeline = await createTestPipeline([asking({ tag: 't' })], {
      upstreams: {
        svc: {
          name: 'svc',
          forward: async (ex) => {
            calls.push(`${ex.request.method} ${ex.upstreamPath} ${String(ex.request.headers['x-probe'])}`)
            return { status: 200, headers: {}, body: '{"ok":true}' }
          },
          close: async () => {},
        },
      },
    })
    const res = await pipeline.run({ url: '/ask/svc/p?q=1', method: 'DELETE' })
    expect(res.text).toBe('{"ok":true}')
    expect(res.upstreamCalls).toBe(0)
    expect(calls).toEqual(['GET /p derived'])
    await pipeline.close()
    await expect(createTestPipeline([asking({ tag: 't' })])).rejects.toMatchObject({
      code: 'GW_ERR_MISSING_RESOURCE',
    })
  })
})
