// express 5 + http-proxy-middleware 3 (node-http-proxy) with a keep-alive agent.
import http from 'node:http'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { default: express } = await importOrExit('express')
const { createProxyMiddleware } = await importOrExit('http-proxy-middleware')

const agent = new http.Agent({ keepAlive: true, maxSockets: 128 })
const app = express()
app.disable('x-powered-by')
app.use(createProxyMiddleware({ target: upstream, agent }))

const server = app.listen(port, host, (err) => {
  if (err) startFailed(err)
  else announceReady(server.address().port)
})
server.on('error', startFailed)
