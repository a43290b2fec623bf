import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { parseSidecarEnv, SIDECAR_ENV_VARS } from '../src/env.js'

const APP = fileURLToPath(new URL('..', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

interface Container {
  name: string
  image: string
  ports?: { name?: string; containerPort: number }[]
  env?: { name: string; value?: string; valueFrom?: unknown }[]
  livenessProbe?: { httpGet?: { path: string; port: string | number } }
  readinessProbe?: { httpGet?: { path: string; port: string | number } }
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> }
}

interface K8sObject {
  kind: string
  metadata: { name: string }
  spec: Record<string, unknown>
}

const docs = parseAllDocuments(readFileSync(`${APP}/deploy/kubernetes.yaml`, 'utf8'))
const objects = docs.map((doc) => {
  expect(doc.errors).toEqual([])
  return doc.toJS() as K8sObject
})
const deployment = objects.find((o) => o.kind === 'Deployment') as K8sObject & {
  spec: { template: { spec: { containers: Container[] } } }
}
const containers = deployment.spec.template.spec.containers
const sidecar = containers.find((c) => c.name === 'gw-sidecar') as Container

describe('deploy/kubernetes.yaml', () => {
  it('is a Deployment with the service and the sidecar container, and a Service on the sidecar port', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Secret', 'Service'])
    expect(containers.map((c) => c.name)).toEqual(['orders', 'gw-sidecar'])
    const service = objects.find((o) => o.kind === 'Service') as K8sObject & {
      spec: { ports: { targetPort: string }[] }
    }
    const target = service.spec.ports[0]?.targetPort
    expect(sidecar.ports?.find((p) => p.name === target)?.containerPort).toBe(8000)
  })

  it('sets only variables the sidecar reads, and a valid configuration', () => {
    const names = (sidecar.env ?? []).map((e) => e.name)
    expect(names.filter((n) => !(n in SIDECAR_ENV_VARS))).toEqual([])
    const values = Object.fromEntries((sidecar.env ?? []).map((e) => [e.name, e.value ?? 'x'.repeat(40)]))
    const config = parseSidecarEnv(values)
    expect(config.auth.type).toBe('jwt')
    const app = containers.find((c) => c.name === 'orders') as Container
    expect(config.serviceUrl).toBe(`http://127.0.0.1:${app.ports?.[0]?.containerPort}`)
    expect(sidecar.ports?.find((p) => p.name === 'http')?.containerPort).toBe(config.port)
    expect(sidecar.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(config.metrics.port)
  })

  it('probes /health and /ready on the sidecar port and sets resources', () => {
    expect(sidecar.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'http' })
    expect(sidecar.readinessProbe?.httpGet).toEqual({ path: '/ready', port: 'http' })
    expect(sidecar.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
    expect(sidecar.resources?.limits).toMatchObject({ memory: expect.any(String) })
  })
})

describe('Dockerfile', () => {
  const dockerfile = readFileSync(`${APP}/Dockerfile`, 'utf8')

  it('copies only paths that exist in the repository (build context = repository root)', () => {
    const sources = dockerfile
      .split('\n')
      .filter((line) => /^COPY\s/.test(line) && !line.includes('--from='))
      .flatMap((line) =>
        line
          .replace(/^COPY\s+(--\S+\s+)*/, '')
          .trim()
          .split(/\s+/)
          .slice(0, -1),
      )
    expect(sources.length).toBeGreaterThan(5)
    for (const source of sources) expect(existsSync(`${ROOT}/${source}`), source).toBe(true)
  })

  it('copies every workspace package the sidecar depends on', () => {
    const pkg = JSON.parse(readFileSync(`${APP}/package.json`, 'utf8')) as {
      dependencies: Record<string, string>
    }
    const workspace = Object.keys(pkg.dependencies).filter((d) => d.startsWith('@gw/'))
    for (const dep of workspace) expect(dockerfile).toContain(`COPY packages/${dep.slice(4)} `)
  })

  it('is multi-stage on node:20-slim, runs as a non-root user, with a HEALTHCHECK on /health', () => {
    expect(dockerfile.match(/^FROM node:20-slim/gm)).toHaveLength(2)
    expect(dockerfile).toMatch(/deploy --prod/)
    expect(dockerfile).toMatch(/^USER node$/m)
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health/m)
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main.js"\]$/m)
  })
})
