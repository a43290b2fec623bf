/**
 * Content codings the compress policy can produce.
 *
 * @example
 * ```ts
 * const coding: Coding = 'br'
 * ```
 */
export type Coding = 'br' | 'gzip'

/**
 * The outcome of negotiating `Accept-Encoding`.
 *
 * @example
 * ```ts
 * const { coding, identityRefused }: Negotiation = negotiate('gzip', ['br', 'gzip'])
 * ```
 */
export interface Negotiation {
  /** The coding to use, or `undefined` for identity. */
  coding: Coding | undefined
  /** True when the client refused identity (`identity;q=0`, or `*;q=0` without identity listed). */
  identityRefused: boolean
}

const QVALUE = /^q=(0(\.\d{0,3})?|1(\.0{0,3})?)$/i

/**
 * Picks a content coding from an `Accept-Encoding` value per RFC 9110 §12.5.3: explicit q-values win,
 * `*` covers codings not listed, `q=0` means "not acceptable", `x-gzip` is `gzip`; ties go to the server's
 * preference order, and an identity the client ranks higher (explicitly or through `*`) wins over codings. No header or an empty one means identity. Malformed members are ignored.
 *
 * @example
 * ```ts
 * negotiate('gzip;q=0.8, br', ['br', 'gzip']) // { coding: 'br', identityRefused: false }
 * negotiate('*;q=0, gzip', ['br', 'gzip']) // { coding: 'gzip', identityRefused: true }
 * ```
 */
export function negotiate(header: string | undefined, preference: readonly Coding[]): Negotiation {
  if (header === undefined || header.trim() === '') return { coding: undefined, identityRefused: false }
  let star: number | undefined
  let identity: number | undefined
  const explicit = new Map<string, number>()
  for (const member of header.split(',')) {
    const parts = member.split(';')
    const name = parts[0]!.trim().toLowerCase()
    if (name === '') continue
    let q = 1
    let valid = true
    for (let i = 1; i < parts.length; i++) {
      const param = parts[i]!.trim().replaceAll(' ', '')
      if (param === '') continue
      const match = QVALUE.exec(param)
      if (match === null) {
        if (/^q=/i.test(param)) valid = false
        continue
      }
      q = Number(match[1])
    }
    if (!valid) continue
    const key = name === 'x-gzip' ? 'gzip' : name
    if (key === '*') star = Math.max(star ?? 0, q)
    else if (key === 'identity') identity = Math.max(identity ?? 0, q)
    else explicit.set(key, Math.max(explicit.get(key) ?? 0, q))
  }
  let best: Coding | undefined
  let bestQ = 0
  for (const coding of preference) {
    const q = explicit.get(coding) ?? star ?? 0
    if (q > bestQ) {
      best = coding
      bestQ = q
    }
  }
  const identityQ = identity ?? star
  if (identityQ !== undefined && bestQ < identityQ) best = undefined
  return { coding: best, identityRefused: identityQ === 0 }
}
