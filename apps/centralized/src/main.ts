import { handleShutdownSignals } from '@gw/core'
import {
  type CentralizedGateway,
  ROUTES,
  SERVICE_URL_VARS,
  SERVICES,
  startCentralizedGateway,
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

function banner(app: CentralizedGateway): string {
  const base = displayUrl(app)
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
    'Try:',
    `  curl ${base}/health`,
    `  curl ${base}/api/products`,
    `  curl ${base}/api/users/1`,
    `  curl ${base}/api/orders?userId=3`,
    `  curl -i ${base}/api/users/999`,
    `  curl -X POST ${base}/api/orders -H 'content-type: application/json' -d '{"userId":1,"items":[{"productId":2,"quantity":3}]}'`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ]
  return lines.join('\n')
}

async function main(): Promise<void> {
  const app = await startCentralizedGateway({ env: process.env })
  handleShutdownSignals(app, app.logger)
  app.print(banner(app) + '\n')
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gw centralized gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  )
  process.exitCode = 1
})
