import { isIP } from 'node:net'
import { z } from 'zod'
import { duration } from '../util/duration.js'

const cidrSchema = z.string().refine((value) => {
  const [address, bits, extra] = value.split('/')
  if (extra !== undefined || !address) return false
  const family = isIP(address)
  if (family === 0) return false
  if (bits === undefined) return true
  const n = Number(bits)
  return Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128)
}, 'expected an IP address or CIDR block, e.g. 10.0.0.0/8')

const pemFile = z.string().min(1)

/** One certificate chosen by SNI: the host names it serves and its PEM files. */
export const tlsCertificateSchema = z
  .object({
    hosts: z
      .array(
        z
          .string()
          .toLowerCase()
          .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, {
            message: "expected a host name or a wildcard such as '*.example.com'",
          }),
      )
      .nonempty()
      .describe("SNI names served with this certificate; '*.example.com' matches one label."),
    cert: pemFile.describe('Path of the certificate chain (PEM, leaf first).'),
    key: pemFile.describe('Path of the private key (PEM).'),
    passphrase: z.string().optional().describe('Passphrase of an encrypted key.'),
  })
  .strict()

/**
 * HTTPS listener: the default certificate, more certificates chosen by SNI, TLS versions and reloading.
 *
 * @example
 * ```ts
 * tlsSchema.parse({ cert: '/etc/gw/tls.crt', key: '/etc/gw/tls.key' }).minVersion // 'TLSv1.2'
 * ```
 */
export const tlsSchema = z
  .object({
    cert: pemFile.describe(
      'Path of the default certificate chain (PEM, leaf first), used when no SNI entry matches.',
    ),
    key: pemFile.describe('Path of the default private key (PEM).'),
    passphrase: z.string().optional().describe('Passphrase of an encrypted default key.'),
    certificates: z
      .array(tlsCertificateSchema)
      .default([])
      .describe('More certificates, chosen by the SNI name the client sends (exact names before wildcards).'),
    ca: pemFile
      .optional()
      .describe('Path of CA certificates (PEM) that client certificates must chain to (with `clientAuth`).'),
    clientAuth: z
      .enum(['none', 'request', 'require'])
      .default('none')
      .describe(
        "Client certificates: 'none', 'request' (verified when sent) or 'require' (handshake fails without one).",
      ),
    minVersion: z
      .enum(['TLSv1.2', 'TLSv1.3'])
      .default('TLSv1.2')
      .describe('Lowest TLS version accepted (TLS 1.0 and 1.1 are never offered).'),
    ciphers: z
      .string()
      .optional()
      .describe("OpenSSL cipher list for TLS 1.2 (default node's, which excludes weak ciphers)."),
    watch: z
      .boolean()
      .default(false)
      .describe('Poll the certificate and key files and reload them when they change.'),
    watchInterval: duration()
      .default(2000)
      .describe('Polling interval of `watch`; changes are applied after it settles.'),
  })
  .strict()

/** Plain-HTTP listener that redirects every request to the HTTPS listener. */
export const redirectHttpSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).describe('Port of the plain-HTTP listener, e.g. 80.'),
    host: z.string().optional().describe('Address of the plain-HTTP listener (default `server.host`).'),
    httpsPort: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe('Port written in the Location (default the HTTPS listening port; 443 is left out).'),
    hostname: z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/)
      .optional()
      .describe("Fixed host name for the Location; default the request's validated Host without its port."),
  })
  .strict()

/** Listener, limits and operational endpoints of the gateway's HTTP server. */
export const serverSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(3000).describe('Listening port (PORT).'),
    host: z.string().default('0.0.0.0').describe('Listening address.'),
    headersTimeout: duration()
      .default(10_000)
      .describe('Time allowed to receive the complete request headers; -> 408.'),
    requestTimeout: duration()
      .default(30_000)
      .describe('Time allowed to receive the complete request (the seed `server.timeout`); -> 408.'),
    keepAliveTimeout: duration()
      .default(5000)
      .describe('Idle time before a client keep-alive connection is closed.'),
    maxHeaderSize: z
      .number()
      .int()
      .min(1024)
      .max(1_048_576)
      .default(16_384)
      .describe('Maximum size of request headers in bytes; larger -> 431.'),
    maxConnections: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('Maximum concurrent client connections (0: no cap).'),
    maxRequestsPerSocket: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Requests per keep-alive connection (0: no cap).'),
    trustProxy: z
      .array(cidrSchema)
      .default([])
      .describe('Addresses/CIDRs of proxies in front of gw whose X-Forwarded-* headers are trusted.'),
    drainTimeout: duration()
      .default(10_000)
      .describe('On shutdown, how long in-flight requests may take before connections are closed.'),
    drainIdleGrace: duration()
      .default(250)
      .describe(
        'On shutdown, how long idle keep-alive connections stay open (their next request is answered with Connection: close) before they are closed; 0 closes them at once.',
      ),
    healthPath: z.string().startsWith('/').default('/health').describe('Liveness endpoint path.'),
    readyPath: z.string().startsWith('/').default('/ready').describe('Readiness endpoint path.'),
    requestIdHeader: z
      .string()
      .toLowerCase()
      .default('x-request-id')
      .describe('Header carrying the request id in and out.'),
    via: z
      .string()
      .regex(/^[\w.-]+$/)
      .default('gw')
      .describe('Pseudonym used in the Via header.'),
    tls: tlsSchema.optional().describe('Serve HTTPS with these certificates (plain HTTP unless set).'),
    http2: z
      .boolean()
      .optional()
      .describe(
        'Offer HTTP/2 by ALPN next to HTTP/1.1 on the HTTPS listener. Default true when `tls` is set.',
      ),
    redirectHttp: redirectHttpSchema
      .optional()
      .describe('Also listen on plain HTTP and answer every request with 308 to the https:// URL.'),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.tls === undefined && value.http2 === true)
      ctx.addIssue({
        code: 'custom',
        path: ['http2'],
        message: 'HTTP/2 needs `tls` (h2c is not offered)',
        input: value,
      })
    if (value.tls === undefined && value.redirectHttp !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['redirectHttp'],
        message: 'redirecting to HTTPS needs `tls`',
        input: value,
      })
  })

/** Server options as written. */
export type ServerInput = z.input<typeof serverSchema>
/** Server options after defaults. */
export type ServerConfig = z.output<typeof serverSchema>
/** TLS options after defaults. */
export type TlsConfig = z.output<typeof tlsSchema>
/** Redirect listener options. */
export type RedirectHttpConfig = z.output<typeof redirectHttpSchema>
