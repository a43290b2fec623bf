// gw under node:cluster (runCluster from @gw/core/cluster): the gw.mjs config (one upstream, one catch-all
// route, no policies) in N workers sharing the port. The primary announces ready once every worker listens.
// The harness pins the primary to the proxy core and the workers inherit that pin, and it samples CPU and
// memory of the primary's pid only: for a fair multi-core comparison run unpinned (--no-pin) on a machine
// with cores to spare, and read the CPU / memory columns of these cases as the primary's share.
import cluster from 'node:cluster'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

export async function startWorkersGateway(workers) {
  const { port, host, upstream } = serverEnv()
  const { createGateway } = await importOrExit('@gw/core')
  const { runCluster } = await importOrExit('@gw/core/cluster')
  if (cluster.isPrimary) {
    installWatchdog()
    let listening = 0
    cluster.on('listening', (_worker, address) => {
      listening++
      if (listening === workers) announceReady(address.port, { workers })
    })
  }
  try {
    const code = await runCluster({
      workers,
      start: async () => {
        const gw = await createGateway({
          server: { port, host },
          upstreams: { up: { url: upstream } },
          routes: [{ path: '/*', upstream: 'up' }],
        })
        await gw.listen()
        return { close: () => gw.close() }
      },
    })
    process.exit(code)
  } catch (err) {
    startFailed(err)
  }
}
