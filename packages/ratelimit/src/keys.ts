import { createHash } from 'node:crypto'
import { type Exchange, principalKey } from '@gw/core'

/**
 * What a limit counts by.
 *
 * @example
 * ```ts
 * KEY_KINDS.includes('principal') // true
 * ```
 */
export const KEY_KINDS = ['ip', 'header', 'principal', 'consumer', 'route', 'global', 'custom'] as const

/**
 * One of {@link KEY_KINDS}: client ip, a request header (an API key), the authenticated principal's subject, its
 * consumer (or subject), the route id, one counter for everyone, or a function.
 *
 * @example
 * ```ts
 * const kind: KeyKind = 'principal'
 * ```
 */
export type KeyKind = (typeof KEY_KINDS)[number]

/**
 * Computes a limit's key for a request; `undefined` means the limit does not apply to this request.
 *
 * @example
 * ```ts
 * const byTenant: KeyFunction = (ex) => ex.request.headers['x-tenant'] as string | undefined
 * ```
 */
export type KeyFunction = (ex: Exchange) => string | undefined

/**
 * Builds the key function for a kind, once at start-up.
 *
 * @example
 * ```ts
 * keyFunction('ip')(ex) // '10.0.0.1'
 * ```
 */
export function keyFunction(kind: KeyKind, header?: string, custom?: KeyFunction): KeyFunction {
  switch (kind) {
    case 'ip':
      return (ex) => ex.request.ip || undefined
    case 'header': {
      const name = header!
      return (ex) => {
        const value = ex.request.headers[name]
        const first = Array.isArray(value) ? value[0] : value
        return first === undefined || first === '' ? undefined : first
      }
    }
    case 'principal':
      return (ex) => ex.get(principalKey)?.subject
    case 'consumer':
      return (ex) => {
        const principal = ex.get(principalKey)
        return principal === undefined ? undefined : (principal.consumer ?? principal.subject)
      }
    case 'route':
      return (ex) => ex.route.id
    case 'global':
      return () => '*'
    case 'custom':
      return custom!
  }
}

/**
 * Keeps store keys short and free of hash-tag braces: values over 96 characters or containing `{`/`}` are
 * replaced by their SHA-256 (base64url).
 *
 * @example
 * ```ts
 * keyPart('10.0.0.1') // '10.0.0.1'
 * ```
 */
export function keyPart(value: string): string {
  if (value.length <= 96 && !value.includes('{') && !value.includes('}')) return value
  return `#${createHash('sha256').update(value).digest('base64url')}`
}

/**
 * Whether the kind's key may be shown in logs and decision records (header and custom keys may be secrets).
 *
 * @example
 * ```ts
 * isLoggableKey('ip') // true
 * ```
 */
export function isLoggableKey(kind: KeyKind): boolean {
  return kind !== 'header' && kind !== 'custom'
}
