// The Node floor: the thinnest correct proxy Node and undici allow. node:http hands each request to one
// keep-alive undici Pool with `pool.stream()`; its factory writes the upstream status and headers (hop-by-hop
// fields stripped) with `res.writeHead` and returns `res` itself as the writable, so undici writes each body
// chunk straight into the client response (with backpressure) and ends it. No Readable in between, no
// routing, no policies, no logging: what any Node proxy pays at least.
import http from 'node:http'
import { stripHopByHop } from '../lib/hop-by-hop.mjs'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { Pool } = await importOrExit('undici')

// Same sizing as @fastify/reply-from's default undici options (128 connections, pipelining 1).
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 })

function factory({ statusCode, headers, opaque: res }) {
  res.writeHead(statusCode, stripHopByHop(headers))
  return res
}

function done(err, { opaque: res }) {
  if (err === null) return
  if (res.headersSent) res.destroy()
  else {
    res.writeHead(502, { 'content-type': 'text/plain' })
    res.end('bad gateway')
  }
}

const server = http.createServer((req, res) => {
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  pool.stream(
    {
      method: req.method,
      path: req.url,
      headers: stripHopByHop(req.headers),
      body: hasBody ? req : null,
      opaque: res,
    },
    factory,
    done,
  )
})
server.on('error', startFailed)
server.listen(port, host, () => announceReady(server.address().port))
