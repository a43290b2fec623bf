import { connect } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  type EchoUpstream,
  parseResponses,
  type RunningGateway,
  rawExchange,
  startEchoUpstream,
  startGateway,
} from './helpers/net.js'

/**
 * What a hostile request may lead to:
 * - `reject`: a 400 (or another 4xx given in `status`), nothing reaches the upstream;
 * - `forward`: one 200, exactly one request reaches the upstream, with `body` if given;
 * - `either`: a 400 with nothing forwarded, or the `forward` outcome (normalised);
 * - `drop`: the connection is closed without a response, nothing forwarded.
 * Rejections are problem+json.
 * In every case: no request for `/smuggled` reaches the upstream, no forwarded request carries both
 * Content-Length and Transfer-Encoding, and none of `absent` reaches it.
 */
interface Case {
  name: string
  request: string
  expect: 'reject' | 'forward' | 'either' | 'drop'
  status?: number
  body?: string
  absent?: string[]
  url?: string
}

const H = 'Host: gw.test\r\n'
const SMUGGLE = `GET /smuggled HTTP/1.1\r\n${H}\r\n`

const corpus: Case[] = [
  // Content-Length / Transfer-Encoding conflicts
  {
    name: 'CL + TE',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'TE + CL',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'duplicate CL, different',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 30\r\n\r\nhello${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'duplicate CL, same',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    expect: 'either',
    body: 'hello',
  },
  {
    name: 'CL list "5, 5"',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`,
    expect: 'either',
    body: 'hello',
  },
  {
    name: 'negative CL',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  { name: 'hex CL', request: `POST /a HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`, expect: 'reject' },
  {
    name: 'plus-sign CL',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`,
    expect: 'reject',
  },
  {
    name: 'CL with inner space',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 1 0\r\n\r\nhello12345`,
    expect: 'reject',
  },
  {
    name: 'CL overflow',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\nhello`,
    expect: 'reject',
  },
  {
    name: 'CL with leading zeros',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 005\r\n\r\nhello`,
    expect: 'either',
    body: 'hello',
  },
  {
    name: 'CL on a GET',
    request: `GET /a HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`,
    expect: 'forward',
    body: 'hello',
  },
  {
    name: 'CL: 0 followed by a request',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`,
    expect: 'forward',
    body: '',
  },
  {
    name: 'Expect: 100-continue',
    request: `POST /a HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello`,
    expect: 'forward',
    body: 'hello',
  },
  // Obfuscated Transfer-Encoding
  {
    name: 'TE "chunked " (trailing OWS)',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    expect: 'either',
    body: 'hello',
  },
  {
    name: 'TE tab before value',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    expect: 'either',
    body: 'hello',
  },
  {
    name: 'TE xchunked',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'TE "chunked, identity"',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'TE identity',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'TE vertical tab',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding:\x0bchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'TE line folding',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'TE twice',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'TE name with space before colon',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello`,
    expect: 'reject',
  },
  {
    name: 'TE in HTTP/1.0',
    request: `POST /a HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'either',
    body: 'hello',
  },
  // Chunk framing
  {
    name: 'bad chunk size',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'negative chunk size',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'chunk size overflow',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'chunk size with 0x',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'chunk data longer than size',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'chunk extension',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;ext=secret\r\nhello\r\n0\r\n\r\n`,
    expect: 'forward',
    body: 'hello',
    absent: ['ext=secret'],
  },
  {
    name: 'quoted chunk extension',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a="b;c"\r\nhello\r\n0\r\n\r\n`,
    expect: 'either',
    body: 'hello',
    absent: ['a="b'],
  },
  {
    name: 'chunk trailer smuggling a header',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer-Injected: 1\r\n\r\n`,
    expect: 'either',
    body: 'hello',
    absent: ['x-trailer-injected'],
  },
  {
    name: 'bare LF chunk terminator',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'chunked body split into many chunks',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\nh\r\n2\r\nel\r\n2\r\nlo\r\n0\r\n\r\n`,
    expect: 'forward',
    body: 'hello',
  },
  {
    name: 'chunk size with leading zeros',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0005\r\nhello\r\n0\r\n\r\n`,
    expect: 'either',
    body: 'hello',
  },
  {
    name: 'missing final chunk, then a request',
    request: `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  // Header values and names
  { name: 'bare CR in a value', request: `GET /a HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, expect: 'reject' },
  {
    name: 'bare LF in a value',
    request: `GET /a HTTP/1.1\r\n${H}X-A: a\nTransfer-Encoding: chunked\r\n\r\n`,
    expect: 'either',
    absent: ['transfer-encoding'],
  },
  { name: 'NUL in a value', request: `GET /a HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`, expect: 'reject' },
  { name: 'obs-fold in a value', request: `GET /a HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, expect: 'either' },
  { name: 'space in a header name', request: `GET /a HTTP/1.1\r\n${H}X A: b\r\n\r\n`, expect: 'reject' },
  { name: 'empty header name', request: `GET /a HTTP/1.1\r\n${H}: b\r\n\r\n`, expect: 'reject' },
  { name: 'space in the target', request: `GET /a b HTTP/1.1\r\n${H}\r\n`, expect: 'reject' },
  { name: 'bad version', request: `GET /a HTTP/1.7\r\n${H}\r\n`, expect: 'reject' },
  {
    name: 'header value with DEL and high bytes',
    request: `GET /a HTTP/1.1\r\n${H}X-A: a\x7fb\xffc\r\n\r\n`,
    expect: 'either',
  },
  { name: 'request line with bare LF', request: `GET /a HTTP/1.1\n${H}\r\n`, expect: 'either' },
  { name: 'lowercase method', request: `get /a HTTP/1.1\r\n${H}\r\n`, expect: 'reject' },
  { name: 'unknown method', request: `BREW /a HTTP/1.1\r\n${H}\r\n`, expect: 'reject' },
  {
    name: 'two spaces in the request line',
    request: `GET  /a HTTP/1.1\r\n${H}\r\n`,
    expect: 'either',
    url: '/a',
  },
  { name: 'tab in the request line', request: `GET\t/a HTTP/1.1\r\n${H}\r\n`, expect: 'reject' },
  { name: 'non-token header name', request: `GET /a HTTP/1.1\r\n${H}X-A(b): c\r\n\r\n`, expect: 'reject' },
  {
    name: '20 kB request target',
    request: `GET /${'u'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`,
    expect: 'reject',
    status: 431,
  },
  { name: 'NUL in the target', request: `GET /a\0b HTTP/1.1\r\n${H}\r\n`, expect: 'reject' },
  // Host
  { name: 'no Host', request: 'GET /a HTTP/1.1\r\n\r\n', expect: 'reject' },
  { name: 'no Host in HTTP/1.0', request: 'GET /a HTTP/1.0\r\n\r\n', expect: 'reject' },
  { name: 'duplicate Host', request: `GET /a HTTP/1.1\r\n${H}Host: evil.test\r\n\r\n`, expect: 'reject' },
  { name: 'Host with a space', request: 'GET /a HTTP/1.1\r\nHost: gw test\r\n\r\n', expect: 'reject' },
  { name: 'Host with a slash', request: 'GET /a HTTP/1.1\r\nHost: gw.test/evil\r\n\r\n', expect: 'reject' },
  { name: 'Host with userinfo', request: 'GET /a HTTP/1.1\r\nHost: user@gw.test\r\n\r\n', expect: 'reject' },
  { name: 'empty Host', request: 'GET /a HTTP/1.1\r\nHost: \r\n\r\n', expect: 'reject' },
  { name: 'Host with a bad port', request: 'GET /a HTTP/1.1\r\nHost: gw.test:80x\r\n\r\n', expect: 'reject' },
  // Targets
  {
    name: 'absolute-form, Host agrees',
    request: `GET http://gw.test/abs?q=1 HTTP/1.1\r\n${H}\r\n`,
    expect: 'forward',
    url: '/abs?q=1',
  },
  {
    name: 'absolute-form, Host disagrees',
    request: `GET http://evil.test/abs HTTP/1.1\r\n${H}\r\n`,
    expect: 'reject',
  },
  {
    name: 'absolute-form with userinfo',
    request: `GET http://x@gw.test/abs HTTP/1.1\r\n${H}\r\n`,
    expect: 'reject',
  },
  { name: 'asterisk-form on GET', request: `GET * HTTP/1.1\r\n${H}\r\n`, expect: 'reject' },
  { name: 'authority-form on GET', request: `GET gw.test:80 HTTP/1.1\r\n${H}\r\n`, expect: 'reject' },
  { name: 'CONNECT', request: `CONNECT gw.test:443 HTTP/1.1\r\n${H}\r\n`, expect: 'reject', status: 501 },
  { name: 'dot-segments', request: `GET /public/../admin HTTP/1.1\r\n${H}\r\n`, expect: 'reject' },
  {
    name: 'encoded dot-segments',
    request: `GET /public/%2e%2E/admin HTTP/1.1\r\n${H}\r\n`,
    expect: 'reject',
  },
  // Hop-by-hop headers toward the upstream
  {
    name: 'Connection-listed headers are stripped',
    request: `GET /a HTTP/1.1\r\n${H}Connection: keep-alive, X-Secret, X-Other\r\nX-Secret: 1\r\nX-Other: 2\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-T\r\nProxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\n\r\n`,
    expect: 'forward',
    absent: [
      'x-secret',
      'x-other',
      'keep-alive',
      'te',
      'trailer',
      'proxy-authorization',
      'proxy-connection',
      'upgrade',
    ],
  },
  {
    name: 'Connection listing Host / Content-Length is not honoured for those',
    request: `POST /a HTTP/1.1\r\n${H}Connection: Content-Length, Host\r\nContent-Length: 5\r\n\r\nhello`,
    expect: 'either',
    body: 'hello',
  },
  // Pipelining after an error
  {
    name: 'pipelined request after a bad Host',
    request: `GET /a HTTP/1.1\r\nHost: a b\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'pipelined request after a bad header',
    request: `GET /a HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'pipelined request after CL+TE',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
  {
    name: 'pipelined request after a 413-sized CL',
    request: `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n${SMUGGLE}`,
    expect: 'reject',
  },
]

let upstream: EchoUpstream
let gw: RunningGateway

beforeAll(async () => {
  upstream = await startEchoUpstream()
  gw = await startGateway({
    server: { headersTimeout: 2000, requestTimeout: 3000 },
    upstreams: { up: { url: upstream.url } },
    routes: [{ path: '/*', upstream: 'up' }],
  })
})

afterAll(async () => {
  await gw?.gateway.close()
  await upstream?.close()
})

beforeEach(() => upstream.reset())

/** The header blocks of every request that reached the upstream, as raw text. */
function forwardedHeads(): string[] {
  const heads: string[] = []
  for (const chunks of upstream.raw) {
    const text = Buffer.concat(chunks).toString('latin1')
    for (const match of text.matchAll(/(?:^|\r\n)([A-Z]+ [^\r\n]* HTTP\/1\.1\r\n[\s\S]*?\r\n\r\n)/g))
      heads.push(match[1]!)
  }
  return heads
}

/** The final (non-1xx) responses in a raw reply. */
function finalResponses(raw: string) {
  return parseResponses(raw).filter((r) => r.status >= 200)
}

const MARKER_PATH = '/__marker'
const MARKER = `GET ${MARKER_PATH} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`

/**
 * Sends a hostile request; once its response is complete and the connection is still open, sends a marker
 * request with `Connection: close` and reads until the gateway closes. HTTP/1.1 answers in order, so by then
 * everything the hostile bytes could have smuggled has been processed: no sleeps, no timing assumptions.
 */
function exchange(port: number, payload: string): Promise<{ raw: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let raw = ''
    let marked = false
    let settled = false
    const finish = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ raw, closed })
    }
    const timer = setTimeout(() => finish(false), 5000)
    socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString('latin1')
      if (!marked && finalResponses(raw)[0]?.complete) {
        marked = true
        socket.write(MARKER)
      }
    })
    socket.on('error', () => finish(true))
    socket.on('close', () => finish(true))
    socket.once('connect', () => socket.write(payload))
  })
}

describe('hostile HTTP/1.1 framing through a real gateway (table-driven corpus)', () => {
  it.each(corpus.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const reply = await exchange(gw.port, c.request)
    expect(reply.closed, 'the gateway must close or answer, never hang').toBe(true)
    const responses = finalResponses(reply.raw)
    const markerAnswered = upstream.requests.some((r) => r.url === MARKER_PATH)
    const hostile = responses.slice(0, markerAnswered ? -1 : undefined)
    const forwarded = upstream.requests.filter((r) => r.url !== MARKER_PATH)

    expect(upstream.requests.some((r) => r.url.includes('smuggled'))).toBe(false)
    expect(upstream.rawText()).not.toContain('/smuggled')
    expect(hostile.length, `responses: ${JSON.stringify(reply.raw.slice(0, 300))}`).toBeLessThanOrEqual(1)
    const first = hostile[0]
    if (c.expect === 'drop') {
      expect(first).toBeUndefined()
      expect(forwarded).toHaveLength(0)
      return
    }
    expect(first, `no response (raw: ${JSON.stringify(reply.raw.slice(0, 200))})`).toBeDefined()
    if (c.expect === 'reject') expect(first!.status).toBe(c.status ?? 400)
    if (c.expect === 'forward') expect(first!.status).toBe(200)
    if (first!.status !== 200) {
      expect(first!.status).toBe(c.status ?? 400)
      expect(forwarded).toHaveLength(0)
      expect(markerAnswered, 'the connection must close after a rejected request').toBe(false)
      expect(first!.headers['content-type']).toMatch(/application\/problem\+json/)
      expect(first!.body).not.toMatch(/\bat .*\.js:\d+/)
    } else {
      expect(forwarded).toHaveLength(1)
      if (c.body !== undefined) expect(forwarded[0]!.body).toBe(c.body)
      if (c.url !== undefined) expect(forwarded[0]!.url).toBe(c.url)
    }

    for (const head of forwardedHeads()) {
      const lower = head.toLowerCase()
      expect(lower.includes('\ncontent-length:') && lower.includes('\ntransfer-encoding:')).toBe(false)
      expect(lower.match(/\ncontent-length:/g)?.length ?? 0).toBeLessThanOrEqual(1)
      expect(lower.match(/\ntransfer-encoding:/g)?.length ?? 0).toBeLessThanOrEqual(1)
      expect(lower.match(/\nhost:/g)?.length).toBe(1)
      for (const name of c.absent ?? []) if (!name.includes('=')) expect(lower).not.toContain(`\n${name}:`)
    }
    for (const name of c.absent ?? []) if (name.includes('=')) expect(upstream.rawText()).not.toContain(name)
  })
})

describe('hop-by-hop headers from the upstream', () => {
  it('strips Connection-listed and hop-by-hop response headers before the client', async () => {
    upstream.respond = (_req, res) => {
      res.writeHead(200, {
        connection: 'X-Internal, X-Debug',
        'x-internal': 'secret',
        'x-debug': 'secret',
        'keep-alive': 'timeout=99',
        'proxy-connection': 'keep-alive',
        trailer: 'X-T',
        upgrade: 'h2c',
        'x-public': 'yes',
      })
      res.end('ok')
    }
    try {
      const reply = await rawExchange(gw.port, `GET /resp HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)
      const [res] = parseResponses(reply.raw)
      expect(res).toMatchObject({ status: 200, body: 'ok', complete: true })
      expect(res!.headers['x-public']).toBe('yes')
      for (const name of ['x-internal', 'x-debug', 'proxy-connection', 'trailer', 'upgrade'])
        expect(res!.names).not.toContain(name)
      expect(res!.headers['keep-alive'] ?? '').not.toContain('99')
    } finally {
      upstream.respond = (_req, res, recorded) => {
        const body = JSON.stringify(recorded)
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      }
    }
  })

  it('answers valid pipelined requests one by one, in order, each forwarded once', async () => {
    const reply = await rawExchange(
      gw.port,
      `GET /p1 HTTP/1.1\r\n${H}\r\nPOST /p2 HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcGET /p3 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    )
    const responses = finalResponses(reply.raw)
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200])
    expect(upstream.requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
      'GET /p1 ',
      'POST /p2 abc',
      'GET /p3 ',
    ])
  })
})
