import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import { coreErrors } from '../errors.js'
import type { UpstreamTlsConfig } from './schema.js'

/**
 * Reads the files of an upstream's `tls` options once and returns node:tls connection options for undici's
 * `Pool` `connect` (and the WebSocket upgrade request). An unreadable file fails with `GW_ERR_CONFIG` naming the
 * option path (`upstreams.users.tls.ca`).
 *
 * @example
 * ```ts
 * const connect = loadUpstreamTls('users', { ca: 'ca.pem', rejectUnauthorized: true, minVersion: 'TLSv1.2' })
 * new Pool('https://users.internal', { connect })
 * ```
 */
export function loadUpstreamTls(upstream: string, tls: UpstreamTlsConfig): ConnectionOptions {
  const read = (field: 'ca' | 'cert' | 'key', path: string): Buffer => {
    try {
      return readFileSync(path)
    } catch (error) {
      const where = `upstreams.${upstream}.tls.${field}`
      const message = `cannot read '${path}': ${(error as Error).message}`
      throw coreErrors.config.create(`invalid gateway configuration:\n  - ${where}: ${message}`, {
        cause: error,
        extensions: { issues: [{ path: where, message }] },
      })
    }
  }
  const options: ConnectionOptions = {
    rejectUnauthorized: tls.rejectUnauthorized,
    minVersion: tls.minVersion,
  }
  if (tls.ca !== undefined) options.ca = read('ca', tls.ca)
  if (tls.servername !== undefined) options.servername = tls.servername
  if (tls.cert !== undefined && tls.key !== undefined) {
    options.cert = read('cert', tls.cert)
    options.key = read('key', tls.key)
    if (tls.passphrase !== undefined) options.passphrase = tls.passphrase
  }
  return options
}
