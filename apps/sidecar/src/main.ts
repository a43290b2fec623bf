import { handleShutdownSignals } from '@gw/core'
import { SidecarEnvError } from './env.js'
import { createSidecarGateway, type SidecarGateway } from './sidecar.js'

function banner(sidecar: SidecarGateway): string {
  const { config } = sidecar
  const limit = config.rateLimit
  return [
    '',
    `gw sidecar listening on ${sidecar.url} -> ${config.serviceName} at ${config.serviceUrl}`,
    `  auth        ${config.auth.type}`,
    `  rate limit  ${limit.enabled ? `${limit.limit} per ${limit.windowMs} ms per ${limit.key} (memory)` : 'off'}`,
    `  retries     ${config.retries} (idempotent methods; connect failures and resets)`,
    `  metrics     ${config.metrics.enabled ? `port ${config.metrics.port} /metrics` : 'off'}`,
    `  health      ${sidecar.url}/health, ${sidecar.url}/ready`,
    '',
  ].join('\n')
}

async function main(): Promise<void> {
  const sidecar = await createSidecarGateway(process.env)
  handleShutdownSignals(sidecar, sidecar.logger)
  sidecar.print(`${banner(sidecar)}\n`)
}

main().catch((error: unknown) => {
  const detail = error instanceof SidecarEnvError || error instanceof Error ? error.message : String(error)
  process.stderr.write(`gw sidecar refused to start: ${detail}\n`)
  process.exitCode = 1
})
