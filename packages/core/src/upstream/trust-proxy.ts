import { createClientAddressResolver } from '../util/ip.js'

/**
 * Which direct peers are trusted proxies: a list of addresses / CIDR blocks, a predicate, or an object with an
 * `isTrusted` predicate (such as the server's client-address resolver).
 */
export type TrustProxy =
  | readonly string[]
  | ((address: string) => boolean)
  | { isTrusted(address: string): boolean }

const never = (): boolean => false

/**
 * Compiles a {@link TrustProxy} setting into a predicate over peer addresses, once at start-up. Lists use
 * `node:net` `BlockList`; IPv4-mapped IPv6 peers match IPv4 entries.
 *
 * @example
 * ```ts
 * const trusted = compileTrustProxy(['10.0.0.0/8', '::1'])
 * trusted('10.1.2.3') // true
 * trusted('::ffff:10.1.2.3') // true
 * ```
 */
export function compileTrustProxy(trust: TrustProxy | undefined): (address: string) => boolean {
  if (trust === undefined) return never
  if (typeof trust === 'function') return trust
  if ('isTrusted' in trust) return (address) => trust.isTrusted(address)
  return createClientAddressResolver(trust).isTrusted
}
