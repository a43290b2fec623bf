/**
 * 32-bit hash of a string: FNV-1a over its UTF-16 code units, seeded, with murmur3's final mix so that
 * similar keys (`target-1`, `target-2`) land far apart. Stable across processes and versions: consistent-hash
 * placements depend on it.
 *
 * @example
 * ```ts
 * hash32('user-42') === hash32('user-42') // true
 * hash32('user-42', 1) !== hash32('user-42', 2) // true (almost surely)
 * ```
 */
export function hash32(value: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
