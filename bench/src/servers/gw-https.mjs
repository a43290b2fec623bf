// gw over HTTPS/1.1: TLS-terminating gw (HTTP/2-capable listener) loaded by autocannon, which offers no ALPN and
// so falls back to HTTP/1.1 keep-alive connections. Compare with gw.mjs (plain HTTP) and gw-h2.mjs.
import { startTlsGateway } from './gw-tls-common.mjs'

await startTlsGateway({ h2: false })
