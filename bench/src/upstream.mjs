// The upstream: a fixed, cheap node:http server answering every request with the same small JSON body.
import http from 'node:http'
import { UPSTREAM_BODY } from './lib/upstream-body.mjs'
import { announceReady, installWatchdog, serverEnv, startFailed } from './servers/common.mjs'

const body = Buffer.from(UPSTREAM_BODY)
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) }

installWatchdog()
const { port, host } = serverEnv()
const server = http.createServer((req, res) => {
  // Drain any request body so keep-alive connections stay usable.
  req.resume()
  res.writeHead(200, headers)
  res.end(body)
})
server.keepAliveTimeout = 65_000
server.on('error', startFailed)
server.listen(port, host, () => announceReady(server.address().port))
