// `pipeline-floor`: the harness's former "bare" contender, kept for comparison and labelled for what it is: a
// node:http server forwarding with undici's `pool.request()` and piping the Readable body with
// `stream.pipeline()`. It is NOT the floor (see floor.mjs): the Readable between undici and the response and
// pipeline's per-call AbortController cost about a third of its throughput.
import http from 'node:http'
import { pipeline } from 'node:stream'
import { stripHopByHop } from '../lib/hop-by-hop.mjs'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { Pool } = await importOrExit('undici')

// Same sizing as @fastify/reply-from's default undici options (128 connections, pipelining 1).
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 })

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
