import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls'
import { coreErrors } from '../errors.js'
import type { TlsConfig } from './schema.js'

/** The certificates of an HTTPS listener, read from their files and checked. */
export interface LoadedCertificates {
  /** Options of the default secure context (for `tls.createServer` and `server.setSecureContext`). */
  readonly defaults: SecureContextOptions
  /** Resolves the secure context for an SNI name; undefined: use the default certificate. */
  readonly select: (servername: string) => SecureContext | undefined
  /** Every file read, for `tls.watch`. */
  readonly files: readonly string[]
}

function readPem(path: string, where: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw invalid(where, `cannot read ${what} '${path}': ${(error as Error).message}`, error)
  }
}

function invalid(where: string, message: string, cause?: unknown) {
  const issues = [{ path: where, message }]
  return coreErrors.config.create(`invalid gateway configuration:\n  - ${where}: ${message}`, {
    cause,
    extensions: { issues },
  })
}

function context(options: SecureContextOptions, where: string): SecureContext {
  try {
    return createSecureContext(options)
  } catch (error) {
    throw invalid(where, `invalid certificate or key: ${(error as Error).message}`, error)
  }
}

/**
 * Reads the certificate, key and CA files of `server.tls`, builds one secure context per entry (so a bad PEM
 * or a key that does not match its certificate fails here, with the config path) and returns the default
 * context options plus an SNI selector: exact names first, then `*.example.com` wildcards matching one label.
 * Throws a `GW_ERR_CONFIG` error naming the option path (`server.tls.certificates[1].key`) on any problem.
 *
 * @example
 * ```ts
 * const loaded = loadCertificates(tlsSchema.parse({ cert: 'tls.crt', key: 'tls.key' }))
 * server.setSecureContext(loaded.defaults)
 * ```
 */
export function loadCertificates(tls: TlsConfig, base = 'server.tls'): LoadedCertificates {
  const files: string[] = [tls.cert, tls.key]
  const shared: SecureContextOptions = {
    minVersion: tls.minVersion,
    ...(tls.ciphers === undefined ? {} : { ciphers: tls.ciphers }),
  }
  if (tls.ca !== undefined) {
    shared.ca = readPem(tls.ca, `${base}.ca`, 'CA file')
    files.push(tls.ca)
  }
  const defaults: SecureContextOptions = {
    ...shared,
    cert: readPem(tls.cert, `${base}.cert`, 'certificate'),
    key: readPem(tls.key, `${base}.key`, 'key'),
    ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }),
  }
  context(defaults, base)
  const exact = new Map<string, SecureContext>()
  const wildcard = new Map<string, SecureContext>()
  tls.certificates.forEach((entry, i) => {
    const where = `${base}.certificates[${i}]`
    files.push(entry.cert, entry.key)
    const ctx = context(
      {
        ...shared,
        cert: readPem(entry.cert, `${where}.cert`, 'certificate'),
        key: readPem(entry.key, `${where}.key`, 'key'),
        ...(entry.passphrase === undefined ? {} : { passphrase: entry.passphrase }),
      },
      where,
    )
    for (const host of entry.hosts) {
      if (host.startsWith('*.')) {
        if (!wildcard.has(host.slice(2))) wildcard.set(host.slice(2), ctx)
      } else if (!exact.has(host)) exact.set(host, ctx)
    }
  })
  const select = (servername: string): SecureContext | undefined => {
    if (exact.size === 0 && wildcard.size === 0) return undefined
    const name = servername.toLowerCase()
    const hit = exact.get(name)
    if (hit !== undefined) return hit
    const dot = name.indexOf('.')
    return dot > 0 ? wildcard.get(name.slice(dot + 1)) : undefined
  }
  return { defaults, select, files: [...new Set(files)] }
}
