import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { freePort } from '@gw/core/testing'
import { DEMO_API_KEY, type Env } from '../../src/gateway.js'

/** Headers that authenticate as the demo consumer. */
export const WITH_KEY = { 'x-api-key': DEMO_API_KEY } as const

/**
 * The environment of an app under test: silent logs, a metrics listener on a free port, a per-ip limit high
 * enough for a whole suite, plus `extra`.
 */
export async function testEnv(extra: Env = {}): Promise<Env & { PROMETHEUS_PORT: string }> {
  return {
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX_REQUESTS: '100000',
    PROMETHEUS_PORT: String(await freePort()),
    ...extra,
  } as Env & { PROMETHEUS_PORT: string }
}

export interface RawReply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** A raw node:http request: any method, any header (Origin), and the body bytes as sent (no decompression). */
export function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}
