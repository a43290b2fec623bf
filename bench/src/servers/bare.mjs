// The Node floor: a bare node:http server forwarding through one keep-alive undici Pool.
// No routing, no policies, no logging: what any Node proxy pays at least.
import http from 'node:http'
import { pipeline } from 'node:stream'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { Pool } = await importOrExit('undici')

// Same sizing as @fastify/reply-from's default undici options (128 connections, pipelining 1).
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 })

// RFC 9110 section 7.6.1 connection-specific fields, plus the legacy ones every proxy strips.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Copies headers without hop-by-hop fields (and without those the Connection header names). */
function stripHopByHop(headers) {
  const out = {}
  const connection = headers.connection
  const named = typeof connection === 'string' ? connection.toLowerCase().split(',') : []
  for (const name in headers) {
    if (HOP_BY_HOP.has(name)) continue
    if (named.length > 0 && named.some((n) => n.trim() === name)) continue
    out[name] = headers[name]
  }
  return out
}

const server = http.createServer((req, res) => {
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  pool
    .request({
      method: req.method,
      path: req.url,
      headers: stripHopByHop(req.headers),
      body: hasBody ? req : null,
    })
    .then(
      (up) => {
        res.writeHead(up.statusCode, stripHopByHop(up.headers))
        pipeline(up.body, res, () => {})
      },
      () => {
        if (res.headersSent) res.destroy()
        else {
          res.writeHead(502, { 'content-type': 'text/plain' })
          res.end('bad gateway')
        }
      },
    )
})
server.on('error', startFailed)
server.listen(port, host, () => announceReady(server.address().port))
