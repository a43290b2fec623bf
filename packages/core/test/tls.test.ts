// biome-ignore-all lint/suspicious/noTemplateCurlyInString: gw config text with ${VAR} references
import { once } from 'node:events'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect as h2connect } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect as tlsConnect } from 'node:tls'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { z } from 'zod'
import { createPolicyRegistry, parseConfig, serverSchema, toGatewayOptions } from '../src/config/index.js'
import {
  createGateway,
  definePolicy,
  type Gateway,
  type GatewayOptions,
  noopLogger,
  respond,
} from '../src/index.js'
import { createListener } from '../src/server/listener.js'
import { httpsLocation } from '../src/server/redirect.js'
import {
  createTestCertificates,
  type FakeUpstream,
  startFakeUpstream,
  type TestCertificateAuthority,
} from '../src/testing/index.js'
import { parseRawResponse, rawRequest } from './helpers/raw-http.js'
import { dripHeaders } from './helpers/slowloris.js'

const requireToken = definePolicy({
  name: 'tls-test-token',
  stage: 'authn',
  schema: z.object({ token: z.string().describe('Expected token') }),
  create: ({ token }) => ({
    onRequest: (ex) =>
      ex.request.headers['x-token'] === token ? undefined : respond(401, { error: 'no token' }),
    onResponse: (_ex, res) => {
      res.headers['x-policy'] = 'seen'
    },
  }),
})

interface PeerCertificate {
  subject: { CN?: string }
  subjectaltname?: string
  serialNumber: string
}

function peerCertificate(port: number, servername?: string, alpn = ['h2', 'http/1.1']) {
  return new Promise<{ cert: PeerCertificate; alpn: string | false }>((resolve, reject) => {
    const socket = tlsConnect({
      port,
      host: '127.0.0.1',
      ...(servername === undefined ? {} : { servername }),
      rejectUnauthorized: false,
      ALPNProtocols: alpn,
    })
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate() as unknown as PeerCertificate
      const negotiated = socket.alpnProtocol ?? false
      socket.end()
      resolve({ cert, alpn: negotiated })
    })
    socket.once('error', reject)
  })
}

interface H2Response {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

function h2Request(
  session: ReturnType<typeof h2connect>,
  headers: Record<string, string>,
  body?: Buffer | AsyncIterable<Buffer>,
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined })
    const chunks: Buffer[] = []
    let status = 0
    let responseHeaders: H2Response['headers'] = {}
    stream.on('response', (h) => {
      status = Number(h[':status'])
      responseHeaders = h
    })
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks) }))
    stream.on('error', reject)
    if (Buffer.isBuffer(body)) stream.end(body)
    else if (body !== undefined)
      void (async () => {
        for await (const chunk of body) if (!stream.write(chunk)) await once(stream, 'drain')
        stream.end()
      })()
  })
}

describe('HTTPS and HTTP/2 listener', () => {
  let pki: TestCertificateAuthority
  let upstream: FakeUpstream
  let gw: Gateway
  let plain: Gateway
  let agentH1: Agent
  let agentH2: Agent
  const closeConnectionPolicy = definePolicy({
    name: 'tls-test-close-connection',
    stage: 'observe',
    schema: z.object({}),
    create: () => ({
      onRequest: (ex) => {
        if (ex.request.headers['x-close'] === '1') ex.closeConnection = true
      },
    }),
  })

  const options = (): GatewayOptions => ({
    upstreams: { users: { url: upstream.url } },
    policies: [closeConnectionPolicy({})],
    routes: [
      {
        path: '/api/users/*',
        upstream: 'users',
        stripPrefix: '/api',
        policies: [requireToken({ token: 'secret' })],
      },
      { path: '/open/*', upstream: 'users', stripPrefix: '/open' },
      {
        path: '/proto',
        handler: (ex) => ({
          status: 200,
          headers: {
            'content-type': 'text/plain',
            connection: 'keep-alive',
            'keep-alive': 'timeout=5',
            'transfer-encoding': 'chunked',
          },
          body: `${(ex.request.body as { httpVersion?: string }).httpVersion}:${ex.request.protocol}:${ex.request.host}`,
        }),
      },
    ],
  })

  beforeAll(async () => {
    pki = createTestCertificates({ hosts: ['localhost', '127.0.0.1'] })
    upstream = await startFakeUpstream(async (req, res, recorded) => {
      if (req.url === '/big') {
        const chunk = Buffer.alloc(64 * 1024, 'x')
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        for (let i = 0; i < 64; i++) if (!res.write(chunk)) await once(res, 'drain')
        res.end()
        return
      }
      const body = JSON.stringify({
        method: recorded.method,
        url: recorded.url,
        headers: recorded.headers,
        bodyLength: recorded.body.length,
      })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    })
    gw = await createGateway({
      ...options(),
      server: { host: '127.0.0.1', port: 0, tls: { cert: pki.server.certPath, key: pki.server.keyPath } },
    })
    await gw.listen()
    plain = await createGateway({ ...options(), server: { host: '127.0.0.1', port: 0 } })
    await plain.listen()
    agentH1 = new Agent({ connect: { ca: pki.ca.cert } })
    agentH2 = new Agent({ connect: { ca: pki.ca.cert }, allowH2: true })
  })
  afterAll(async () => {
    await Promise.all([gw?.close(), plain?.close(), agentH1?.close(), agentH2?.close()])
    await upstream?.close()
    pki?.cleanup()
  })

  it('listens on https:// and serves the same routes and policies over HTTPS/1.1, h2 and plain HTTP', async () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    for (const [url, dispatcher] of [
      [plain.url, undefined],
      [gw.url, agentH1],
      [gw.url, agentH2],
    ] as const) {
      const denied = await request(`${url}/api/users/1`, { dispatcher })
      expect(denied.statusCode).toBe(401)
      expect(denied.headers['x-policy']).toBeUndefined()
      await denied.body.dump()
      const ok = await request(`${url}/api/users/1?x=1`, { dispatcher, headers: { 'x-token': 'secret' } })
      expect(ok.statusCode).toBe(200)
      expect(ok.headers['x-policy']).toBe('seen')
      const echoed = (await ok.body.json()) as { url: string; headers: Record<string, string> }
      expect(echoed.url).toBe('/users/1?x=1')
      expect(echoed.headers['x-forwarded-proto']).toBe(url === plain.url ? 'http' : 'https')
      expect(Object.keys(echoed.headers).filter((name) => name.startsWith(':'))).toEqual([])
      expect(echoed.headers.via).toBe(dispatcher === agentH2 ? '2 gw' : '1.1 gw')
    }
  })

  it('negotiates h2 by ALPN and falls back to HTTP/1.1 for h1-only clients', async () => {
    const port = Number(new URL(gw.url).port)
    expect((await peerCertificate(port, 'localhost', ['h2', 'http/1.1'])).alpn).toBe('h2')
    expect((await peerCertificate(port, 'localhost', ['http/1.1'])).alpn).toBe('http/1.1')
    const h2 = await request(`${gw.url}/proto`, { dispatcher: agentH2 })
    expect(await h2.body.text()).toMatch(/^2\.0:https:127\.0\.0\.1:\d+$/)
    const h1 = await request(`${gw.url}/proto`, { dispatcher: agentH1 })
    expect(await h1.body.text()).toMatch(/^1\.1:https:127\.0\.0\.1:\d+$/)
  })

  it('over node:http2: Host from :authority, no pseudo-headers upstream, connection headers dropped', async () => {
    const session = h2connect(gw.url, { ca: pki.ca.cert })
    try {
      const res = await h2Request(session, {
        ':method': 'GET',
        ':path': '/open/users/7',
        ':authority': `localhost:${new URL(gw.url).port}`,
        'x-close': '1',
      })
      expect(res.status).toBe(200)
      expect(res.headers.connection).toBeUndefined()
      const echoed = JSON.parse(res.body.toString()) as { url: string; headers: Record<string, string> }
      expect(echoed.url).toBe('/users/7')
      expect(echoed.headers['x-forwarded-host']).toBe(`localhost:${new URL(gw.url).port}`)
      expect(echoed.headers.forwarded).toContain('proto=https')
      expect(Object.keys(echoed.headers).some((n) => n.startsWith(':'))).toBe(false)

      const local = await h2Request(session, { ':method': 'GET', ':path': '/proto' })
      expect(local.status).toBe(200)
      expect(local.headers['transfer-encoding']).toBeUndefined()
      expect(local.headers['keep-alive']).toBeUndefined()
      expect(local.body.toString()).toMatch(/^2\.0:https:/)

      const missing = await h2Request(session, { ':method': 'GET', ':path': '/nowhere' })
      expect(missing.status).toBe(404)
      expect(missing.headers['content-type']).toBe('application/problem+json')
    } finally {
      session.close()
    }
  })

  it('streams an h2 request body up and a large response down', async () => {
    const session = h2connect(gw.url, { ca: pki.ca.cert })
    try {
      async function* parts() {
        for (let i = 0; i < 32; i++) yield Buffer.alloc(32 * 1024, i)
      }
      const up = await h2Request(
        session,
        { ':method': 'POST', ':path': '/open/upload', 'content-type': 'application/octet-stream' },
        parts(),
      )
      expect(up.status).toBe(200)
      expect((JSON.parse(up.body.toString()) as { bodyLength: number }).bodyLength).toBe(32 * 32 * 1024)
      const down = await h2Request(session, { ':method': 'GET', ':path': '/open/big' })
      expect(down.status).toBe(200)
      expect(down.body.length).toBe(64 * 64 * 1024)
    } finally {
      session.close()
    }
  })

  it('survives a broken HTTP/2 connection preface and invalid frames (sessionError), then keeps serving', async () => {
    const port = Number(new URL(gw.url).port)
    for (const payload of [
      Buffer.from('this is not an HTTP/2 preface at all\r\n\r\n'),
      Buffer.concat([
        Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
        Buffer.from([0, 0, 4, 0xff, 0, 0, 0, 0, 1, 1, 2, 3, 4]),
        Buffer.from([0, 0, 8, 1, 5, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]),
      ]),
    ]) {
      const closed = await new Promise<boolean>((resolve) => {
        const socket = tlsConnect({
          port,
          host: '127.0.0.1',
          rejectUnauthorized: false,
          ALPNProtocols: ['h2'],
        })
        const timer = setTimeout(() => {
          socket.destroy()
          resolve(false)
        }, 3000)
        socket.once('secureConnect', () => socket.write(payload))
        socket.on('data', () => {})
        socket.once('error', () => {})
        socket.once('close', () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
      expect(closed).toBe(true)
    }
    const after = await request(`${gw.url}/health`, { dispatcher: agentH2 })
    expect(after.statusCode).toBe(200)
    await after.body.dump()
  })

  it('answers health probes over h2 and keeps the process alive on garbage and failed handshakes', async () => {
    const session = h2connect(gw.url, { ca: pki.ca.cert })
    const health = await h2Request(session, { ':method': 'GET', ':path': '/health' })
    session.close()
    expect(health.status).toBe(200)
    const port = Number(new URL(gw.url).port)
    const garbage = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 1000)
    expect(garbage).not.toContain('200')
    const untrusted = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost' })
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
      socket.once('secureConnect', () => resolve('connected'))
    })
    expect(untrusted).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE')
    const again = await request(`${gw.url}/health`, { dispatcher: agentH2 })
    expect(again.statusCode).toBe(200)
    await again.body.dump()
  })
})

describe('HTTP/2 lifecycle', () => {
  it('counts body bytes, drains an in-flight h2 stream on close() and refuses new streams', async () => {
    const pki = createTestCertificates()
    const outcomes: { status: number; bytesSent: number }[] = []
    const record = definePolicy({
      name: 'tls-test-outcomes',
      stage: 'observe',
      schema: z.object({}),
      create: () => ({
        onComplete: (_ex, outcome) => {
          outcomes.push({ status: outcome.status, bytesSent: outcome.bytesSent })
        },
      }),
    })
    let release: (() => void) | undefined
    const gw = await createGateway({
      server: {
        host: '127.0.0.1',
        port: 0,
        drainTimeout: 5000,
        tls: { cert: pki.server.certPath, key: pki.server.keyPath },
      },
      policies: [record({})],
      routes: [
        { path: '/fixed', handler: () => ({ status: 200, headers: {}, body: 'x'.repeat(1000) }) },
        {
          path: '/slow',
          handler: async () => {
            await new Promise<void>((resolve) => {
              release = resolve
            })
            return { status: 200, headers: {}, body: 'done' }
          },
        },
      ],
    })
    await gw.listen()
    const session = h2connect(gw.url, { ca: pki.ca.cert })
    try {
      const fixed = await h2Request(session, { ':method': 'GET', ':path': '/fixed' })
      expect(fixed.body.length).toBe(1000)
      expect(outcomes).toEqual([{ status: 200, bytesSent: 1000 }])
      const slow = h2Request(session, { ':method': 'GET', ':path': '/slow' })
      for (let i = 0; i < 100 && release === undefined; i++) await sleep(10)
      expect(release).toBeDefined()
      const goaway = once(session, 'goaway')
      const closed = gw.close()
      await goaway
      expect(gw.ready).toBe(false)
      release?.()
      const res = await slow
      expect(res.status).toBe(200)
      expect(res.body.toString()).toBe('done')
      await closed
      expect(outcomes).toHaveLength(2)
    } finally {
      session.destroy()
      await gw.close()
      pki.cleanup()
    }
  })

  it('applies maxHeaderSize to HTTP/1.1 (431) and HTTP/2 (stream refused) on the TLS listener', async () => {
    const pki = createTestCertificates()
    const gw = await createGateway({
      server: {
        host: '127.0.0.1',
        port: 0,
        maxHeaderSize: 2048,
        tls: { cert: pki.server.certPath, key: pki.server.keyPath },
      },
      routes: [{ path: '/x', handler: () => ({ status: 200, headers: {}, body: 'ok' }) }],
    })
    await gw.listen()
    const big = 'a'.repeat(4096)
    const agent = new Agent({ connect: { ca: pki.ca.cert } })
    const session = h2connect(gw.url, { ca: pki.ca.cert })
    try {
      const h1 = await request(`${gw.url}/x`, { dispatcher: agent, headers: { 'x-big': big } })
      expect(h1.statusCode).toBe(431)
      expect(h1.headers['content-type']).toBe('application/problem+json')
      await h1.body.dump()
      const small = await h2Request(session, { ':method': 'GET', ':path': '/x' })
      expect(small.status).toBe(200)
      const outcome = await h2Request(session, { ':method': 'GET', ':path': '/x', 'x-big': big }).then(
        (r) => `status ${r.status}`,
        (e: NodeJS.ErrnoException) => e.code,
      )
      expect(outcome).toBe('ERR_HTTP2_STREAM_ERROR')
      const after = await request(`${gw.url}/x`, { dispatcher: agent })
      expect(after.statusCode).toBe(200)
      await after.body.dump()
    } finally {
      session.destroy()
      await agent.close()
      await gw.close()
      pki.cleanup()
    }
  })

  it('applies headersTimeout to slow HTTP/1.1 clients on both TLS listeners (408 soon after it)', async () => {
    const pki = createTestCertificates()
    try {
      for (const http2 of [true, false]) {
        const gw = await createGateway({
          server: {
            host: '127.0.0.1',
            port: 0,
            headersTimeout: 400,
            http2,
            tls: { cert: pki.server.certPath, key: pki.server.keyPath },
          },
          routes: [{ path: '/*', handler: () => ({ status: 200, headers: {}, body: 'ok' }) }],
        })
        await gw.listen()
        try {
          const socket = tlsConnect({
            port: Number(new URL(gw.url).port),
            host: '127.0.0.1',
            ca: pki.ca.cert,
            servername: 'localhost',
            ALPNProtocols: ['http/1.1'],
          })
          await once(socket, 'secureConnect')
          const result = await dripHeaders(socket)
          expect(result.closed, `http2: ${http2}`).toBe(true)
          expect(result.sent).toBeLessThan(result.headLength)
          expect(parseRawResponse(result.response).status).toBe(408)
        } finally {
          await gw.close()
        }
      }
    } finally {
      pki.cleanup()
    }
  })

  it('serves HTTP/1.1 only over TLS with http2: false', async () => {
    const pki = createTestCertificates()
    const gw = await createGateway({
      server: {
        host: '127.0.0.1',
        port: 0,
        http2: false,
        tls: { cert: pki.server.certPath, key: pki.server.keyPath },
      },
      routes: [{ path: '/x', handler: () => ({ status: 200, headers: {}, body: 'ok' }) }],
    })
    await gw.listen()
    try {
      const port = Number(new URL(gw.url).port)
      expect((await peerCertificate(port, 'localhost', ['h2', 'http/1.1'])).alpn).toBe('http/1.1')
      const agent = new Agent({ connect: { ca: pki.ca.cert }, allowH2: true })
      const res = await request(`${gw.url}/x`, { dispatcher: agent })
      expect(await res.body.text()).toBe('ok')
      await agent.close()
    } finally {
      await gw.close()
      pki.cleanup()
    }
  })
})

describe('WebSocket over HTTPS/1.1', () => {
  it('upgrades through the HTTP/2-capable TLS listener', async () => {
    const pki = createTestCertificates()
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await once(wss, 'listening')
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo:${data.toString()}`)))
    const port = (wss.address() as { port: number }).port
    const gw = await createGateway({
      server: { host: '127.0.0.1', port: 0, tls: { cert: pki.server.certPath, key: pki.server.keyPath } },
      upstreams: { ws: { url: `http://127.0.0.1:${port}` } },
      routes: [{ path: '/ws', upstream: 'ws' }],
    })
    await gw.listen()
    try {
      const client = new WebSocket(`${gw.url.replace('https', 'wss')}/ws`, { ca: pki.ca.cert })
      await once(client, 'open')
      client.send('hi')
      const [message] = (await once(client, 'message')) as [Buffer]
      expect(message.toString()).toBe('echo:hi')
      client.close()
      await once(client, 'close')
    } finally {
      await gw.close()
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      pki.cleanup()
    }
  })
})

describe('SNI, certificate reload and redirect', () => {
  let pki: TestCertificateAuthority
  let dir: string
  const gateways: Gateway[] = []
  beforeAll(() => {
    pki = createTestCertificates({ hosts: ['default.test'] })
    dir = mkdtempSync(join(tmpdir(), 'gw-tls-reload-'))
  })
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()))
    pki?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  async function start(server: GatewayOptions['server']): Promise<Gateway> {
    const gw = await createGateway({
      server: { host: '127.0.0.1', port: 0, ...server },
      routes: [
        { path: '/hello', handler: (ex) => ({ status: 200, headers: {}, body: `hi ${ex.request.host}` }) },
      ],
    })
    gateways.push(gw)
    await gw.listen()
    return gw
  }

  it('chooses the certificate by SNI: exact names, one-label wildcards, else the default', async () => {
    const a = pki.issue({ hosts: ['a.example'] })
    const b = pki.issue({ hosts: ['*.b.example'] })
    const gw = await start({
      tls: {
        cert: pki.server.certPath,
        key: pki.server.keyPath,
        certificates: [
          { hosts: ['a.example'], cert: a.certPath, key: a.keyPath },
          { hosts: ['*.b.example'], cert: b.certPath, key: b.keyPath },
        ],
      },
    })
    const port = Number(new URL(gw.url).port)
    const exact = await peerCertificate(port, 'a.example')
    expect(exact.cert.subject.CN).toBe('a.example')
    expect(exact.cert.subjectaltname).toBe('DNS:a.example')
    expect(exact.alpn).toBe('h2')
    const wild = await peerCertificate(port, 'api.b.example')
    expect(wild.cert.subjectaltname).toBe('DNS:*.b.example')
    expect(wild.alpn).toBe('h2')
    expect((await peerCertificate(port, 'x.y.b.example')).cert.subject.CN).toBe('default.test')
    expect((await peerCertificate(port, 'other.example')).cert.subject.CN).toBe('default.test')
    expect((await peerCertificate(port)).cert.subject.CN).toBe('default.test')
  })

  it('reloads certificates without a restart; new connections see the new one, open ones keep working', async () => {
    const first = pki.issue({ hosts: ['localhost'], commonName: 'first' })
    const second = pki.issue({ hosts: ['localhost'], commonName: 'second' })
    const certPath = join(dir, 'tls.crt')
    const keyPath = join(dir, 'tls.key')
    copyFileSync(first.certPath, certPath)
    copyFileSync(first.keyPath, keyPath)
    const gw = await start({ tls: { cert: certPath, key: keyPath } })
    const port = Number(new URL(gw.url).port)
    expect((await peerCertificate(port, 'localhost')).cert.subject.CN).toBe('first')

    const session = h2connect(gw.url, { ca: pki.ca.cert, servername: 'localhost' })
    expect((await h2Request(session, { ':method': 'GET', ':path': '/hello' })).status).toBe(200)

    copyFileSync(second.certPath, certPath)
    copyFileSync(second.keyPath, keyPath)
    await gw.reloadCertificates()
    expect((await peerCertificate(port, 'localhost')).cert.subject.CN).toBe('second')
    const old = await h2Request(session, { ':method': 'GET', ':path': '/hello' })
    expect(old.status).toBe(200)
    session.close()

    writeFileSync(certPath, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n')
    await expect(gw.reloadCertificates()).rejects.toMatchObject({ code: 'GW_ERR_CONFIG' })
    expect((await peerCertificate(port, 'localhost')).cert.subject.CN).toBe('second')

    copyFileSync(first.certPath, certPath)
    await expect(gw.reloadCertificates()).rejects.toThrow(/server\.tls/)
    expect((await peerCertificate(port, 'localhost')).cert.subject.CN).toBe('second')
  })

  it('watches the files when tls.watch is on', async () => {
    const first = pki.issue({ hosts: ['localhost'], commonName: 'watched-1' })
    const second = pki.issue({ hosts: ['localhost'], commonName: 'watched-2' })
    const certPath = join(dir, 'watch.crt')
    const keyPath = join(dir, 'watch.key')
    copyFileSync(first.certPath, certPath)
    copyFileSync(first.keyPath, keyPath)
    const gw = await start({ tls: { cert: certPath, key: keyPath, watch: true, watchInterval: 50 } })
    const port = Number(new URL(gw.url).port)
    expect((await peerCertificate(port, 'localhost')).cert.subject.CN).toBe('watched-1')
    await sleep(20)
    copyFileSync(second.keyPath, keyPath)
    copyFileSync(second.certPath, certPath)
    let seen = ''
    for (let i = 0; i < 100 && seen !== 'watched-2'; i++) {
      await sleep(50)
      seen = (await peerCertificate(port, 'localhost')).cert.subject.CN ?? ''
    }
    expect(seen).toBe('watched-2')
  })

  it('redirects plain HTTP to https:// with 308, the same host and path, never another scheme', async () => {
    const listener = createListener(
      serverSchema.parse({
        tls: { cert: pki.server.certPath, key: pki.server.keyPath },
        redirectHttp: { port: 0 },
      }),
      (_req, res) => res.end('secure'),
      noopLogger,
    )
    try {
      const main = await listener.listen(0, '127.0.0.1')
      const redirect = (listener.redirect!.address() as AddressInfo).port
      const ok = parseRawResponse(
        await rawRequest(
          redirect,
          'GET /a/b?c=1 HTTP/1.1\r\nHost: shop.example:8080\r\nConnection: close\r\n\r\n',
        ),
      )
      expect(ok.status).toBe(308)
      expect(ok.headers.location).toBe(`https://shop.example:${main.port}/a/b?c=1`)
      const absolute = parseRawResponse(
        await rawRequest(
          redirect,
          'GET http://evil.example/x HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n',
        ),
      )
      expect(absolute.status).toBe(308)
      expect(absolute.headers.location).toBe(`https://shop.example:${main.port}/`)
      const protocolRelative = parseRawResponse(
        await rawRequest(
          redirect,
          'GET //evil.example/x HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n',
        ),
      )
      expect(protocolRelative.headers.location).toBe(`https://shop.example:${main.port}/`)
      const bad = parseRawResponse(
        await rawRequest(redirect, 'GET / HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n'),
      )
      expect(bad.status).toBe(400)
      expect(bad.headers['content-type']).toBe('application/problem+json')
      expect(httpsLocation('[::1]:80', '/x', 443, undefined)).toBe('https://[::1]/x')
      expect(httpsLocation('attacker.example', '/x', 8443, 'api.example')).toBe('https://api.example:8443/x')
    } finally {
      listener.server.close()
      listener.closeAllConnections()
      await listener.close()
    }
  })

  it('requires client certificates from the configured CA with clientAuth: require', async () => {
    const client = pki.issue({ usage: 'client', commonName: 'partner' })
    const stranger = createTestCertificates({ caName: 'stranger CA' })
    const foreign = stranger.issue({ usage: 'client', commonName: 'intruder' })
    const gw = await start({
      tls: { cert: pki.server.certPath, key: pki.server.keyPath, ca: pki.ca.certPath, clientAuth: 'require' },
    })
    const call = async (cert?: { cert: string; key: string }) => {
      const agent = new Agent({ connect: { ca: pki.ca.cert, servername: 'default.test', ...cert } })
      try {
        const res = await request(`${gw.url}/hello`, { dispatcher: agent })
        return `${res.statusCode} ${await res.body.text()}`
      } catch {
        return 'refused'
      } finally {
        await agent.close()
      }
    }
    try {
      expect(await call({ cert: client.cert, key: client.key })).toMatch(/^200 hi /)
      expect(await call()).toBe('refused')
      expect(await call({ cert: foreign.cert, key: foreign.key })).toBe('refused')
    } finally {
      stranger.cleanup()
    }
  })

  it('takes certificate paths from a YAML config file with ${VAR} references', async () => {
    const yaml = [
      'server:',
      '  host: 127.0.0.1',
      '  port: 0',
      '  tls:',
      '    cert: ${TLS_CERT}',
      '    key: ${TLS_KEY}',
      '    minVersion: TLSv1.3',
      'routes:',
      '  - path: /hello',
      '    upstream: up',
      'upstreams:',
      '  up:',
      '    url: https://127.0.0.1:1',
      '    tls:',
      '      ca: ${TLS_CA}',
      '      servername: backend.internal',
    ].join('\n')
    const registry = createPolicyRegistry([])
    const { config } = parseConfig(yaml, {
      registry,
      env: { TLS_CERT: pki.server.certPath, TLS_KEY: pki.server.keyPath, TLS_CA: pki.ca.certPath },
    })
    expect(config.server?.tls).toMatchObject({
      cert: pki.server.certPath,
      minVersion: 'TLSv1.3',
      watch: false,
    })
    const gw = await createGateway(toGatewayOptions(config, registry))
    gateways.push(gw)
    await gw.listen()
    expect(gw.url).toMatch(/^https:/)
    const tls12 = await new Promise<string>((resolve) => {
      const socket = tlsConnect({
        port: Number(new URL(gw.url).port),
        host: '127.0.0.1',
        rejectUnauthorized: false,
        maxVersion: 'TLSv1.2',
      })
      socket.once('secureConnect', () => {
        socket.end()
        resolve('connected')
      })
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    })
    expect(tls12).not.toBe('connected')
  })

  it('refuses to start with an unreadable or invalid PEM, naming the option path', async () => {
    const bad = join(dir, 'bad.crt')
    writeFileSync(bad, 'garbage')
    await expect(
      createGateway({
        server: { tls: { cert: bad, key: pki.server.keyPath } },
        routes: [{ path: '/x', handler: () => ({ status: 200, headers: {}, body: '' }) }],
      }),
    ).rejects.toThrow(/server\.tls: invalid certificate or key/)
    const other = pki.issue({ hosts: ['x.example'] })
    await expect(
      createGateway({
        server: {
          tls: {
            cert: pki.server.certPath,
            key: pki.server.keyPath,
            certificates: [{ hosts: ['x.example'], cert: other.certPath, key: join(dir, 'missing.key') }],
          },
        },
        routes: [{ path: '/x', handler: () => ({ status: 200, headers: {}, body: '' }) }],
      }),
    ).rejects.toThrow(/server\.tls\.certificates\[0\]\.key: cannot read key/)
    await expect(
      createGateway({
        server: { http2: true },
        routes: [{ path: '/x', handler: () => ({ status: 200, headers: {}, body: '' }) }],
      }),
    ).rejects.toThrow(/server\.http2/)
  })
})
