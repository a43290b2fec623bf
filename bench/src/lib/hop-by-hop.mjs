// Hop-by-hop header stripping shared by the hand-written Node proxies (floor, pipeline-floor).

// RFC 9110 section 7.6.1 connection-specific fields, plus the legacy ones every proxy strips.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Copies headers without hop-by-hop fields (and without those the Connection header names). */
export function stripHopByHop(headers) {
  const out = {}
  const connection = headers.connection
  const lower = typeof connection === 'string' ? connection.toLowerCase() : ''
  const named = lower === '' || lower === 'keep-alive' || lower === 'close' ? [] : lower.split(',')
  for (const name in headers) {
    if (HOP_BY_HOP.has(name)) continue
    if (named.length > 0 && named.some((n) => n.trim() === name)) continue
    out[name] = headers[name]
  }
  return out
}
