import cluster from 'node:cluster'
import { type FSWatcher, watch } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import {
  createConsoleLogger,
  createGateway,
  type GatewayOptions,
  handleShutdownSignals,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
} from '@gw/core'
import { reloadOtherWorkers, resolveWorkers, runCluster } from '@gw/core/cluster'
import { type FileConfig, loadConfigFile, type PolicyRegistry, toGatewayOptions } from '@gw/core/config'
import { createFileResources, startClusterMetrics } from '../resources.js'
import type { CliContext } from '../run-cli.js'
import { loadRegistry } from './load-registry.js'

/** `--port` / `--host` / `--workers` / `--watch` options of `gw start`. */
export interface ListenOverrides {
  port: number | undefined
  host: string | undefined
  /** `--workers`: overrides the file's `workers`. */
  workers?: number | 'auto' | undefined
  /** `--watch`: reload when the file changes. */
  watch?: boolean | undefined
}

/** A started gateway as `gw start` runs it: how to reload it from its file and how to stop it. */
interface StartedGateway {
  readonly url: string
  readonly adminUrl: string
  reload(): Promise<unknown>
  close(): Promise<void>
}

/**
 * `gw start <file>`: loads and validates the file, creates the gateway, listens and prints where. Resolves
 * with the exit code once a SIGTERM/SIGINT drained and closed it (0), or at once on a second signal (1).
 * SIGHUP (and, with `--watch`, a change of the file) re-reads the `server.tls` certificate files and reloads
 * the file: routes, upstreams and policies swap for new requests while in-flight ones finish; an invalid file
 * (or certificate) is reported and the running configuration keeps serving. With `workers` (file) or `--workers` above 1 or `auto`, the gateway runs in node:cluster
 * workers under a primary that replaces crashed workers, forwards SIGHUP and restarts them one by one on
 * SIGUSR2. Logs are JSON lines on stdout at `LOG_LEVEL` (default info); the `gw:` lines go to stderr.
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
  const path = resolve(io.cwd, file)
  const { config } = loadConfigFile(path, { registry, env: io.env })
  const workers = overrides.workers ?? config.workers ?? 1
  const start = () => startGateway(file, path, config, registry, ctx, log, overrides)

  if (workers === 1) {
    const gateway = await start()
    return new Promise<number>((done) => {
      let settled = false
      const reload = () => {
        gateway.reload().catch(() => undefined)
      }
      const unwatch = overrides.watch ? watchFile(path, reload, log, io) : () => {}
      process.on('SIGHUP', reload)
      const stop = {
        close: () => {
          unwatch()
          process.off('SIGHUP', reload)
          return gateway.close()
        },
      }
      handleShutdownSignals(stop, log, (code) => {
        if (settled) return
        settled = true
        done(code)
      })
    })
  }
  if (cluster.isPrimary) {
    io.stderr(
      `gw: primary ${process.pid} starting ${workers === 'auto' ? resolveWorkers('auto') : workers} workers (${file}; SIGHUP reloads, SIGUSR2 restarts them one by one)\n`,
    )
  }
  const unwatch =
    cluster.isPrimary && overrides.watch
      ? watchFile(path, () => process.kill(process.pid, 'SIGHUP'), log, io)
      : () => {}
  const metricsServer = cluster.isPrimary
    ? await startClusterMetrics(config, { cwd: io.cwd, log })
    : undefined
  try {
    return await runCluster({ workers, start, log })
  } finally {
    unwatch()
    await metricsServer?.close()
  }
}

async function startGateway(
  file: string,
  path: string,
  config: FileConfig,
  registry: PolicyRegistry,
  ctx: CliContext,
  log: Logger,
  overrides: ListenOverrides,
): Promise<StartedGateway> {
  const { io } = ctx
  const built = await createFileResources(config, { cwd: io.cwd, log, connect: true })
  const resourcesKey = JSON.stringify(config.resources ?? {})
  const fromFile = (): GatewayOptions => {
    const { config: next } = loadConfigFile(path, { registry, env: io.env })
    if (JSON.stringify(next.resources ?? {}) !== resourcesKey)
      log.warn({ path: 'resources' }, 'reload: resources only change on restart; the running ones stay')
    return built.gatewayOptions({ ...toGatewayOptions(next, registry), logger: log, reloadSource: fromAdmin })
  }
  const fromAdmin = (): GatewayOptions => {
    const next = fromFile()
    reloadOtherWorkers()
    return next
  }
  const options = toGatewayOptions(config, registry)
  const gateway = await createGateway(
    built.gatewayOptions({ ...options, logger: log, reloadSource: fromAdmin }),
  ).catch(async (error) => {
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
    `gw: listening on ${gateway.url} (${file}; policies: ${[...registry.keys()].join(', ') || 'none'}${built.summary.map((r) => `; ${r}`).join('')}${gateway.adminUrl ? `; admin ${gateway.adminUrl}` : ''}${cluster.isWorker ? `; worker ${process.pid}` : ''})\n`,
  )
  return {
    url: gateway.url,
    adminUrl: gateway.adminUrl,
    async reload() {
      if (config.server?.tls !== undefined) {
        await gateway.reloadCertificates().then(
          () => io.stderr(`gw: reloaded the TLS certificates of ${file}\n`),
          (error: unknown) =>
            io.stderr(
              `gw: certificate reload failed; keeping the current certificates: ${error instanceof Error ? error.message : String(error)}\n`,
            ),
        )
      }
      try {
        const result = await gateway.reload(fromFile())
        io.stderr(
          `gw: reloaded ${file}: routes +${result.routes.added.length} -${result.routes.removed.length}, upstreams +${result.upstreams.added.length} -${result.upstreams.removed.length} ~${result.upstreams.replaced.length}${result.restartRequired.length > 0 ? `; restart required for ${result.restartRequired.join(', ')}` : ''}\n`,
        )
        return result
      } catch (error) {
        io.stderr(
          `gw: reload of ${file} rejected; still serving the previous configuration: ${error instanceof Error ? error.message : String(error)}\n`,
        )
        throw error
      }
    },
    close: () => gateway.close().finally(() => built.close()),
  }
}

/** Watches the file's directory (editors replace files by rename) and calls `onChange` once changes settle. */
function watchFile(path: string, onChange: () => void, log: Logger, io: CliContext['io']): () => void {
  const name = basename(path)
  let timer: NodeJS.Timeout | undefined
  let watcher: FSWatcher
  try {
    watcher = watch(dirname(path), (_event, changed) => {
      if (changed !== null && changed !== name) return
      clearTimeout(timer)
      timer = setTimeout(onChange, WATCH_DEBOUNCE_MS)
    })
  } catch (error) {
    io.stderr(`gw: cannot watch ${path}: ${error instanceof Error ? error.message : String(error)}\n`)
    return () => {}
  }
  watcher.on('error', (error) => log.warn({ err: error }, 'config file watch failed'))
  log.info({ file: path }, 'watching the config file for changes')
  return () => {
    clearTimeout(timer)
    watcher.close()
  }
}

const WATCH_DEBOUNCE_MS = 300

function logLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value === '') return 'info'
  const lower = value.toLowerCase()
  return LOG_LEVELS.find((level) => level === lower)
}
