import { createHash } from 'node:crypto'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { brotliDecompressSync, createGunzip, gunzipSync, gzipSync } from 'node:zlib'
import { createGateway, type Gateway, type PolicyEntry, type Principal, principalKey } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { compress, jsonBody, requestHeaders, responseHeaders, rewrite } from '../src/index.js'

interface Harness {
  gw: Gateway
  upstream: FakeUpstream
}

const open: Harness[] = []

afterEach(async () => {
  for (const { gw, upstream } of open.splice(0)) {
    await gw.close()
    await upstream.close()
  }
})

async function start(
  upstream: FakeUpstream,
  routePolicies: PolicyEntry[],
  gatewayPolicies: PolicyEntry[] = [],
): Promise<Gateway> {
  const gw = await createGateway({
    server: { host: '127.0.0.1', port: 0 },
    upstreams: { api: { url: upstream.url } },
    policies: gatewayPolicies,
    routes: [
      { path: '/api/users/:id', upstream: 'api', policies: routePolicies },
      { path: '/api/*', upstream: 'api', policies: routePolicies },
    ],
  })
  await gw.listen()
  open.push({ gw, upstream })
  return gw
}

const fakeAuth = definePrincipal({
  subject: 'user-7',
  scopes: ['read'],
  claims: { tenant: 'acme' },
  method: 'jwt',
})

function definePrincipal(principal: Principal): PolicyEntry {
  return {
    definition: {
      name: 'fake-auth',
      stage: 'authn',
      schema: { safeParse: (v: unknown) => ({ success: true, data: v }) } as never,
      state: () => ({ provides: [principalKey] }),
      create: () => ({
        onRequest(ex) {
          if (ex.request.headers.authorization === 'Bearer ok') ex.set(principalKey, principal)
        },
      }),
    },
    options: {},
    mode: 'enforce',
    allowOutOfOrder: false,
  }
}

function probe(seen: Readable[]): PolicyEntry {
  return {
    definition: {
      name: 'stream-probe',
      stage: 'transform',
      schema: { safeParse: (v: unknown) => ({ success: true, data: v }) } as never,
      create: () => ({
        onResponse(_ex, res) {
          if (res.body instanceof Readable) seen.push(res.body)
        },
      }),
    },
    options: {},
    mode: 'enforce',
    allowOutOfOrder: false,
  }
}

function get(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('request-headers / response-headers through a gateway', () => {
  it('sends templated request headers upstream and edits response headers', async () => {
    const upstream = await startFakeUpstream((_req, res, recorded) => {
      const body = JSON.stringify(recorded.headers)
      res.writeHead(200, {
        'content-type': 'application/json',
        server: 'upstream/1.0',
        'x-powered-by': 'php',
      })
      res.end(body)
    })
    process.env.GW_TRANSFORM_TEST_REGION = 'eu-west-1'
    const gw = await start(
      upstream,
      [
        requestHeaders({
          set: {
            'x-user-id': '${principal.sub}',
            'x-tenant': '${principal.claims.tenant}',
            'x-request-ref': 'req-${request.id}',
            'x-user-param': '${route.params.id}',
            'x-region': '${env.GW_TRANSFORM_TEST_REGION}',
            'x-anon': '${principal.sub:-anonymous}',
          },
          remove: ['cookie'],
          rename: { 'x-legacy': 'x-modern' },
        }),
        responseHeaders({
          remove: ['server', 'x-powered-by'],
          set: { 'x-served-for': '${principal.sub:-anonymous}' },
          add: { 'cache-control': 'no-store' },
        }),
      ],
      [fakeAuth],
    )
    const res = await fetch(`${gw.url}/api/users/42`, {
      headers: {
        authorization: 'Bearer ok',
        cookie: 'session=secret',
        'x-legacy': 'v1',
        'x-request-id': 'abc-123',
      },
    })
    expect(res.status).toBe(200)
    const seen = (await res.json()) as Record<string, string>
    expect(seen['x-user-id']).toBe('user-7')
    expect(seen['x-tenant']).toBe('acme')
    expect(seen['x-request-ref']).toBe('req-abc-123')
    expect(seen['x-user-param']).toBe('42')
    expect(seen['x-region']).toBe('eu-west-1')
    expect(seen['x-anon']).toBe('user-7')
    expect(seen.cookie).toBeUndefined()
    expect(seen['x-legacy']).toBeUndefined()
    expect(seen['x-modern']).toBe('v1')
    expect(res.headers.get('server')).toBeNull()
    expect(res.headers.get('x-powered-by')).toBeNull()
    expect(res.headers.get('x-served-for')).toBe('user-7')
    expect(res.headers.get('cache-control')).toBe('no-store')

    const anonymous = await fetch(`${gw.url}/api/users/43`)
    const anonSeen = (await anonymous.json()) as Record<string, string>
    expect(anonSeen['x-user-id']).toBeUndefined()
    expect(anonSeen['x-anon']).toBe('anonymous')
    expect(anonymous.headers.get('x-served-for')).toBe('anonymous')
  })
})

describe('rewrite through a gateway', () => {
  it('rewrites path with captures and templates, edits the query, overrides the method', async () => {
    const upstream = await startFakeUpstream()
    const gw = await start(
      upstream,
      [
        rewrite({
          path: {
            pattern: '^/api/users/(?<id>[^/]+)$',
            replacement: '/v2/accounts/$<id>/owner/${principal.sub:-nobody}',
          },
          query: {
            remove: ['debug'],
            rename: { q: 'search' },
            set: { tenant: '${principal.claims.tenant}' },
            add: { page: '1' },
          },
          method: 'POST',
        }),
      ],
      [fakeAuth],
    )
    const res = await fetch(`${gw.url}/api/users/42?q=a%20b&debug=1&page=3`, {
      headers: { authorization: 'Bearer ok' },
    })
    const seen = (await res.json()) as { method: string; url: string }
    expect(seen.method).toBe('POST')
    expect(seen.url).toBe('/v2/accounts/42/owner/user-7?page=3&search=a+b&tenant=acme')
    const other = await fetch(`${gw.url}/api/other/path?debug=1`)
    expect(((await other.json()) as { url: string }).url).toBe('/api/other/path?page=1')
  })
})

describe('json-body through a gateway', () => {
  const big = (bytes: number) => {
    const items: { id: number; name: string; secret: string }[] = []
    let size = 20
    for (let i = 0; size < bytes; i++) {
      const item = { id: i, name: `user-${i}`, secret: 'x'.repeat(40) }
      size += JSON.stringify(item).length + 1
      items.push(item)
    }
    return { data: { items, total: items.length }, internal: true }
  }

  it('maps a 1 MB request and a 1 MB response, fixing Content-Length', async () => {
    const payload = big(1_000_000)
    const upstream = await startFakeUpstream((_req, res, recorded) => {
      if (recorded.method === 'POST') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(`{"data":${recorded.body.toString()}}`)
        return
      }
      const body = gzipSync(JSON.stringify({ data: { user_name: 'ann', passwordHash: 'h', id: 1 }, meta: 1 }))
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-encoding': 'gzip',
        etag: '"v1"',
      })
      res.end(body)
    })
    const gw = await start(upstream, [
      jsonBody({
        limit: 1_048_576,
        request: { unwrap: '/data', omit: ['/total'], set: { '/requestId': '${request.id}' } },
        response: {
          unwrap: '/data',
          omit: ['/passwordHash'],
          rename: { '/user_name': '/userName' },
          wrap: '/result',
        },
      }),
    ])
    const body = JSON.stringify(payload)
    expect(body.length).toBeGreaterThan(999_000)
    const res = await fetch(`${gw.url}/api/users/9`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'rid-1' },
      body,
    })
    expect(res.status).toBe(200)
    const text = await res.text()
    const echoed = (JSON.parse(text) as { result: { items: unknown[]; total?: number; requestId: string } })
      .result
    expect(echoed.items).toHaveLength(payload.data.items.length)
    expect(echoed.total).toBeUndefined()
    expect(echoed.requestId).toBe('rid-1')
    const forwarded = upstream.requests.at(-1)!
    expect(forwarded.headers['content-length']).toBe(String(forwarded.body.length))
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)))

    const mapped = await fetch(`${gw.url}/api/users/1`)
    expect(mapped.headers.get('content-encoding')).toBeNull()
    expect(mapped.headers.get('etag')).toBeNull()
    expect(await mapped.json()).toEqual({ result: { id: 1, userName: 'ann' } })
  })

  it('answers 413 for a request over the limit and 502 for a response over it', async () => {
    const upstream = await startFakeUpstream((_req, res, recorded) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      if (recorded.url.includes('big')) res.end(JSON.stringify(big(300_000)))
      else res.end('{"ok":true}')
    })
    const gw = await start(upstream, [
      jsonBody({ limit: 100_000, request: { omit: ['/internal'] }, response: { omit: ['/internal'] } }),
    ])
    const tooBig = await fetch(`${gw.url}/api/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(big(200_000)),
    })
    expect(tooBig.status).toBe(413)
    expect(((await tooBig.json()) as { code: string }).code).toBe('GW_ERR_BODY_TOO_LARGE')
    expect(upstream.requests).toHaveLength(0)

    const chunked = await fetch(`${gw.url}/api/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Readable.toWeb(Readable.from([Buffer.from(JSON.stringify(big(200_000)))])) as ReadableStream,
      duplex: 'half',
    } as RequestInit)
    expect(chunked.status).toBe(413)

    const tooBigResponse = await fetch(`${gw.url}/api/big`)
    expect(tooBigResponse.status).toBe(502)
    expect(((await tooBigResponse.json()) as { code: string }).code).toBe(
      'GW_ERR_TRANSFORM_RESPONSE_TOO_LARGE',
    )

    const text = await fetch(`${gw.url}/api/x`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(200_000),
    })
    expect(text.status).toBe(200)
    expect(upstream.requests.at(-1)!.body.length).toBe(200_000)
  })
})

describe('compress through a gateway', () => {
  it('streams a 50 MB response compressed with bounded buffers, flat memory and a correct result', async () => {
    const chunkSize = 64 * 1024
    const total = 50 * 1024 * 1024
    const sent = createHash('sha256')
    let produced = 0
    const upstream = await startFakeUpstream(
      async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        async function* generate() {
          let seed = 7
          for (let off = 0; off < total; off += chunkSize) {
            const out = Buffer.allocUnsafe(chunkSize)
            for (let i = 0; i < out.length; i++) {
              seed = (seed * 1103515245 + 12345) & 0x7fffffff
              out[i] = 97 + ((seed >> 16) % 16)
            }
            sent.update(out)
            produced += out.length
            yield out
          }
        }
        await pipeline(Readable.from(generate()), res)
      },
      { recordBodies: false },
    )
    const seen: Readable[] = []
    // probes on both sides of compress: onResponse runs in reverse, so the inner one sees the upstream body
    const gw = await start(upstream, [probe(seen), compress(), probe(seen)])
    const base = process.memoryUsage()
    const baseline = base.heapUsed + base.arrayBuffers
    let peak = 0
    let peakBuffered = 0
    const sampler = setInterval(() => {
      const m = process.memoryUsage()
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - baseline)
      for (const stream of seen)
        peakBuffered = Math.max(
          peakBuffered,
          stream.readableLength + ((stream as unknown as { writableLength?: number }).writableLength ?? 0),
        )
    }, 5)
    const received = createHash('sha256')
    let decompressed = 0
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/api/stream`, { headers: { 'accept-encoding': 'gzip' } }, resolve)
      req.on('error', reject)
      req.end()
    })
    try {
      expect(res.headers['content-encoding']).toBe('gzip')
      expect(res.headers['content-length']).toBeUndefined()
      expect(res.headers.vary).toBe('Accept-Encoding')
      const gunzip = createGunzip()
      gunzip.on('data', (c: Buffer) => {
        decompressed += c.length
        received.update(c)
      })
      await pipeline(res, gunzip)
    } finally {
      clearInterval(sampler)
    }
    expect(seen).toHaveLength(2)
    expect(seen[0]).not.toBe(seen[1])
    expect(produced).toBe(total)
    expect(decompressed).toBe(total)
    expect(received.digest('hex')).toBe(sent.digest('hex'))
    // never more than a few stream buffers in flight inside the gateway, and no 50 MB in the heap
    expect(peakBuffered).toBeLessThan(1024 * 1024)
    expect(peak).toBeLessThan(48 * 1024 * 1024)
  })

  it('negotiates br and gzip, honours no-transform, thresholds and HEAD', async () => {
    const json = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ i, name: `item-${i}` })) })
    const upstream = await startFakeUpstream((req, res) => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(json)),
        etag: '"abc"',
      }
      if (req.url?.includes('no-transform')) headers['cache-control'] = 'public, no-transform'
      if (req.url?.includes('small')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' })
        res.end('{}')
        return
      }
      res.writeHead(200, headers)
      res.end(req.method === 'HEAD' ? undefined : json)
    })
    const gw = await start(upstream, [compress()])
    const br = await get(`${gw.url}/api/x`, { 'accept-encoding': 'gzip;q=0.8, br' })
    expect(br.res.headers['content-encoding']).toBe('br')
    expect(br.res.headers.etag).toBe('W/"abc"')
    expect(br.res.headers['content-length']).toBeUndefined()
    expect(brotliDecompressSync(br.body).toString()).toBe(json)

    const gz = await get(`${gw.url}/api/x`, { 'accept-encoding': 'gzip, br;q=0' })
    expect(gz.res.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.body).toString()).toBe(json)

    const none = await get(`${gw.url}/api/x`, { 'accept-encoding': 'identity' })
    expect(none.res.headers['content-encoding']).toBeUndefined()
    expect(none.res.headers.vary).toBe('Accept-Encoding')
    expect(none.body.toString()).toBe(json)

    const noTransform = await get(`${gw.url}/api/no-transform`, { 'accept-encoding': 'gzip' })
    expect(noTransform.res.headers['content-encoding']).toBeUndefined()
    expect(noTransform.res.headers.etag).toBe('"abc"')
    expect(noTransform.body.toString()).toBe(json)

    const clientNoTransform = await get(`${gw.url}/api/x`, {
      'accept-encoding': 'gzip',
      'cache-control': 'no-transform',
    })
    expect(clientNoTransform.res.headers['content-encoding']).toBeUndefined()

    const small = await get(`${gw.url}/api/small`, { 'accept-encoding': 'gzip' })
    expect(small.res.headers['content-encoding']).toBeUndefined()
    expect(small.body.toString()).toBe('{}')

    const head = await get(`${gw.url}/api/x`, { 'accept-encoding': 'gzip' }, 'HEAD')
    expect(head.res.headers['content-encoding']).toBeUndefined()
    expect(head.res.headers['content-length']).toBe(String(Buffer.byteLength(json)))
  })

  it('compresses after json-body mapped the response when listed first', async () => {
    const upstream = await startFakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ data: { text: 'y'.repeat(5000), secret: 's' } }))
    })
    const gw = await start(upstream, [
      compress(),
      jsonBody({ response: { unwrap: '/data', omit: ['/secret'] } }),
    ])
    const res = await get(`${gw.url}/api/x`, { 'accept-encoding': 'gzip' })
    expect(res.res.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(gunzipSync(res.body).toString())).toEqual({ text: 'y'.repeat(5000) })
  })
})
