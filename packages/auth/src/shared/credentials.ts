import type { IncomingMessage } from 'node:http'
import { cookieValues, type Exchange, withoutCookie, z } from '@gw/core'

/** Where a credential is read from. */
export const credentialSourceSchema = z.discriminatedUnion('in', [
  z
    .object({
      in: z.literal('header').describe('Read from a request header.'),
      name: z.string().min(1).toLowerCase().describe('Header name (case-insensitive).'),
      scheme: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Authentication scheme before the credential (e.g. `Bearer`), matched case-insensitively. Omit to take the whole header value.',
        ),
    })
    .strict(),
  z
    .object({
      in: z.literal('cookie').describe('Read from a cookie.'),
      name: z.string().min(1).describe('Cookie name.'),
    })
    .strict(),
  z
    .object({
      in: z.literal('query').describe('Read from a query parameter (visible in logs and caches: avoid).'),
      name: z.string().min(1).describe('Query parameter name.'),
    })
    .strict(),
])

/**
 * One configured credential source.
 *
 * @example
 * ```ts
 * const source: CredentialSource = { in: 'cookie', name: 'session' }
 * ```
 */
export type CredentialSource = z.output<typeof credentialSourceSchema>

/** The request carried the credential more than once (in one source or across several). */
export const DUPLICATE: unique symbol = Symbol('duplicate credential')
/** A source was present but unusable (empty value, or a scheme without a credential). */
export const MALFORMED: unique symbol = Symbol('malformed credential')

/** What a reader found: the credential, nothing, or one of the two problems. */
export type ReadResult = string | undefined | typeof DUPLICATE | typeof MALFORMED

/** A credential reader compiled at start-up from a list of sources. */
export interface CredentialReader {
  /** Finds exactly one credential across all sources; more than one is {@link DUPLICATE}, never "first wins". */
  read(ex: Exchange): ReadResult
  /** Removes the credential from what is forwarded upstream. */
  strip(ex: Exchange): void
}

type SourceReader = (ex: Exchange) => ReadResult

/**
 * Compiles credential sources into a reader. Header sources also check the raw header list, because node
 * keeps only the first of duplicate `Authorization` headers and would otherwise let the first one win.
 *
 * @example
 * ```ts
 * const reader = createCredentialReader([{ in: 'header', name: 'authorization', scheme: 'Bearer' }])
 * reader.read(createTestExchange({ headers: { authorization: 'Bearer abc' } })) // 'abc'
 * ```
 */
export function createCredentialReader(sources: readonly CredentialSource[]): CredentialReader {
  const readers = sources.map(compileSource)
  const strippers = sources.map(compileStripper)
  return {
    read(ex) {
      let found: ReadResult
      for (let i = 0; i < readers.length; i++) {
        const value = readers[i]!(ex)
        if (value === undefined) continue
        if (value === DUPLICATE || value === MALFORMED) return value
        if (found !== undefined) return DUPLICATE
        found = value
      }
      return found
    },
    strip(ex) {
      for (const strip of strippers) strip(ex)
    },
  }
}

function compileSource(source: CredentialSource): SourceReader {
  if (source.in === 'header') return headerReader(source.name, source.scheme)
  if (source.in === 'cookie') return cookieReader(source.name)
  return queryReader(source.name)
}

function headerReader(name: string, scheme: string | undefined): SourceReader {
  const prefix = scheme === undefined ? undefined : `${scheme.toLowerCase()} `
  return (ex) => {
    const raw = ex.request.headers[name]
    if (raw === undefined) return undefined
    if (Array.isArray(raw) || rawHeaderCount(ex, name) > 1) return DUPLICATE
    let value = raw
    if (prefix !== undefined) {
      if (value.length < prefix.length || value.slice(0, prefix.length).toLowerCase() !== prefix) {
        return value.trim().toLowerCase() === prefix.trim() ? MALFORMED : undefined
      }
      value = value.slice(prefix.length)
    }
    value = value.trim()
    if (value === '') return MALFORMED
    if (value.includes(',')) return DUPLICATE
    if (value.includes(' ')) return MALFORMED
    return value
  }
}

function rawHeaderCount(ex: Exchange, name: string): number {
  const raw = (ex.request.body as Partial<IncomingMessage>).rawHeaders
  if (raw === undefined) return 1
  let count = 0
  for (let i = 0; i < raw.length; i += 2) {
    const header = raw[i]!
    if (header.length === name.length && header.toLowerCase() === name) count++
  }
  return count
}

function cookieReader(name: string): SourceReader {
  return (ex) => {
    const values = cookieValues(ex.request.headers.cookie, name)
    if (values.length === 0) return undefined
    if (values.length > 1) return DUPLICATE
    const found = values[0]!
    if (found === '') return MALFORMED
    try {
      return decodeURIComponent(found)
    } catch {
      return MALFORMED
    }
  }
}

function queryReader(name: string): SourceReader {
  return (ex) => {
    if (!ex.request.search.includes(name)) return undefined
    const values = ex.request.query.getAll(name)
    if (values.length === 0) return undefined
    if (values.length > 1) return DUPLICATE
    return values[0] === '' ? MALFORMED : values[0]
  }
}

function compileStripper(source: CredentialSource): (ex: Exchange) => void {
  if (source.in === 'header') {
    return (ex) => {
      delete ex.request.headers[source.name]
    }
  }
  if (source.in === 'cookie') {
    const name = source.name
    return (ex) => {
      const headers = ex.request.headers
      if (headers.cookie === undefined) return
      const kept = withoutCookie(headers.cookie, name)
      if (kept === undefined) delete headers.cookie
      else headers.cookie = kept
    }
  }
  return (ex) => {
    const q = ex.upstreamPath.indexOf('?')
    if (q === -1) return
    const params = new URLSearchParams(ex.upstreamPath.slice(q + 1))
    if (!params.has(source.name)) return
    params.delete(source.name)
    const rest = params.toString()
    ex.upstreamPath = ex.upstreamPath.slice(0, q) + (rest === '' ? '' : `?${rest}`)
  }
}
