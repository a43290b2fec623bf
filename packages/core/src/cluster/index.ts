import cluster, { type Worker } from 'node:cluster'
import { once } from 'node:events'
import { availableParallelism } from 'node:os'
import { type Logger, noopLogger } from '../logger.js'

export { workersSchema } from './schema.js'

/** What a worker's `start()` returns: how to stop it gracefully and, optionally, how to reload it. */
export interface WorkerApp {
  /** Drains in-flight requests and stops (a gateway's `close`). */
  close(): Promise<void>
  /** Re-reads configuration (SIGHUP to the primary reaches every worker here). */
  reload?(): Promise<unknown>
}

/** Options of {@link runCluster}. */
export interface ClusterOptions {
  /** Worker count, or `auto`: `os.availableParallelism()`. */
  workers: number | 'auto'
  /** Runs in each worker: starts the gateway (listening) and returns how to stop and reload it. */
  start: () => Promise<WorkerApp>
  log?: Logger
  /** First delay before a crashed worker is replaced; doubles per crash inside `crashWindow`. Default 250 ms. */
  restartDelay?: number
  /** Upper bound of that delay. Default 10 s. */
  maxRestartDelay?: number
  /** More crashes than this within `crashWindow` is a crash loop: the primary stops everything, exit 1. Default 10. */
  maxCrashes?: number
  /** Default 60 s. */
  crashWindow?: number
  /** After SIGTERM, workers still running after this are killed. Default 30 s. */
  shutdownTimeout?: number
}

type Message =
  | { gw: 'shutdown' }
  | { gw: 'reload' }
  | { gw: 'reload-others' }
  | { gw: 'drained' }
  | { gw: 'drained-ack' }

/**
 * Runs an app under node:cluster. In the primary it forks the workers (each calls `start()`; they share the
 * listening ports), replaces a crashed worker after a backoff (doubling per recent crash, a crash loop stops
 * everything with exit code 1), and handles signals: SIGTERM/SIGINT let every worker drain and close, then
 * resolve 0; SIGHUP makes every worker reload; SIGUSR2 restarts the workers one by one, each new worker
 * listening before the old one drains. In a worker it runs `start()` and answers those requests (and its own
 * SIGTERM/SIGINT). Resolves with the process exit code.
 *
 * Memory stores (rate-limit counters, cache) are per worker; use the Redis stores to share them.
 *
 * @example
 * ```ts
 * process.exitCode = await runCluster({
 *   workers: 'auto',
 *   start: async () => {
 *     const gw = await createGateway(options)
 *     await gw.listen({ port: 8080 })
 *     return { close: () => gw.close() }
 *   },
 * })
 * ```
 */
export function runCluster(options: ClusterOptions): Promise<number> {
  return cluster.isPrimary ? runPrimary(options) : runWorker(options)
}

/**
 * In a cluster worker, asks the primary to reload every other worker (as SIGHUP to the primary would), for
 * a reload triggered inside one worker, such as `POST /reload` on the admin listener, which the cluster hands
 * to one worker. Returns false outside a worker.
 *
 * @example
 * ```ts
 * reloadSource: () => { const next = readOptions(); reloadOtherWorkers(); return next }
 * ```
 */
export function reloadOtherWorkers(): boolean {
  if (!cluster.isWorker || process.send === undefined) return false
  const message: Message = { gw: 'reload-others' }
  process.send(message)
  return true
}

/**
 * The worker count `workers` stands for.
 *
 * @example
 * ```ts
 * resolveWorkers('auto') // os.availableParallelism()
 * ```
 */
export function resolveWorkers(workers: number | 'auto'): number {
  return workers === 'auto' ? availableParallelism() : Math.max(1, Math.floor(workers))
}

/** Bound of the worker's last round trip with the primary before it exits. */
const SETTLE_TIMEOUT_MS = 2000

async function runWorker(options: ClusterOptions): Promise<number> {
  const log = (options.log ?? noopLogger).child({ worker: cluster.worker?.id, pid: process.pid })
  const app = await options.start()
  return new Promise<number>((done) => {
    let closing = false
    const close = (reason: string): void => {
      if (closing) return
      closing = true
      log.info({ reason }, 'worker draining')
      app.close().then(
        () => settle().then(() => finish(0)),
        (error: unknown) => {
          log.error({ err: error }, 'worker shutdown failed')
          settle().then(() => finish(1))
        },
      )
    }
    const reload = (): void => {
      if (app.reload === undefined || closing) return
      app.reload().catch((error: unknown) => log.error({ err: error }, 'worker reload failed'))
    }
    let acknowledged: (() => void) | undefined
    const onMessage = (message: unknown): void => {
      const kind = (message as Partial<Message> | null)?.gw
      if (kind === 'shutdown') close('primary')
      else if (kind === 'reload') reload()
      else if (kind === 'drained-ack') acknowledged?.()
    }
    // The primary may have handed this worker connections before it learnt that the listener closed; they
    // wait unread in the IPC channel. One round trip reads them all (node's cluster code hands each back to
    // the primary for another worker) before the process may exit; exiting earlier would leave those clients
    // hanging on a connection nobody serves.
    const settle = (): Promise<void> => {
      if (process.send === undefined || !process.connected) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, SETTLE_TIMEOUT_MS)
        acknowledged = () => {
          clearTimeout(timer)
          setImmediate(resolve)
        }
        const message: Message = { gw: 'drained' }
        process.send?.(message, undefined, {}, (error: Error | null) => {
          if (error !== null) acknowledged?.()
        })
      })
    }
    const onTerm = (signal: NodeJS.Signals): void => close(signal)
    const finish = (code: number): void => {
      process.off('message', onMessage)
      process.off('SIGTERM', onTerm)
      process.off('SIGINT', onTerm)
      process.off('SIGHUP', reload)
      done(code)
    }
    process.on('message', onMessage)
    process.on('SIGTERM', onTerm)
    process.on('SIGINT', onTerm)
    process.on('SIGHUP', reload)
  })
}

async function runPrimary(options: ClusterOptions): Promise<number> {
  const log = (options.log ?? noopLogger).child({ primary: process.pid })
  const count = resolveWorkers(options.workers)
  const restartDelay = options.restartDelay ?? 250
  const maxRestartDelay = options.maxRestartDelay ?? 10_000
  const maxCrashes = options.maxCrashes ?? 10
  const crashWindow = options.crashWindow ?? 60_000
  const shutdownTimeout = options.shutdownTimeout ?? 30_000
  const live = new Set<Worker>()
  const retiring = new Set<Worker>()
  const pendingForks = new Set<NodeJS.Timeout>()
  let crashes: number[] = []
  let stopping: number | undefined
  let rolling = false
  let killTimer: NodeJS.Timeout | undefined

  return new Promise<number>((done) => {
    const fork = (): Worker => {
      const worker = cluster.fork()
      live.add(worker)
      worker.on('error', (error) => log.warn({ err: error, worker: worker.id }, 'worker channel error'))
      return worker
    }
    const send = (worker: Worker, message: Message): void => {
      if (worker.isConnected()) worker.send(message, (error: Error | null) => error && worker.kill('SIGTERM'))
      else worker.kill('SIGTERM')
    }
    const maybeDone = (): void => {
      if (stopping === undefined || live.size > 0) return
      clearTimeout(killTimer)
      process.off('SIGTERM', onStop)
      process.off('SIGINT', onStop)
      process.off('SIGHUP', onReload)
      process.off('SIGUSR2', onRoll)
      cluster.off('exit', onExit)
      cluster.off('message', onWorkerMessage)
      log.info({ code: stopping }, 'all workers stopped')
      done(stopping)
    }
    const stop = (code: number): void => {
      if (stopping !== undefined) return
      stopping = code
      for (const timer of pendingForks) clearTimeout(timer)
      pendingForks.clear()
      for (const worker of live) send(worker, { gw: 'shutdown' })
      killTimer = setTimeout(() => {
        log.warn({ workers: live.size }, 'shutdown timeout: killing the remaining workers')
        for (const worker of live) worker.process.kill('SIGKILL')
      }, shutdownTimeout)
      maybeDone()
    }
    const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
      live.delete(worker)
      if (retiring.delete(worker) || stopping !== undefined) {
        maybeDone()
        return
      }
      const now = Date.now()
      crashes = [...crashes.filter((t) => now - t < crashWindow), now]
      log.error({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker died')
      if (crashes.length > maxCrashes) {
        log.fatal({ crashes: crashes.length, window: crashWindow }, 'crash loop: stopping every worker')
        stop(1)
        return
      }
      const delay = Math.min(maxRestartDelay, restartDelay * 2 ** (crashes.length - 1))
      const timer = setTimeout(() => {
        pendingForks.delete(timer)
        if (stopping === undefined) fork()
      }, delay)
      pendingForks.add(timer)
    }
    const onStop = (signal: NodeJS.Signals): void => {
      if (stopping !== undefined) {
        log.warn({ signal }, 'second signal: killing workers now')
        for (const worker of live) worker.process.kill('SIGKILL')
        return
      }
      log.info({ signal, workers: live.size }, 'shutting down gracefully')
      stop(0)
    }
    const onReload = (): void => {
      log.info({ workers: live.size }, 'SIGHUP: reloading every worker')
      for (const worker of live) if (!retiring.has(worker)) send(worker, { gw: 'reload' })
    }
    const onWorkerMessage = (from: Worker, message: unknown): void => {
      const kind = (message as Partial<Message> | null)?.gw
      if (kind === 'drained') {
        const ack: Message = { gw: 'drained-ack' }
        if (from.isConnected()) from.send(ack, () => {})
        return
      }
      if (kind !== 'reload-others') return
      log.info({ worker: from.id }, 'a worker reloaded: reloading the others')
      for (const worker of live) if (worker !== from && !retiring.has(worker)) send(worker, { gw: 'reload' })
    }
    const onRoll = (): void => {
      if (rolling || stopping !== undefined) return
      rolling = true
      rollingRestart()
        .catch((error: unknown) => log.error({ err: error }, 'rolling restart stopped'))
        .finally(() => {
          rolling = false
        })
    }
    const rollingRestart = async (): Promise<void> => {
      log.info({ workers: live.size }, 'SIGUSR2: rolling restart')
      for (const old of [...live]) {
        if (stopping !== undefined) return
        if (!live.has(old)) continue
        const next = fork()
        const ready = await Promise.race([
          once(next, 'listening').then(() => true),
          once(next, 'exit').then(() => false),
        ])
        if (!ready) throw new Error('a replacement worker exited before listening')
        retiring.add(old)
        const exited = once(old, 'exit')
        send(old, { gw: 'shutdown' })
        await exited
      }
      log.info({ workers: live.size }, 'rolling restart done')
    }

    cluster.on('exit', onExit)
    cluster.on('message', onWorkerMessage)
    process.on('SIGTERM', onStop)
    process.on('SIGINT', onStop)
    process.on('SIGHUP', onReload)
    process.on('SIGUSR2', onRoll)
    log.info({ workers: count }, 'starting workers')
    for (let i = 0; i < count; i++) fork()
  })
}
