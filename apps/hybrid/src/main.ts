import { pino } from 'pino'
import { DEMO_API_KEY, type Env, HYBRID_SERVICES } from './edge.js'
import { type EdgeReplica, forkEdgeReplica } from './replicas.js'
import { startServiceTier } from './service-tier.js'

const REPLICAS = ['a', 'b'] as const

function ports(env: Env, name: string, fallback: [string, string]): [string, string] {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return fallback
  const parts = raw.split(',').map((p) => p.trim())
  if (parts.length !== 2 || parts.some((p) => !/^\d+$/.test(p) || Number(p) > 65535)) {
    throw new Error(`${name} must be two port numbers separated by a comma (got '${raw}')`)
  }
  return parts as [string, string]
}

/**
 * The whole hybrid topology on loopback: demo services, a sidecar per service (this process), and two edge
 * replicas (child processes) sharing Redis. Ctrl+C / SIGTERM stops the edges, then the sidecars and services.
 */
async function main(): Promise<void> {
  const env = process.env
  const edgePorts = ports(env, 'EDGE_PORTS', ['3000', '3001'])
  const metricsPorts = ports(env, 'EDGE_METRICS_PORTS', ['9091', '9092'])
  const log = pino(
    { name: 'gw-hybrid', level: env.LOG_LEVEL?.trim() || 'info' },
    pino.destination({ dest: 1, sync: true }),
  )
  const tier = await startServiceTier({ env })
  const edges: EdgeReplica[] = []
  let stopping = false
  const stop = async (code: number): Promise<void> => {
    if (stopping) return
    stopping = true
    await Promise.allSettled(edges.map((edge) => edge.stop()))
    await tier.close()
    process.exit(code)
  }
  process.once('SIGINT', () => void stop(0))
  process.once('SIGTERM', () => void stop(0))
  try {
    for (const [i, name] of REPLICAS.entries()) {
      const edge = await forkEdgeReplica({
        name,
        env: { ...env, ...tier.edgeEnv, PORT: edgePorts[i], PROMETHEUS_PORT: metricsPorts[i] },
        forwardOutput: true,
      })
      edges.push(edge)
      edge.process.once('exit', (code, signal) => {
        if (!stopping) log.warn({ edge: name, code, signal }, 'edge replica exited; the other keeps serving')
      })
    }
  } catch (error) {
    await stop(1).catch(() => {})
    throw error
  }
  const [a] = edges as [EdgeReplica, EdgeReplica]
  const key = `-H 'x-api-key: ${DEMO_API_KEY}'`
  process.stdout.write(
    [
      '',
      'gw hybrid topology running:',
      ...edges.map((edge) => `  edge ${edge.name}   ${edge.url}   (pid ${edge.process.pid})`),
      ...HYBRID_SERVICES.map(
        (name) => `  ${name.padEnd(8)} sidecar ${tier.sidecars[name].url} -> service ${tier.services[name]}`,
      ),
      `  redis    ${env.REDIS_HOST?.trim() || '127.0.0.1'}:${env.REDIS_PORT?.trim() || '6379'} (rate limits and cache shared by the edges)`,
      '',
      'Try:',
      `  curl ${key} ${a.url}/api/products/1`,
      '  # the cache key is the URL with its Host; behind a load balancer both replicas see the same Host:',
      ...edges.map(
        (edge) => `  curl -si -H 'host: api.local' ${key} ${edge.url}/api/products/1 | grep -i cache-status`,
      ),
      `  curl -i ${a.url}/api/users                                  # 401 without a key`,
      '',
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  )
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gw hybrid failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  )
  process.exit(1)
})
