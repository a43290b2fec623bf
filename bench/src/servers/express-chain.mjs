// The chain scenario on express 5 with its usual middleware, defaults otherwise: helmet, prom-client RED
// metrics (a request counter and a duration histogram by method, route and status, observed on 'finish'),
// express-jwt (jsonwebtoken, HS256), express-rate-limit (per ip, memory store) and http-proxy-middleware.
import http from 'node:http'
import { CHAIN_LIMIT, CHAIN_SECRET, chainHeaders } from '../lib/chain.mjs'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { default: express } = await importOrExit('express')
const { createProxyMiddleware } = await importOrExit('http-proxy-middleware')
const { default: helmet } = await importOrExit('helmet')
const { expressjwt } = await importOrExit('express-jwt')
const { rateLimit } = await importOrExit('express-rate-limit')
const prom = await importOrExit('prom-client')

const registry = new prom.Registry()
prom.collectDefaultMetrics({ register: registry })
const labelNames = ['method', 'route', 'status_code']
const requests = new prom.Counter({
  name: 'http_requests_total',
  help: 'requests',
  labelNames,
  registers: [registry],
})
const duration = new prom.Histogram({
  name: 'http_request_duration_seconds',
  help: 'request duration',
  labelNames,
  registers: [registry],
})

const agent = new http.Agent({ keepAlive: true, maxSockets: 128 })
const app = express()
app.disable('x-powered-by')
app.get('/metrics', async (_req, res) => {
  res.set('content-type', registry.contentType).end(await registry.metrics())
})
app.use((req, res, next) => {
  const end = duration.startTimer()
  res.once('finish', () => {
    const labels = { method: req.method, route: '/*', status_code: res.statusCode }
    end(labels)
    requests.inc(labels)
  })
  next()
})
app.use(helmet())
app.use(expressjwt({ secret: CHAIN_SECRET, algorithms: ['HS256'] }))
app.use(rateLimit({ windowMs: 60_000, limit: CHAIN_LIMIT }))
app.use(createProxyMiddleware({ target: upstream, agent }))

const server = app.listen(port, host, (err) => {
  if (err) startFailed(err)
  else announceReady(server.address().port, { headers: chainHeaders() })
})
server.on('error', startFailed)
