import { BlockList, isIP, isIPv4 } from 'node:net'
import { definePolicy } from '@gw/core'
import { securityErrors } from '../errors.js'
import { ipFilterSchema } from './schema.js'

export { type IpFilterOptions, ipFilterSchema } from './schema.js'

/** A compiled address list. */
export interface AddressList {
  /** Number of rules. */
  readonly size: number
  /** Whether an address (IPv4, IPv6 or IPv4-mapped IPv6) matches a rule. */
  has(address: string): boolean
}

/**
 * Compiles addresses and CIDRs into a `node:net` BlockList (a prefix match per family, built once).
 *
 * @example
 * ```ts
 * const list = compileAddressList(['10.0.0.0/8', '2001:db8::/32'])
 * list.has('10.1.2.3') // true
 * ```
 */
export function compileAddressList(rules: readonly string[]): AddressList {
  const list = new BlockList()
  for (const rule of rules) {
    const slash = rule.indexOf('/')
    const address = slash === -1 ? rule : rule.slice(0, slash)
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6'
    if (slash === -1) list.addAddress(address, family)
    else list.addSubnet(address, Number(rule.slice(slash + 1)), family)
  }
  return {
    size: rules.length,
    has(address) {
      const family = isIP(address)
      if (family === 0) return false
      if (family === 4) return list.check(address, 'ipv4')
      const lower = address.toLowerCase()
      if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return list.check(lower.slice(7), 'ipv4')
      return list.check(address, 'ipv6')
    },
  }
}

/**
 * Allows or refuses clients by address: deny list first, then (when set) the allow list; refused clients get
 * 403 problem+json. The client address is the one @gw/core computed, honouring `server.trustProxy` (the
 * right-most untrusted `X-Forwarded-For` hop), so a spoofed header from an untrusted peer changes nothing.
 *
 * @example
 * ```ts
 * ipFilter({ allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.6.6.6'] })
 * ```
 */
export const ipFilter = definePolicy({
  name: 'ip-filter',
  stage: 'guard',
  description:
    'Allow/deny lists of IPv4/IPv6 addresses and CIDRs for the (trusted-proxy aware) client address.',
  schema: ipFilterSchema,
  create(options) {
    const deny = compileAddressList(options.deny)
    const allow = compileAddressList(options.allow)
    return {
      onRequest(ex) {
        const ip = ex.request.ip
        if (deny.size > 0 && deny.has(ip)) {
          throw securityErrors.ipDenied.create(`Client address ${ip} is not allowed`, {
            decision: { rule: 'deny', key: ip, reason: 'ip-denied' },
          })
        }
        if (allow.size > 0 && !allow.has(ip)) {
          throw securityErrors.ipDenied.create(`Client address ${ip} is not allowed`, {
            decision: { rule: 'allow', key: ip, reason: 'ip-not-allowed' },
          })
        }
      },
    }
  },
})
