import type { IncomingHttpHeaders } from 'node:http'

/**
 * Hop-by-hop header names (RFC 9110 §7.6.1): never forwarded in either direction. Headers listed in
 * `Connection` are hop-by-hop too; see {@link connectionTokens}.
 *
 * @example
 * ```ts
 * HOP_BY_HOP_HEADERS.has('keep-alive') // true
 * ```
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
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

const DROPPED_UPSTREAM: ReadonlySet<string> = new Set([...HOP_BY_HOP_HEADERS, 'host', 'expect'])

/** Headers sent upstream: a plain object with lowercase names, as undici takes them. */
export type UpstreamRequestHeaders = Record<string, string | string[]>

/** Response headers as undici returns them (lowercase names). */
export type UpstreamResponseHeaders = Record<string, string | string[] | undefined>

/** What {@link buildUpstreamHeaders} reads from the client request (a `GwRequest` fits). */
export interface ForwardingSource {
  readonly headers: IncomingHttpHeaders
  readonly protocol: string
  readonly host: string
}

/** Start-up settings of {@link buildUpstreamHeaders}. */
export interface ForwardingOptions {
  /** The `Via` entry gw adds, e.g. `1.1 gw`. */
  readonly via: string
  /** Header carrying the request id upstream (lowercase). */
  readonly requestIdHeader: string
  /** Send the client's Host upstream instead of letting the client library use the target host. */
  readonly preserveHost: boolean
  /** Whether a direct peer is a trusted proxy whose forwarding headers are extended rather than replaced. */
  readonly isTrustedProxy: (address: string) => boolean
}

/**
 * Parses the `Connection` header into the lowercase names of the extra hop-by-hop headers it lists.
 * Returns `undefined` when it lists none beyond `close` / `keep-alive` (the common case, allocation-free).
 *
 * @example
 * ```ts
 * connectionTokens('keep-alive, X-Trace') // ['x-trace']
 * connectionTokens('close') // undefined
 * ```
 */
export function connectionTokens(value: string | string[] | number | undefined): string[] | undefined {
  if (value === undefined || typeof value === 'number') return undefined
  const raw = typeof value === 'string' ? value : value.join(',')
  if (raw.length <= 10) {
    const lower = raw.toLowerCase()
    if (lower === 'keep-alive' || lower === 'close' || lower === '') return undefined
  }
  let out: string[] | undefined
  for (const part of raw.split(',')) {
    const name = part.trim().toLowerCase()
    if (name === '' || HOP_BY_HOP_HEADERS.has(name)) continue
    if (name === 'close') continue
    out ??= []
    out.push(name)
  }
  return out
}

const TOKEN_CHARS = (() => {
  const table = new Uint8Array(128)
  const specials = "!#$%&'*+-.^_`|~"
  for (let c = 48; c <= 57; c++) table[c] = 1
  for (let c = 65; c <= 90; c++) table[c] = 1
  for (let c = 97; c <= 122; c++) table[c] = 1
  for (const ch of specials) table[ch.charCodeAt(0)] = 1
  return table
})()

function isToken(value: string): boolean {
  if (value === '') return false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c > 127 || TOKEN_CHARS[c] !== 1) return false
  }
  return true
}

function quoted(value: string): string {
  if (value.includes('"') || value.includes('\\'))
    value = value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')
  return '"' + value + '"'
}

/**
 * Formats one RFC 7239 `Forwarded` element. IPv6 nodes are bracketed and quoted; values that are not
 * tokens (a host with a port) are quoted.
 *
 * @example
 * ```ts
 * formatForwarded('2001:db8::1', 'https', 'api.example.com:8443')
 * // 'for="[2001:db8::1]";proto=https;host="api.example.com:8443"'
 * ```
 */
export function formatForwarded(forAddress: string, proto: string, host: string): string {
  let node: string
  if (forAddress === '') node = 'unknown'
  else if (forAddress.includes(':')) node = quoted('[' + forAddress + ']')
  else node = isToken(forAddress) ? forAddress : quoted(forAddress)
  let out = 'for=' + node + ';proto=' + proto
  if (host !== '') out += ';host=' + (isToken(host) ? host : quoted(host))
  return out
}

function joinHeader(value: string | string[]): string {
  return typeof value === 'string' ? value : value.join(', ')
}

/**
 * Builds the headers sent upstream from the client request, in one pass and one object: drops hop-by-hop
 * headers (and those listed in `Connection`), HTTP/2 pseudo-headers (`:authority`, `:path`, ...), `Host`
 * (unless `preserveHost`) and `Expect`; sets
 * `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host`, `Forwarded`, `Via` and the request id.
 * Incoming `X-Forwarded-For` / `Forwarded` are extended when `peer` is a trusted proxy and replaced otherwise;
 * a trusted proxy's `X-Forwarded-Proto` / `X-Forwarded-Host` are kept.
 *
 * @example
 * ```ts
 * const headers = buildUpstreamHeaders(ex.request, '10.0.0.5', ex.id, {
 *   via: '1.1 gw', requestIdHeader: 'x-request-id', preserveHost: false, isTrustedProxy: () => false,
 * })
 * headers['x-forwarded-for'] // '10.0.0.5'
 * ```
 */
export function buildUpstreamHeaders(
  source: ForwardingSource,
  peer: string,
  requestId: string,
  options: ForwardingOptions,
): UpstreamRequestHeaders {
  const incoming = source.headers
  const listed = incoming.connection === undefined ? undefined : connectionTokens(incoming.connection)
  const out: UpstreamRequestHeaders = {}
  for (const name in incoming) {
    const value = incoming[name]
    if (value === undefined || DROPPED_UPSTREAM.has(name) || name.charCodeAt(0) === 58) continue
    if (listed?.includes(name)) continue
    out[name] = value
  }

  const xff = out['x-forwarded-for']
  const forwarded = out.forwarded
  const trusted =
    (xff !== undefined ||
      forwarded !== undefined ||
      out['x-forwarded-proto'] !== undefined ||
      out['x-forwarded-host'] !== undefined) &&
    options.isTrustedProxy(peer)
  out['x-forwarded-for'] = trusted && xff !== undefined ? joinHeader(xff) + ', ' + peer : peer
  if (!trusted || out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = source.protocol
  if (!trusted || out['x-forwarded-host'] === undefined) out['x-forwarded-host'] = source.host
  const element = formatForwarded(peer, source.protocol, source.host)
  out.forwarded = trusted && forwarded !== undefined ? joinHeader(forwarded) + ', ' + element : element
  const via = out.via
  out.via = via === undefined ? options.via : joinHeader(via) + ', ' + options.via
  out[options.requestIdHeader] = requestId
  if (options.preserveHost && source.host !== '') out.host = source.host
  return out
}

/**
 * Prepares upstream response headers for the client: a copy without hop-by-hop headers (and those listed in
 * `Connection`), with gw's `Via` entry appended. A copy rather than `delete`s: deleting a property in the
 * middle of an object turns it into a slow dictionary-mode object, which node then serialises per response.
 *
 * @example
 * ```ts
 * const headers = prepareResponseHeaders({ 'keep-alive': 'timeout=5', 'content-type': 'text/plain' }, '1.1 gw')
 * // { 'content-type': 'text/plain', via: '1.1 gw' }
 * ```
 */
export function prepareResponseHeaders<H extends UpstreamResponseHeaders>(headers: H, via: string): H {
  const record: UpstreamResponseHeaders = headers
  const connection = record.connection
  const listed = connection === undefined ? undefined : connectionTokens(connection)
  const out: UpstreamResponseHeaders = {}
  for (const name in record) {
    const value = record[name]
    if (value === undefined || HOP_BY_HOP_HEADERS.has(name)) continue
    if (listed?.includes(name)) continue
    out[name] = value
  }
  const existing = out.via
  out.via = existing === undefined ? via : joinHeader(existing) + ', ' + via
  return out as H
}
