import { once } from 'node:events'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { createGateway, type Gateway } from '../src/index.js'
import { createTestCertificates, type TestCertificateAuthority } from '../src/testing/index.js'
import type { UpstreamInput } from '../src/upstream/index.js'

interface TlsUpstream {
  url: string
  port: number
  clients: (string | undefined)[]
  servernames: (string | false)[]
  close(): Promise<void>
}

async function startTlsUpstream(
  pki: TestCertificateAuthority,
  cert: { cert: string; key: string },
  mtls = false,
): Promise<TlsUpstream> {
  const clients: (string | undefined)[] = []
  const servernames: (string | false)[] = []
  const server: Server = createServer(
    {
      cert: cert.cert,
      key: cert.key,
      ...(mtls ? { ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (req, res) => {
      const socket = req.socket as TLSSocket
      const cn = socket.getPeerCertificate().subject?.CN
      clients.push(Array.isArray(cn) ? cn.join(',') : cn)
      servernames.push((socket as TLSSocket & { servername?: string | false }).servername ?? false)
      const body = JSON.stringify({ url: req.url, host: req.headers.host })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    },
  )
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`tls-echo:${data.toString()}`)))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    clients,
    servernames,
    async close() {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('upstream TLS', () => {
  let pki: TestCertificateAuthority
  let stranger: TestCertificateAuthority
  let trusted: TlsUpstream
  let named: TlsUpstream
  let untrusted: TlsUpstream
  let mutual: TlsUpstream
  let gw: Gateway

  beforeAll(async () => {
    pki = createTestCertificates({ hosts: ['127.0.0.1', 'localhost'] })
    stranger = createTestCertificates({ hosts: ['127.0.0.1'], caName: 'someone else' })
    const client = pki.issue({ usage: 'client', commonName: 'gw-gateway' })
    trusted = await startTlsUpstream(pki, pki.server)
    named = await startTlsUpstream(pki, pki.issue({ hosts: ['backend.internal'] }))
    untrusted = await startTlsUpstream(stranger, stranger.server)
    mutual = await startTlsUpstream(pki, pki.server, true)
    const ca = { ca: pki.ca.certPath }
    const upstreams: Record<string, UpstreamInput> = {
      trusted: { url: trusted.url, tls: ca },
      system: { url: trusted.url },
      named: { url: named.url, tls: { ...ca, servername: 'backend.internal' } },
      wrongName: { url: named.url, tls: ca },
      untrusted: { url: untrusted.url, tls: ca },
      insecure: { url: untrusted.url, tls: { rejectUnauthorized: false } },
      mtls: { url: mutual.url, tls: { ...ca, cert: client.certPath, key: client.keyPath } },
      noClientCert: { url: mutual.url, tls: ca },
    }
    gw = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      upstreams,
      routes: Object.keys(upstreams).map((name) => ({
        path: `/${name}/*`,
        upstream: name,
        stripPrefix: `/${name}`,
      })),
    })
    await gw.listen()
  })
  afterAll(async () => {
    await gw?.close()
    await Promise.all([trusted, named, untrusted, mutual].map((u) => u?.close()))
    pki?.cleanup()
    stranger?.cleanup()
  })

  async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await request(`${gw.url}${path}`)
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }
  }

  it('forwards to an https:// target whose certificate chains to the configured CA', async () => {
    const res = await get('/trusted/a?b=1')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ url: '/a?b=1', host: `127.0.0.1:${trusted.port}` })
  })

  it('refuses certificates from an unknown CA, and the test CA without `tls.ca`, with a 502 problem', async () => {
    for (const path of ['/untrusted/x', '/system/x']) {
      const res = await get(path)
      expect(res.status).toBe(502)
      expect(res.body).toMatchObject({
        code: 'GW_ERR_UPSTREAM_TLS',
        detail: 'The upstream TLS certificate could not be verified',
        reason: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|ISSUER/),
      })
    }
  })

  it('verifies the configured servername (sent as SNI) instead of the target address', async () => {
    const ok = await get('/named/x')
    expect(ok.status).toBe(200)
    expect(named.servernames.at(-1)).toBe('backend.internal')
    const wrong = await get('/wrongName/x')
    expect(wrong.status).toBe(502)
    expect(wrong.body).toMatchObject({ code: 'GW_ERR_UPSTREAM_TLS', reason: 'ERR_TLS_CERT_ALTNAME_INVALID' })
  })

  it('skips verification only when rejectUnauthorized is false', async () => {
    expect((await get('/insecure/x')).status).toBe(200)
  })

  it('presents a client certificate to an mTLS upstream, which refuses a gateway without one', async () => {
    const ok = await get('/mtls/x')
    expect(ok.status).toBe(200)
    expect(mutual.clients.at(-1)).toBe('gw-gateway')
    const refused = await get('/noClientCert/x')
    expect(refused.status).toBe(502)
    // TLS 1.3 sends the certificate_required alert after the client's handshake finished: undici usually
    // sees a closed socket (reset) rather than the alert itself.
    expect(refused.body.code).toMatch(/GW_ERR_UPSTREAM_(TLS|RESET)/)
  })

  it('opens WebSocket upgrades to wss targets with the same TLS options', async () => {
    const client = new WebSocket(`${gw.url.replace('http', 'ws')}/mtls/socket`)
    await once(client, 'open')
    client.send('ping')
    const [message] = (await once(client, 'message')) as [Buffer]
    expect(message.toString()).toBe('tls-echo:ping')
    client.close()
    await once(client, 'close')
  })

  it('refuses to start when a TLS file is missing, naming the option path', async () => {
    await expect(
      createGateway({
        upstreams: { api: { url: trusted.url, tls: { ca: '/nonexistent/ca.pem' } } },
        routes: [{ path: '/*', upstream: 'api' }],
      }),
    ).rejects.toThrow(/upstreams\.api\.tls\.ca: cannot read '\/nonexistent\/ca\.pem'/)
    await expect(
      createGateway({
        upstreams: { api: { url: trusted.url, tls: { cert: pki.server.certPath } } },
        routes: [{ path: '/*', upstream: 'api' }],
      }),
    ).rejects.toThrow(/upstreams\.api\.tls\.key/)
  })
})
