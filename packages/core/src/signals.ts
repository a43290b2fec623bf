import type { Gateway } from './gateway-types.js'
import type { Logger } from './logger.js'

/**
 * Drains and stops the gateway on SIGTERM / SIGINT, then exits 0; a second signal exits 1 at once.
 * Returns a function that removes the handlers.
 *
 * @example
 * ```ts
 * const gw = await createGateway(options)
 * await gw.listen()
 * handleShutdownSignals(gw, log)
 * ```
 */
export function handleShutdownSignals(
  gateway: Pick<Gateway, 'close'>,
  log: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now')
      exit(1)
      return
    }
    stopping = true
    log.info({ signal }, 'shutting down gracefully')
    gateway.close().then(
      () => exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed')
        exit(1)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  return () => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
}
