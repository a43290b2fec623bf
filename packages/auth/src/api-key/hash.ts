import { createHash, randomBytes } from 'node:crypto'

/**
 * The SHA-256 hash (lowercase hex) under which an API key is configured. Configure this, never the key.
 * From a shell: `npx gw-auth hash-key` (reads the key from stdin).
 *
 * @example
 * ```ts
 * hashApiKey('gw_3q2+7w...') // '5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8'
 * ```
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/**
 * Generates a new random API key (256 bits, base64url, `gw_` prefix) and its hash.
 *
 * @example
 * ```ts
 * const { key, sha256 } = generateApiKey()
 * // give `key` to the client once; put `sha256` in the gateway config
 * ```
 */
export function generateApiKey(prefix = 'gw_'): { key: string; sha256: string } {
  const key = prefix + randomBytes(32).toString('base64url')
  return { key, sha256: hashApiKey(key) }
}
