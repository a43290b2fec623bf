import { BlockList, isIP } from 'node:net'
import { coreErrors } from '../errors.js'

/** Resolves the client address behind a configured list of trusted proxies. */
export interface ClientAddressResolver {
  /** The client ip: the peer, or the right-most untrusted address of `X-Forwarded-For` when the peer is trusted. */
  clientIp(peer: string, forwardedFor: string | string[] | undefined): string
  /** Whether an address belongs to a trusted proxy. */
  isTrusted(address: string): boolean
}

/**
 * Builds a resolver from CIDRs/addresses, using node's `BlockList` (no parsing per request beyond XFF).
 *
 * @example
 * ```ts
 * const r = createClientAddressResolver(['10.0.0.0/8'])
 * r.clientIp('10.0.0.5', '203.0.113.9, 10.0.0.7') // '203.0.113.9'
 * ```
 */
export function createClientAddressResolver(trusted: readonly string[]): ClientAddressResolver {
  if (trusted.length === 0) {
    return { clientIp: (peer) => normaliseIp(peer), isTrusted: () => false }
  }
  const list = new BlockList()
  for (const entry of trusted) {
    const [address, bits] = entry.split('/') as [string, string | undefined]
    const version = isIP(address)
    if (version === 0)
      throw coreErrors.config.create(`invalid trusted proxy '${entry}': expected an IP address or CIDR`)
    const family = version === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(bits), family)
  }
  const isTrusted = (address: string): boolean => {
    const family = isIP(address)
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }
  return {
    isTrusted: (address) => isTrusted(normaliseIp(address)),
    clientIp(peer, forwardedFor) {
      const ip = normaliseIp(peer)
      if (forwardedFor === undefined || !isTrusted(ip)) return ip
      const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',')
      let client = ip
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = normaliseIp(hops[i]!.trim())
        if (isIP(hop) === 0) break
        client = hop
        if (!isTrusted(hop)) break
      }
      return client
    },
  }
}

/**
 * Maps IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) to plain IPv4.
 *
 * @example
 * ```ts
 * normaliseIp('::ffff:127.0.0.1') // '127.0.0.1'
 * ```
 */
export function normaliseIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
