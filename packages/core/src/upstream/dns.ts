import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/** Resolves a hostname to its addresses (A and/or AAAA). Injected in tests. */
export type DnsResolver = (hostname: string, family: 0 | 4 | 6) => Promise<string[]>

/**
 * The default resolver: the system resolver (`getaddrinfo`, honouring /etc/hosts), every address.
 *
 * @example
 * ```ts
 * await systemResolver('localhost', 4) // ['127.0.0.1']
 * ```
 */
export const systemResolver: DnsResolver = async (hostname, family) => {
  const results = await lookup(hostname, { all: true, family, order: 'ipv4first' })
  return [...new Set(results.map((r) => r.address))]
}

/**
 * Whether a target URL names a host that needs resolving (not an IP literal).
 *
 * @example
 * ```ts
 * needsResolution('http://users.internal:3001') // true
 * needsResolution('http://10.0.0.5:3001') // false
 * ```
 */
export function needsResolution(url: string): boolean {
  const host = new URL(url).hostname
  return isIP(host.startsWith('[') ? host.slice(1, -1) : host) === 0
}

/**
 * Expands a hostname target into one target per address: the URL with the address as host, and the original
 * authority kept for the `Host` header.
 *
 * @example
 * ```ts
 * expandTarget('http://users.internal:3001/v1', 2, ['10.0.0.5', 'fd00::5'])
 * // [{ url: 'http://10.0.0.5:3001/v1', weight: 2, hostHeader: 'users.internal:3001' },
 * //  { url: 'http://[fd00::5]:3001/v1', weight: 2, hostHeader: 'users.internal:3001' }]
 * ```
 */
export function expandTarget(
  url: string,
  weight: number,
  addresses: readonly string[],
): { url: string; weight: number; hostHeader: string }[] {
  const parsed = new URL(url)
  const hostHeader = parsed.host
  return addresses.map((address) => {
    const copy = new URL(url)
    copy.hostname = address.includes(':') ? `[${address}]` : address
    const text = parsed.pathname === '/' && !url.endsWith('/') ? copy.origin : copy.href
    return { url: text, weight, hostHeader }
  })
}
