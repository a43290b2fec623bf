import { request } from 'node:http'
import { createGateway, type Gateway, type GatewayOptions } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'

/** A real gateway on 127.0.0.1 in front of an echoing fake upstream. */
export interface Harness {
  gw: Gateway
  upstream: FakeUpstream
  url: string
  close(): Promise<void>
}

export async function startHarness(
  options: Omit<GatewayOptions, 'upstreams'> & { upstream?: FakeUpstream },
): Promise<Harness> {
  const upstream = options.upstream ?? (await startFakeUpstream())
  const gw = await createGateway({
    ...options,
    upstreams: { api: { url: upstream.url } },
    server: { host: '127.0.0.1', port: 0 },
  })
  await gw.listen()
  return {
    gw,
    upstream,
    url: gw.url,
    async close() {
      await gw.close()
      await upstream.close()
    },
  }
}

/** Sends a request with raw header lines (duplicates allowed), which fetch cannot do. */
export function rawRequest(
  url: string,
  headers: [string, string][],
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const flat = [['Host', new URL(url).host], ...headers].flat()
    const req = request(url, { method: 'GET', headers: flat }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}
