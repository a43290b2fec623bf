/**
 * Appends this cache's member to a `Cache-Status` value (RFC 9211): caches add their entry after those of
 * caches closer to the origin.
 *
 * @example
 * ```ts
 * appendCacheStatus('origin-cdn; hit', 'gw; fwd=uri-miss; stored') // 'origin-cdn; hit, gw; fwd=uri-miss; stored'
 * ```
 */
export function appendCacheStatus(existing: string | string[] | number | undefined, member: string): string {
  if (existing === undefined || existing === '') return member
  return `${Array.isArray(existing) ? existing.join(', ') : String(existing)}, ${member}`
}
