import type { CacheEntry } from './types.js'

type Meta = Omit<CacheEntry, 'body'>

/**
 * Encodes an entry as bytes: a 4-byte big-endian length, the JSON metadata, then the raw body (binary-safe).
 *
 * @example
 * ```ts
 * const bytes = encodeEntry(entry)
 * decodeEntry(bytes).body.equals(entry.body) // true
 * ```
 */
export function encodeEntry(entry: CacheEntry): Buffer {
  const { body, ...meta } = entry
  const json = Buffer.from(JSON.stringify(meta))
  const out = Buffer.allocUnsafe(4 + json.length + body.length)
  out.writeUInt32BE(json.length, 0)
  json.copy(out, 4)
  body.copy(out, 4 + json.length)
  return out
}

/**
 * Decodes bytes made by {@link encodeEntry}; `undefined` for anything malformed.
 *
 * @example
 * ```ts
 * const entry = decodeEntry(bytes)
 * ```
 */
export function decodeEntry(bytes: Buffer): CacheEntry | undefined {
  if (bytes.length < 4) return undefined
  const length = bytes.readUInt32BE(0)
  if (4 + length > bytes.length) return undefined
  try {
    const meta = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as Meta
    if (typeof meta.key !== 'string' || typeof meta.expiresAt !== 'number') return undefined
    return { ...meta, body: bytes.subarray(4 + length) }
  } catch {
    return undefined
  }
}
