import { fileURLToPath } from 'node:url'
import { serverSchema, upstreamSchema } from '@gw/core'
import { createPolicyRegistry, loadConfigFile, toGatewayOptions } from '@gw/core/config'
import { describe, expect, it } from 'vitest'
import {
  buildGatewayOptions,
  type Env,
  SERVICE_URL_VARS,
  SERVICES,
  type ServiceUrls,
} from '../src/gateway.js'

const FILE = fileURLToPath(new URL('../gateway.yaml', import.meta.url))
const FILE_DEFAULTS: ServiceUrls = {
  users: 'http://127.0.0.1:3001',
  products: 'http://127.0.0.1:3002',
  orders: 'http://127.0.0.1:3003',
}

/** Code options with core's defaults applied, as the file loader returns them. */
function normalisedCodeOptions(env: Env) {
  const urls = Object.fromEntries(
    SERVICES.map((name) => [name, env[SERVICE_URL_VARS[name]] ?? FILE_DEFAULTS[name]]),
  ) as ServiceUrls
  const options = buildGatewayOptions(env, urls)
  return {
    server: serverSchema.parse(options.server),
    upstreams: Object.fromEntries(
      Object.entries(options.upstreams ?? {}).map(([k, v]) => [k, upstreamSchema.parse(v)]),
    ),
    routes: options.routes,
  }
}

describe('gateway.yaml', () => {
  const registry = createPolicyRegistry([])
  const envs: Env[] = [
    {},
    {
      PORT: '8080',
      HOST: '127.0.0.1',
      USERS_SERVICE_URL: 'http://users.internal:9001',
      PRODUCTS_SERVICE_URL: 'http://products.internal:9002',
      ORDERS_SERVICE_URL: 'http://orders.internal:9003',
    },
  ]
  for (const env of envs) {
    it(`describes the same gateway as buildGatewayOptions (env: ${JSON.stringify(env)})`, () => {
      const { config, issues } = loadConfigFile(FILE, { registry, env })
      expect(issues).toEqual([])
      const file = toGatewayOptions(config, registry)
      expect({ server: file.server, upstreams: file.upstreams, routes: file.routes }).toEqual(
        normalisedCodeOptions(env),
      )
    })
  }
})
