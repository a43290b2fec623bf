// The node:http upstream (fallback when nginx is not installed, or with --upstream node): answers
// /bench/16k with the 16 KiB body and everything else with the ~100-byte body.
import http from 'node:http'
import { UPSTREAM_BODY, UPSTREAM_BODY_16K } from './lib/upstream-body.mjs'
import { announceReady, installWatchdog, serverEnv, startFailed } from './servers/common.mjs'

const small = Buffer.from(UPSTREAM_BODY)
const big = Buffer.from(UPSTREAM_BODY_16K)
const smallHeaders = { 'content-type': 'application/json', 'content-length': String(small.length) }
const bigHeaders = { 'content-type': 'application/json', 'content-length': String(big.length) }

installWatchdog()
const { port, host } = serverEnv()
const server = http.createServer((req, res) => {
  // Drain any request body so keep-alive connections stay usable.
  req.resume()
  const isBig = req.url.startsWith('/bench/16k')
  res.writeHead(200, isBig ? bigHeaders : smallHeaders)
  res.end(isBig ? big : small)
})
server.keepAliveTimeout = 65_000
server.on('error', startFailed)
server.listen(port, host, () => announceReady(server.address().port))
