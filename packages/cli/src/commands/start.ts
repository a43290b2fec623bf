import { resolve } from 'node:path'
import {
  createConsoleLogger,
  createGateway,
  handleShutdownSignals,
  LOG_LEVELS,
  type LogLevel,
} from '@gw/core'
import { loadConfigFile, toGatewayOptions } from '@gw/core/config'
import { createFileResources } from '../resources.js'
import type { CliContext } from '../run-cli.js'
import { loadRegistry } from './load-registry.js'

/** `--port` / `--host` overrides of `gw start`. */
export interface ListenOverrides {
  port: number | undefined
  host: string | undefined
}

/**
 * `gw start <file>`: loads and validates the file, creates the gateway, listens and prints where. Resolves
 * with the exit code once a SIGTERM/SIGINT drained and closed it (0), or at once on a second signal (1).
 * Logs are JSON lines on stdout at `LOG_LEVEL` (default info); the `gw:` lines go to stderr.
 *
 * @example
 * ```ts
 * process.exitCode = await runStart('gateway.yaml', { io, plugins: [] }, { port: 8080, host: undefined })
 * ```
 */
export async function runStart(file: string, ctx: CliContext, overrides: ListenOverrides): Promise<number> {
  const { io } = ctx
  const level = logLevel(io.env.LOG_LEVEL)
  if (level === undefined)
    io.stderr(`gw: ignoring LOG_LEVEL='${io.env.LOG_LEVEL}' (use ${LOG_LEVELS.join(', ')})\n`)
  const log = createConsoleLogger(level ?? 'info', {}, (line) => io.stdout(line))
  const registry = await loadRegistry(ctx)
  const { config } = loadConfigFile(resolve(io.cwd, file), { registry, env: io.env })
  const options = toGatewayOptions(config, registry)
  const built = await createFileResources(config, { cwd: io.cwd, log, connect: true })
  const gateway = await createGateway({ ...options, ...built.options, logger: log }).catch(async (error) => {
    await built.close()
    throw error
  })
  try {
    const listen: { port?: number; host?: string } = {}
    if (overrides.port !== undefined) listen.port = overrides.port
    if (overrides.host !== undefined) listen.host = overrides.host
    await gateway.listen(listen)
  } catch (error) {
    await gateway.close().catch(() => undefined)
    await built.close()
    throw error
  }
  io.stderr(
    `gw: listening on ${gateway.url} (${file}; policies: ${[...registry.keys()].join(', ') || 'none'}${built.summary.map((r) => `; ${r}`).join('')})\n`,
  )
  return new Promise<number>((done) => {
    let settled = false
    const stop = { close: () => gateway.close().finally(() => built.close()) }
    handleShutdownSignals(stop, log, (code) => {
      if (settled) return
      settled = true
      done(code)
    })
  })
}

function logLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value === '') return 'info'
  const lower = value.toLowerCase()
  return LOG_LEVELS.find((level) => level === lower)
}
