// gw over HTTP/2: the same TLS listener as gw-https.mjs, loaded by the harness's node:http2 client
// (streams multiplexed on few connections). Compare with gw.mjs (plain HTTP) and gw-https.mjs.
import { startTlsGateway } from './gw-tls-common.mjs'

await startTlsGateway({ h2: true })
