import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A PEM certificate and its private key, as strings and as files. */
export interface TestCertificate {
  /** Subject common name. */
  readonly commonName: string
  /** Certificate (PEM). */
  readonly cert: string
  /** Private key (PEM, unencrypted). */
  readonly key: string
  /** Path of the certificate file. */
  readonly certPath: string
  /** Path of the key file. */
  readonly keyPath: string
}

/** Options of {@link TestCertificateAuthority.issue}. */
export interface IssueOptions {
  /** DNS names and IP addresses put in the subjectAltName; the first is the common name. */
  hosts?: string[]
  /** Subject common name (default the first host, else `gw test client`). */
  commonName?: string
  /** `server` (default) or `client` (extendedKeyUsage clientAuth, for mTLS). */
  usage?: 'server' | 'client'
  /** Validity in days (default 2). */
  days?: number
}

/** A throw-away certificate authority in a temporary directory, plus a first server certificate. */
export interface TestCertificateAuthority {
  /** Directory holding every file; removed by `cleanup()`. */
  readonly dir: string
  /** The CA certificate (trust it with `ca: authority.ca.cert`). */
  readonly ca: TestCertificate
  /** A server certificate for the `hosts` given to {@link createTestCertificates}. */
  readonly server: TestCertificate
  /** Issues another certificate signed by this CA. */
  issue(options?: IssueOptions): TestCertificate
  /** Deletes the directory. */
  cleanup(): void
}

/** Options of {@link createTestCertificates}. */
export interface TestCertificatesOptions {
  /** Names of the first server certificate (default `localhost`, `127.0.0.1`, `::1`). */
  hosts?: string[]
  /** Common name of the CA (default `gw test CA`). */
  caName?: string
}

let counter = 0

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer }
    if (e.code === 'ENOENT')
      throw new Error(
        'createTestCertificates needs the `openssl` command line tool on PATH (apt-get install openssl)',
      )
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`)
  }
}

function read(dir: string, name: string, commonName: string): TestCertificate {
  const certPath = join(dir, `${name}.crt`)
  const keyPath = join(dir, `${name}.key`)
  return {
    commonName,
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
    certPath,
    keyPath,
  }
}

function subjectOf(commonName: string): string {
  return `/CN=${commonName.replaceAll('/', '\\/')}`
}

/**
 * Generates a test CA (EC P-256) and a server certificate with the system `openssl` tool, in a temporary
 * directory. Certificates are short-lived (2 days) and meant for tests only; `openssl` missing from PATH is a
 * clear error. Each call makes an independent CA, so a second call gives an "untrusted" authority.
 *
 * @example
 * ```ts
 * const pki = createTestCertificates({ hosts: ['localhost', '127.0.0.1'] })
 * const gw = await createGateway({
 *   server: { tls: { cert: pki.server.certPath, key: pki.server.keyPath } },
 *   routes: [...],
 * })
 * const client = pki.issue({ usage: 'client', commonName: 'gw' }) // for mTLS
 * afterAll(() => pki.cleanup())
 * ```
 */
export function createTestCertificates(options: TestCertificatesOptions = {}): TestCertificateAuthority {
  const dir = mkdtempSync(join(tmpdir(), 'gw-certs-'))
  const caName = options.caName ?? 'gw test CA'
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      subjectOf(caName),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  )
  const ca = read(dir, 'ca', caName)

  const issue = (issueOptions: IssueOptions = {}): TestCertificate => {
    const hosts = issueOptions.hosts ?? []
    const usage = issueOptions.usage ?? 'server'
    const commonName = issueOptions.commonName ?? hosts[0] ?? 'gw test client'
    const name = `leaf-${++counter}`
    const alt = hosts.map((h) => (isIP(h) === 0 ? `DNS:${h}` : `IP:${h}`)).join(',')
    const ext = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(alt === '' ? [] : [`subjectAltName=${alt}`]),
    ].join('\n')
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`)
    openssl(
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        subjectOf(commonName),
      ],
      dir,
    )
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        String(issueOptions.days ?? 2),
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    )
    return read(dir, name, commonName)
  }

  const server = issue({ hosts: options.hosts ?? ['localhost', '127.0.0.1', '::1'] })
  return {
    dir,
    ca,
    server,
    issue,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
