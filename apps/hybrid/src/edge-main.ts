import { handleShutdownSignals } from '@gw/core'
import { startEdgeGateway } from './edge.js'

/**
 * One edge replica as its own process (started by `dist/main.js`, or by hand with the `*_SIDECAR_URL`
 * variables). Prints `gw edge <name> listening on <url>` and, when forked, sends `{ type: 'listening', url }`.
 */
async function main(): Promise<void> {
  const edge = await startEdgeGateway(process.env)
  handleShutdownSignals(edge, edge.logger)
  const name = process.env.EDGE_NAME ?? 'a'
  process.stdout.write(`gw edge ${name} listening on ${edge.url}\n`)
  if (process.send !== undefined) {
    process.send({ type: 'listening', name, url: edge.url })
    // Forked by the topology: when the parent goes away (even SIGKILLed), drain and exit like on SIGTERM.
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gw edge replica failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  )
  process.exitCode = 1
})
