import { handleShutdownSignals } from '@gw/core'
import {
  type CentralizedGateway,
  DEMO_API_KEY,
  type Env,
  PRINCIPAL_RATE_LIMIT,
  ROUTES,
  SERVICE_URL_VARS,
  SERVICES,
  startCentralizedGateway,
  storeKinds,
} from './gateway.js'

/** The URL to show people: a wildcard listen address is reachable as localhost. */
function displayUrl(app: CentralizedGateway): string {
  const { address } = app.gateway.server.address() as { address: string }
  const wildcard = address === '0.0.0.0' || address === '::'
  const host = wildcard ? 'localhost' : address.includes(':') ? `[${address}]` : address
  return `http://${host}:${app.port}`
}

function boundAddress(app: CentralizedGateway): string {
  const { address } = app.gateway.server.address() as { address: string }
  return `${address.includes(':') ? `[${address}]` : address}:${app.port}`
}

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim()
  return v === undefined || v === '' ? undefined : v
}

function banner(app: CentralizedGateway, env: Env): string {
  const base = displayUrl(app)
  const header = value(env, 'API_KEY_HEADER') ?? 'x-api-key'
  const key = `-H '${header}: ${DEMO_API_KEY}'`
  const jwt = value(env, 'JWT_SECRET') !== undefined
  const metricsOn = !/^false$/i.test(value(env, 'METRICS_ENABLED') ?? 'true')
  const metricsPort = value(env, 'PROMETHEUS_PORT') ?? '9090'
  const rateLimitOn = !/^false$/i.test(value(env, 'RATE_LIMIT_ENABLED') ?? 'true')
  const windowMs = Number(value(env, 'RATE_LIMIT_WINDOW_MS') ?? 900_000)
  const max = value(env, 'RATE_LIMIT_MAX_REQUESTS') ?? '100'
  const ttl = value(env, 'CACHE_TTL_SECONDS')
  const stores = storeKinds(env)
  const redis = value(env, 'REDIS_HOST')
  const width = Math.max(...ROUTES.map((r) => r.path.length))
  const lines = [
    '',
    `gw centralized gateway listening on ${base} (bound to ${boundAddress(app)})`,
    '',
    'Routes:',
    ...ROUTES.map(
      (r) =>
        `  ${r.path.padEnd(width)}  -> ${r.upstream} (${app.services[r.upstream].url}, ${r.stripPrefix} stripped)`,
    ),
    `  ${'/health'.padEnd(width)}  -> liveness`,
    `  ${'/ready'.padEnd(width)}  -> readiness`,
    '',
    'Backend services:',
    ...SERVICES.map((name) => {
      const s = app.services[name]
      return `  ${name.padEnd(9)} ${s.url}  ${s.bundled ? '(bundled demo service)' : `(from ${SERVICE_URL_VARS[name]})`}`
    }),
    '',
    'Authentication on /api/*:',
    `  API key in the ${header} header; demo key: ${DEMO_API_KEY} (consumer "demo")`,
    jwt
      ? '  or Authorization: Bearer <HS256 JWT signed with JWT_SECRET, with sub and exp>'
      : '  (set JWT_SECRET, at least 32 bytes, to accept HS256 bearer tokens too)',
    '',
    'Policies:',
    `  rate limit   ${rateLimitOn ? `${max} requests per ${windowMs / 1000} s per ip` : 'per ip off (RATE_LIMIT_ENABLED=false)'}, ${PRINCIPAL_RATE_LIMIT.limit} per ${PRINCIPAL_RATE_LIMIT.window} per principal and route (${stores.rateLimit} store)`,
    `  cache        product reads, ${ttl === undefined ? 'no default TTL (set CACHE_TTL_SECONDS)' : `default TTL ${ttl} s`} (${stores.cache} store)`,
    `  metrics      ${metricsOn ? (metricsPort === '0' ? 'on an ephemeral port (see the "metrics listener started" log line)' : `http://localhost:${metricsPort}/metrics`) : 'off (METRICS_ENABLED=false)'}`,
    `  redis        ${redis === undefined ? 'not used (set REDIS_HOST to share limits and cache)' : `${redis}:${value(env, 'REDIS_PORT') ?? '6379'}`}`,
    '',
    'Try:',
    `  curl ${base}/health`,
    `  curl ${key} ${base}/api/products`,
    `  curl ${key} ${base}/api/users/1`,
    `  curl ${key} '${base}/api/orders?userId=3'`,
    `  curl -i ${base}/api/products                      # 401 without a key`,
    `  curl -X POST ${base}/api/orders ${key} -H 'content-type: application/json' -d '{"userId":1,"items":[{"productId":2,"quantity":3}]}'`,
    ...(metricsOn && metricsPort !== '0' ? [`  curl http://localhost:${metricsPort}/metrics`] : []),
    '',
    'Press Ctrl+C to stop.',
    '',
  ]
  return lines.join('\n')
}

async function main(): Promise<void> {
  const app = await startCentralizedGateway({ env: process.env })
  handleShutdownSignals(app, app.logger)
  app.print(banner(app, process.env) + '\n')
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gw centralized gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  )
  process.exitCode = 1
})
