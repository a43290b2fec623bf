// gw terminating TLS (server.tls with a throw-away self-signed certificate made by the system openssl; HTTP/2 by
// ALPN with HTTP/1.1 fallback, the default with tls), one upstream, one catch-all route. The ready line
// carries `scheme: 'https'` and, for the h2 case, `h2: true`, so the harness loads it over TLS (autocannon,
// HTTP/1.1) or with its own node:http2 client.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

export async function startTlsGateway({ h2 }) {
  installWatchdog()
  const { port, host, upstream } = serverEnv()
  const { createGateway } = await importOrExit('@gw/core')
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-tls-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        join(dir, 'tls.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    const gw = await createGateway({
      server: { port, host, tls: { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') } },
      upstreams: { up: { url: upstream } },
      routes: [{ path: '/*', upstream: 'up' }],
    })
    const address = await gw.listen()
    announceReady(address.port, { scheme: 'https', ...(h2 ? { h2: true } : {}) })
  } catch (err) {
    startFailed(err)
  }
}
