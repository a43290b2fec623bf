import { once } from 'node:events'
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { z } from 'zod'
import { createGateway, definePolicy, type Gateway, type Outcome, respond } from '../src/index.js'
import { startFakeUpstream } from '../src/testing/index.js'

interface EchoServer {
  url: string
  handshakes: IncomingHttpHeaders[]
  serverSockets: WebSocket[]
  close(): Promise<void>
}

async function startEchoServer(verify?: (headers: IncomingHttpHeaders) => boolean): Promise<EchoServer> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' })
    res.end('upgrade required')
  })
  const handshakes: IncomingHttpHeaders[] = []
  const serverSockets: WebSocket[] = []
  const wss = new WebSocketServer({
    server,
    verifyClient: (info: { req: { headers: IncomingHttpHeaders } }) => verify?.(info.req.headers) ?? true,
  })
  wss.on('connection', (ws, req) => {
    handshakes.push(req.headers)
    serverSockets.push(ws)
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'close-me') ws.close(4001, 'asked to')
      else ws.send(isBinary ? data : `echo:${data.toString()}:${req.url}`, { binary: isBinary })
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    handshakes,
    serverSockets,
    async close() {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const requireToken = definePolicy({
  name: 'require-token',
  stage: 'authn',
  schema: z.object({ token: z.string().describe('Expected token') }),
  create: ({ token }) => ({
    onRequest: (ex) =>
      ex.request.headers['x-token'] === token ? undefined : respond(401, { error: 'no token' }),
  }),
})

const completions: (Outcome & { id: string })[] = []
const recordOutcome = definePolicy({
  name: 'record-outcome',
  stage: 'observe',
  schema: z.object({}),
  create: () => ({
    onResponse: (_ex, res) => {
      res.headers['x-seen-by'] = 'gw-policy'
    },
    onComplete: (ex, outcome) => {
      completions.push({ ...outcome, id: ex.id })
    },
  }),
})

const outcomesOf = (id: string) => completions.filter((c) => c.id === id)

const gateways: Gateway[] = []
const servers: EchoServer[] = []
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
  completions.length = 0
})

async function setup(verify?: (headers: IncomingHttpHeaders) => boolean) {
  const echo = await startEchoServer(verify)
  servers.push(echo)
  const gw = await createGateway({
    server: { host: '127.0.0.1', port: 0 },
    upstreams: { chat: { url: echo.url } },
    policies: [recordOutcome({})],
    routes: [
      { path: '/ws/*', upstream: 'chat', stripPrefix: '/ws', policies: [requireToken({ token: 's3cret' })] },
      { path: '/open/*', upstream: 'chat', stripPrefix: '/open' },
      { path: '/plain/*', upstream: 'chat', stripPrefix: '/plain', websocket: false },
    ],
  })
  gateways.push(gw)
  await gw.listen()
  return { echo, gw, ws: gw.url.replace('http://', 'ws://') }
}

function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const socket = new WebSocket(url, { headers })
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket))
    socket.once('error', reject)
    socket.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode, res })),
    )
  })
}

function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) =>
    socket.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })),
  )
}

describe('WebSocket proxying', () => {
  it('echoes text and large binary messages through the gateway, with forwarding headers', async () => {
    const { echo, ws } = await setup()
    const socket = await connect(`${ws}/ws/room/1?x=2`, { 'x-token': 's3cret', 'x-request-id': 'ws-req-1' })
    socket.send('hello')
    expect((await nextMessage(socket)).data.toString()).toBe('echo:hello:/room/1?x=2')
    const big = Buffer.alloc(4 * 1024 * 1024, 7)
    socket.send(big)
    const back = await nextMessage(socket)
    expect(back.isBinary).toBe(true)
    expect(back.data.equals(big)).toBe(true)
    const handshake = echo.handshakes[0]!
    expect(handshake['x-forwarded-for']).toBe('127.0.0.1')
    expect(handshake.via).toBe('1.1 gw')
    expect(handshake['x-request-id']).toBe('ws-req-1')
    expect(handshake['sec-websocket-key']).toBeDefined()
    socket.close(1000)
    await once(socket, 'close')
  })

  it('runs route policies on the upgrade request: a denial is a normal 401 and nothing reaches the upstream', async () => {
    const { echo, ws } = await setup()
    const denied = await connect(`${ws}/ws/room`, { 'x-request-id': 'denied-1' }).catch(
      (e: { status: number }) => e,
    )
    expect((denied as { status: number }).status).toBe(401)
    expect(echo.handshakes).toHaveLength(0)
    await expect.poll(() => outcomesOf('denied-1').length).toBe(1)
    expect(outcomesOf('denied-1')[0]).toMatchObject({ status: 401 })
  })

  it('runs onResponse over the 101 head and onComplete once when the tunnel closes', async () => {
    const { ws } = await setup()
    const socket = new WebSocket(`${ws}/open/x`, { headers: { 'x-request-id': 'tunnel-1' } })
    const opened = once(socket, 'open')
    const [res] = (await once(socket, 'upgrade')) as [{ headers: IncomingHttpHeaders }]
    expect(res.headers['x-seen-by']).toBe('gw-policy')
    expect(res.headers['x-request-id']).toBe('tunnel-1')
    await opened
    socket.send('bye')
    await nextMessage(socket)
    expect(outcomesOf('tunnel-1')).toHaveLength(0)
    socket.close(1000)
    await once(socket, 'close')
    await expect.poll(() => outcomesOf('tunnel-1').length).toBe(1)
    expect(outcomesOf('tunnel-1')[0]).toMatchObject({ status: 101, aborted: false })
    expect(outcomesOf('tunnel-1')[0]!.bytesSent).toBeGreaterThan(0)
  })

  it('propagates a close from the upstream with its code, and a client disconnect to the upstream', async () => {
    const { echo, ws } = await setup()
    const socket = await connect(`${ws}/open/a`)
    socket.send('close-me')
    const [code, reason] = (await once(socket, 'close')) as [number, Buffer]
    expect(code).toBe(4001)
    expect(reason.toString()).toBe('asked to')
    const second = await connect(`${ws}/open/b`)
    const upstreamSide = echo.serverSockets[1]!
    const upstreamClosed = once(upstreamSide, 'close')
    second.terminate()
    await upstreamClosed
  })

  it("forwards the upstream's refusal of the upgrade", async () => {
    const { ws } = await setup(() => false)
    const refused = await connect(`${ws}/open/x`).catch((e: { status: number }) => e)
    expect((refused as { status: number }).status).toBe(401)
  })

  it('answers 502 problem+json when the upstream is down, and 404 for unknown routes', async () => {
    const { echo, ws } = await setup()
    await echo.close()
    servers.splice(0)
    const down = await connect(`${ws}/open/x`).catch((e: { status: number }) => e)
    expect((down as { status: number }).status).toBe(502)
    const missing = await connect(`${ws}/nowhere`).catch((e: { status: number }) => e)
    expect((missing as { status: number }).status).toBe(404)
  })

  it('serves other upgrade protocols (h2c) as plain HTTP, with the Upgrade header stripped', async () => {
    const echo = await startFakeUpstream()
    const plain = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      upstreams: { up: { url: echo.url } },
      routes: [{ path: '/*', upstream: 'up' }],
    })
    gateways.push(plain)
    await plain.listen()
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${plain.url}/h2c?x=1`, {
        headers: {
          connection: 'Upgrade, HTTP2-Settings',
          upgrade: 'h2c',
          'http2-settings': 'AAMAAABkAAQAAP__',
        },
        agent: false,
      })
      req.once('response', (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.once('error', reject)
      req.end()
    })
    await echo.close()
    expect(answer.status).toBe(200)
    const echoed = JSON.parse(answer.body) as { url: string; headers: Record<string, string> }
    expect(echoed.url).toBe('/h2c?x=1')
    expect(echoed.headers.upgrade).toBeUndefined()
    expect(echoed.headers['http2-settings']).toBeUndefined()
  })

  it('serves an upgrade request as plain HTTP on a route with websocket: false', async () => {
    const { ws } = await setup()
    const plain = await connect(`${ws}/plain/x`).catch((e: { status: number }) => e)
    expect((plain as { status: number }).status).toBe(426)
  })
})
