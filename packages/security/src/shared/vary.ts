import type { ResponseHeaders } from '@gw/core'

/**
 * Adds field names to a response's `Vary` header (RFC 9110 §12.5.5), keeping existing names, skipping
 * duplicates case-insensitively, and leaving `Vary: *` alone.
 *
 * @example
 * ```ts
 * const headers = { vary: 'Accept-Encoding' }
 * appendVary(headers, 'Origin') // headers.vary === 'Accept-Encoding, Origin'
 * ```
 */
export function appendVary(headers: ResponseHeaders, names: string): void {
  const current = headers.vary
  if (current === undefined || current === '') {
    headers.vary = names
    return
  }
  const existing = (Array.isArray(current) ? current.join(',') : String(current)).trim()
  if (existing === '*') return
  const have = new Set(
    existing
      .toLowerCase()
      .split(',')
      .map((s) => s.trim()),
  )
  if (have.has('*')) return
  let out = existing
  for (const name of names.split(',')) {
    const trimmed = name.trim()
    if (!have.has(trimmed.toLowerCase())) {
      out += `, ${trimmed}`
      have.add(trimmed.toLowerCase())
    }
  }
  headers.vary = out
}
