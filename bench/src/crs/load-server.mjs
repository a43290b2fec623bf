// Child process of load.mjs: an upstream and two gateways in front of it (plain proxy, and CRS PL1 attack-filter
// with default settings). Reports its ports, and on request its CPU time, over IPC.
import http from 'node:http'
import { createGateway } from '@gw/core'
import { attackFilter } from '@gw/security/attack-filter'

const upstream = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end('{"ok":true}')
})
await new Promise((r) => upstream.listen(0, '127.0.0.1', r))
const url = `http://127.0.0.1:${upstream.address().port}`
const routes = [{ path: '/*', upstream: 'api' }]
const plain = await createGateway({ upstreams: { api: { url } }, routes })
const crs = await createGateway({ upstreams: { api: { url } }, policies: [attackFilter({})], routes })
const p1 = await plain.listen({ port: 0, host: '127.0.0.1' })
const p2 = await crs.listen({ port: 0, host: '127.0.0.1' })
process.send({ plain: p1.port, crs: p2.port })
process.on('message', (m) => {
  if (m === 'cpu') process.send({ cpu: process.cpuUsage() })
  if (m === 'exit') process.exit(0)
})
