import type { IncomingHttpHeaders } from 'node:http'
import { describe, expect, it } from 'vitest'
import { hasRequestBody } from '../src/upstream/body.js'
import {
  buildUpstreamHeaders,
  connectionTokens,
  type ForwardingOptions,
  formatForwarded,
  prepareResponseHeaders,
} from '../src/upstream/headers.js'
import { mapUpstreamError } from '../src/upstream/map-error.js'
import { backoffDelay, isIdempotentMethod } from '../src/upstream/retry.js'
import { joinPath } from '../src/upstream/target.js'
import { compileTrustProxy } from '../src/upstream/trust-proxy.js'
import { normaliseIp } from '../src/util/ip.js'

const options = (over: Partial<ForwardingOptions> = {}): ForwardingOptions => ({
  via: '1.1 gw',
  requestIdHeader: 'x-request-id',
  preserveHost: false,
  isTrustedProxy: () => false,
  ...over,
})

const source = (headers: IncomingHttpHeaders, protocol = 'https', host = 'api.example.com') => ({
  headers,
  protocol,
  host,
})

describe('upstream headers: hop-by-hop stripping', () => {
  it('drops hop-by-hop headers, Connection-listed headers, Host and Expect going upstream', () => {
    const out = buildUpstreamHeaders(
      source({
        host: 'api.example.com',
        connection: 'keep-alive, X-Secret, x-other',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'proxy-authenticate': 'Basic',
        te: 'trailers',
        trailer: 'x-checksum',
        'transfer-encoding': 'chunked',
        upgrade: 'h2c',
        expect: '100-continue',
        'x-secret': 'hidden',
        'x-other': 'hidden',
        accept: 'application/json',
        'set-cookie': ['a=1', 'b=2'],
      }),
      '198.51.100.4',
      'req-1',
      options(),
    )
    for (const name of [
      'host',
      'connection',
      'keep-alive',
      'proxy-connection',
      'proxy-authorization',
      'proxy-authenticate',
      'te',
      'trailer',
      'transfer-encoding',
      'upgrade',
      'expect',
      'x-secret',
      'x-other',
    ]) {
      expect(out, name).not.toHaveProperty(name)
    }
    expect(out.accept).toBe('application/json')
    expect(out['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(out['x-request-id']).toBe('req-1')
  })

  it('does not mutate the incoming headers', () => {
    const incoming: IncomingHttpHeaders = { connection: 'x-a', 'x-a': '1', 'x-forwarded-for': '1.2.3.4' }
    buildUpstreamHeaders(source(incoming), '10.0.0.1', 'r', options())
    expect(incoming).toEqual({ connection: 'x-a', 'x-a': '1', 'x-forwarded-for': '1.2.3.4' })
  })

  it('strips hop-by-hop response headers in place, including Connection-listed ones, and appends Via', () => {
    const headers = prepareResponseHeaders(
      {
        connection: 'keep-alive, X-Internal',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'proxy-authenticate': 'Basic',
        trailer: 'x-sum',
        upgrade: 'h2c',
        te: 'trailers',
        'x-internal': 'secret',
        'content-type': 'text/plain',
        via: '1.1 backend',
      },
      '1.1 gw',
    )
    expect(headers).toEqual({ 'content-type': 'text/plain', via: '1.1 backend, 1.1 gw' })
    expect(prepareResponseHeaders({}, '1.1 gw')).toEqual({ via: '1.1 gw' })
  })

  it('parses Connection tokens without allocating in the common case', () => {
    expect(connectionTokens('keep-alive')).toBeUndefined()
    expect(connectionTokens('Keep-Alive')).toBeUndefined()
    expect(connectionTokens('close')).toBeUndefined()
    expect(connectionTokens(undefined)).toBeUndefined()
    expect(connectionTokens('close, X-Foo ,  Upgrade,x-bar')).toEqual(['x-foo', 'x-bar'])
    expect(connectionTokens(['x-a', 'X-B'])).toEqual(['x-a', 'x-b'])
  })
})

describe('upstream headers: forwarding', () => {
  it('replaces X-Forwarded-For / Forwarded from an untrusted peer and sets proto/host', () => {
    const out = buildUpstreamHeaders(
      source({
        'x-forwarded-for': '203.0.113.7',
        forwarded: 'for=203.0.113.7',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'spoofed.example',
      }),
      '198.51.100.4',
      'req-1',
      options(),
    )
    expect(out['x-forwarded-for']).toBe('198.51.100.4')
    expect(out.forwarded).toBe('for=198.51.100.4;proto=https;host=api.example.com')
    expect(out['x-forwarded-proto']).toBe('https')
    expect(out['x-forwarded-host']).toBe('api.example.com')
    expect(out.via).toBe('1.1 gw')
  })

  it('extends X-Forwarded-For / Forwarded / Via of a trusted peer and keeps its proto/host', () => {
    const out = buildUpstreamHeaders(
      source({
        'x-forwarded-for': '203.0.113.7, 10.0.0.9',
        forwarded: 'for=203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'public.example',
        via: '1.0 edge',
      }),
      '10.0.0.2',
      'req-2',
      options({ isTrustedProxy: compileTrustProxy(['10.0.0.0/8']) }),
    )
    expect(out['x-forwarded-for']).toBe('203.0.113.7, 10.0.0.9, 10.0.0.2')
    expect(out.forwarded).toBe('for=203.0.113.7, for=10.0.0.2;proto=https;host=api.example.com')
    expect(out['x-forwarded-proto']).toBe('https')
    expect(out['x-forwarded-host']).toBe('public.example')
    expect(out.via).toBe('1.0 edge, 1.1 gw')
  })

  it('sends the client Host only with preserveHost, and uses a configured request-id header', () => {
    const incoming = { host: 'api.example.com' }
    expect(buildUpstreamHeaders(source(incoming), '10.0.0.1', 'r', options())).not.toHaveProperty('host')
    const kept = buildUpstreamHeaders(
      source(incoming),
      '10.0.0.1',
      'r',
      options({ preserveHost: true, requestIdHeader: 'x-correlation-id' }),
    )
    expect(kept.host).toBe('api.example.com')
    expect(kept['x-correlation-id']).toBe('r')
  })

  it('formats RFC 7239 elements: IPv6 bracketed and quoted, non-token hosts quoted', () => {
    expect(formatForwarded('192.0.2.43', 'http', 'example.com')).toBe(
      'for=192.0.2.43;proto=http;host=example.com',
    )
    expect(formatForwarded('2001:db8:cafe::17', 'https', 'example.com:8443')).toBe(
      'for="[2001:db8:cafe::17]";proto=https;host="example.com:8443"',
    )
    expect(formatForwarded('', 'http', '')).toBe('for=unknown;proto=http')
  })

  it('normalises IPv4-mapped IPv6 peers', () => {
    expect(normaliseIp('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(normaliseIp('::1')).toBe('::1')
    expect(normaliseIp('10.0.0.1')).toBe('10.0.0.1')
  })

  it('compiles trusted proxies from lists, predicates and resolvers', () => {
    const list = compileTrustProxy(['10.0.0.0/8', '::1', '192.168.1.1'])
    expect(list('10.2.3.4')).toBe(true)
    expect(list('::ffff:10.2.3.4')).toBe(true)
    expect(list('::1')).toBe(true)
    expect(list('192.168.1.1')).toBe(true)
    expect(list('192.168.1.2')).toBe(false)
    expect(list('not-an-ip')).toBe(false)
    expect(compileTrustProxy(undefined)('10.0.0.1')).toBe(false)
    expect(compileTrustProxy((a) => a === 'x')('x')).toBe(true)
    expect(compileTrustProxy({ isTrusted: (a) => a === 'y' })('y')).toBe(true)
    expect(() => compileTrustProxy(['nope/8'])).toThrow(/invalid trusted proxy/)
  })
})

describe('upstream helpers', () => {
  it('detects request bodies', () => {
    expect(hasRequestBody({})).toBe(false)
    expect(hasRequestBody({ 'content-length': '0' })).toBe(false)
    expect(hasRequestBody({ 'content-length': '5' })).toBe(true)
    expect(hasRequestBody({ 'transfer-encoding': 'chunked' })).toBe(true)
  })

  it('joins base paths and forwarded paths', () => {
    expect(joinPath('', '/a?b=1')).toBe('/a?b=1')
    expect(joinPath('/v1', '/a?b=1')).toBe('/v1/a?b=1')
    expect(joinPath('/v1', '')).toBe('/v1')
    expect(joinPath('', '')).toBe('/')
    expect(joinPath('/v1', '?q=1')).toBe('/v1?q=1')
    expect(joinPath('', '?q=1')).toBe('/?q=1')
  })

  it('retries only idempotent methods, with jittered exponential backoff', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
      expect(isIdempotentMethod(m)).toBe(true)
    for (const m of ['POST', 'PATCH', 'CONNECT']) expect(isIdempotentMethod(m)).toBe(false)
    expect(backoffDelay(50, 0, () => 0)).toBe(25)
    expect(backoffDelay(50, 0, () => 1)).toBe(50)
    expect(backoffDelay(50, 3, () => 0.5)).toBe(300)
    expect(backoffDelay(1000, 20, () => 1)).toBe(10_000)
  })

  it('maps upstream errors to the fixed status table', () => {
    const err = (code: string) => Object.assign(new Error(code), { code })
    const cases: [string, number, string, boolean][] = [
      ['ECONNREFUSED', 502, 'GW_ERR_UPSTREAM_UNAVAILABLE', true],
      ['ENOTFOUND', 502, 'GW_ERR_UPSTREAM_UNAVAILABLE', false],
      ['EHOSTUNREACH', 502, 'GW_ERR_UPSTREAM_UNAVAILABLE', true],
      ['ECONNRESET', 502, 'GW_ERR_UPSTREAM_RESET', true],
      ['UND_ERR_SOCKET', 502, 'GW_ERR_UPSTREAM_RESET', true],
      ['UND_ERR_CONNECT_TIMEOUT', 504, 'GW_ERR_UPSTREAM_TIMEOUT', true],
      ['UND_ERR_HEADERS_TIMEOUT', 504, 'GW_ERR_UPSTREAM_TIMEOUT', false],
      ['HPE_INVALID_CONSTANT', 502, 'GW_ERR_UPSTREAM_PROTOCOL', false],
      ['UND_ERR_HEADERS_OVERFLOW', 502, 'GW_ERR_UPSTREAM_PROTOCOL', false],
      ['UND_ERR_CLOSED', 503, 'GW_ERR_SHUTTING_DOWN', false],
      ['UND_ERR_INVALID_ARG', 500, 'GW_ERR_INTERNAL', false],
      ['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 400, 'GW_ERR_BAD_REQUEST', false],
      ['CERT_HAS_EXPIRED', 502, 'GW_ERR_UPSTREAM_TLS', false],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 502, 'GW_ERR_UPSTREAM_TLS', false],
      ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 502, 'GW_ERR_UPSTREAM_TLS', false],
    ]
    for (const [code, status, gwCode, retriable] of cases) {
      const failure = mapUpstreamError(err(code), 'users')
      expect([failure.error.status, failure.error.code, failure.retriable, failure.code], code).toEqual([
        status,
        gwCode,
        retriable,
        code,
      ])
      expect(failure.error.cause).toBeInstanceOf(Error)
    }
    const parser = Object.assign(new Error('Expected HTTP/'), { name: 'HTTPParserError', code: undefined })
    expect(mapUpstreamError(parser, 'users').error.code).toBe('GW_ERR_UPSTREAM_PROTOCOL')
    const wrapped = mapUpstreamError(new Error('fetch failed', { cause: err('ECONNREFUSED') }), 'users')
    expect(wrapped.error.code).toBe('GW_ERR_UPSTREAM_UNAVAILABLE')
    expect(mapUpstreamError(err('ECONNREFUSED'), 'users').error.expose).toBe(false)
  })
})
