import type { IncomingMessage } from 'node:http'

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_~!$&'()*+,;=%]+)(?::\d{1,5})?$/

/**
 * Accepts an incoming request id only if it is short and made of safe characters; otherwise returns undefined.
 *
 * @example
 * ```ts
 * acceptRequestId('abc-123') // 'abc-123'
 * acceptRequestId('bad id\n') // undefined
 * ```
 */
export function acceptRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : undefined
}

/**
 * Returns the Host header if the request has exactly one syntactically valid Host, else undefined.
 * Node keeps only the first of duplicate Host headers, so the raw headers are scanned for a second one. On
 * HTTP/2 the host is the `:authority` pseudo-header (or `host` when a client sends that instead).
 *
 * @example
 * ```ts
 * validHost(req) // 'api.example.com:8080'
 * ```
 */
export function validHost(req: IncomingMessage): string | undefined {
  if (req.httpVersionMajor === 2) {
    const authority = req.headers[':authority'] ?? req.headers.host
    return typeof authority === 'string' && HOST.test(authority) ? authority : undefined
  }
  const host = req.headers.host
  if (host === undefined || !HOST.test(host)) return undefined
  const raw = req.rawHeaders
  let count = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 4 && name.toLowerCase() === 'host' && ++count > 1) return undefined
  }
  return host
}

/**
 * True when the path holds dot-segments (`/../`, `/./`, or their percent-encoded forms), which could make a
 * request match one route here and reach another resource upstream after normalisation.
 *
 * @example
 * ```ts
 * hasDotSegment('/api/public/../admin') // true
 * ```
 */
export function hasDotSegment(path: string): boolean {
  if (path.includes('/.')) {
    for (const segment of path.split('/')) if (segment === '.' || segment === '..') return true
  }
  if (path.includes('%')) {
    const lowered = path.toLowerCase()
    if (lowered.includes('%2e')) {
      for (const segment of lowered.replaceAll('%2e', '.').split('/'))
        if (segment === '.' || segment === '..') return true
    }
  }
  return false
}
