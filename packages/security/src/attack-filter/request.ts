import type { IncomingMessage } from 'node:http'
import type { Exchange } from '@gw/core'
import type { RequestInfo } from '../seclang/index.js'

/**
 * The request as the SecLang engine sees it: method, the request target as received (absolute-form kept), protocol,
 * and the headers in received order
 * with their original names (node's `rawHeaders`, so repeated headers stay separate), as byte strings.
 *
 * @example
 * ```ts
 * requestInfo(ex).headers // [['Host', 'example.com'], ['User-Agent', 'curl/8.5.0']]
 * ```
 */
export function requestInfo(ex: Exchange): RequestInfo {
  const req = ex.request
  const message = req.body as Partial<IncomingMessage>
  const raw = message.rawHeaders
  const headers: [string, string][] = []
  if (raw !== undefined && message.httpVersionMajor !== 2) {
    for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!])
  } else {
    for (const name in req.headers) {
      if (name.startsWith(':')) continue
      const value = req.headers[name]
      if (value === undefined) continue
      if (typeof value === 'string') headers.push([name, value])
      else for (const v of value) headers.push([name, v])
    }
  }
  const version = message.httpVersion ?? '1.1'
  return {
    method: req.method,
    uri: message.url ?? req.url,
    protocol: version === '2.0' ? 'HTTP/2.0' : `HTTP/${version}`,
    headers,
    remoteAddr: req.ip,
    remotePort: message.socket?.remotePort,
    serverPort: message.socket?.localPort,
    uniqueId: ex.id,
  }
}
