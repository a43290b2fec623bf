import { isIP } from 'node:net'
import { z } from '@gw/core'

const cidr = z.string().refine(
  (value) => {
    const slash = value.indexOf('/')
    const address = slash === -1 ? value : value.slice(0, slash)
    const family = isIP(address)
    if (family === 0) return false
    if (slash === -1) return true
    const bits = value.slice(slash + 1)
    return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
  },
  { message: 'expected an IPv4/IPv6 address or CIDR (203.0.113.0/24, 2001:db8::/32)' },
)

/** Options of the `ip-filter` policy. */
export const ipFilterSchema = z
  .object({
    allow: z
      .array(cidr)
      .default([])
      .describe(
        'Addresses and CIDRs allowed; when non-empty, every other client is refused (403). IPv4 rules also match IPv4-mapped IPv6 clients (`::ffff:203.0.113.9`).',
      ),
    deny: z
      .array(cidr)
      .default([])
      .describe(
        'Addresses and CIDRs refused (403); checked before `allow`, so a deny inside an allowed range wins.',
      ),
  })
  .strict()
  .refine((o) => o.allow.length > 0 || o.deny.length > 0, {
    message: 'ip-filter needs at least one allow or deny rule',
  })

/** Parsed options of the `ip-filter` policy. */
export type IpFilterOptions = z.output<typeof ipFilterSchema>
