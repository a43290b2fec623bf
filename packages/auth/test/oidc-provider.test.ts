import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair } from 'jose'
import Provider from 'oidc-provider'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authorize, introspection, jwt } from '../src/index.js'
import { type Harness, startHarness } from './helpers/gateway.js'

/**
 * A real OAuth 2.0 / OpenID Connect authorization server (oidc-provider) on loopback: it issues tokens with
 * the client credentials grant (JWT access tokens for https://api.test, opaque ones for https://opaque.test),
 * serves its JWKS and discovery document, and answers RFC 7662 introspection and RFC 7009 revocation.
 */
let as: Server
let issuer = ''
let h: Harness

const app = { id: 'app', secret: 'app-secret-0123456789abcdef' }
const gatewayBasic = { id: 'gateway', secret: 'gateway-secret-0123456789abcdef' }
const gatewayPost = { id: 'gateway-post', secret: 'gateway-post-secret-0123456789' }

async function token(resource: string, scope: string): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }).toString(),
  })
  const body = (await res.json()) as { access_token?: string; error?: string }
  if (!body.access_token) throw new Error(`token request failed: ${JSON.stringify(body)}`)
  return body.access_token
}

async function revoke(value: string): Promise<void> {
  const res = await fetch(`${issuer}/token/revocation`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token: value }).toString(),
  })
  expect(res.status).toBe(200)
}

beforeAll(async () => {
  as = createServer()
  await new Promise<void>((resolve) => as.listen(0, '127.0.0.1', resolve))
  issuer = `http://127.0.0.1:${(as.address() as AddressInfo).port}`
  const es = await generateKeyPair('ES256', { extractable: true })
  const rs = await generateKeyPair('RS256', { extractable: true })
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: app.id,
        client_secret: app.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'orders:read orders:write',
      },
      {
        client_id: gatewayBasic.id,
        client_secret: gatewayBasic.secret,
        grant_types: [],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: gatewayPost.id,
        client_secret: gatewayPost.secret,
        grant_types: [],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: {
      keys: [
        { ...(await exportJWK(es.privateKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
        { ...(await exportJWK(rs.privateKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
      ],
    },
    scopes: ['orders:read', 'orders:write'],
    ttl: { ClientCredentials: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://api.test',
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) =>
          resource === 'https://opaque.test'
            ? { scope: 'orders:read orders:write', audience: resource, accessTokenFormat: 'opaque' }
            : {
                scope: 'orders:read orders:write',
                audience: resource,
                accessTokenFormat: 'jwt',
                jwt: { sign: { alg: 'ES256' } },
              },
      },
    },
  })
  as.on('request', provider.callback())

  h = await startHarness({
    routes: [
      {
        path: '/jwt/*',
        upstream: 'api',
        policies: [
          jwt({
            algorithms: ['ES256'],
            jwksUri: `${issuer}/jwks`,
            issuer,
            audience: 'https://api.test',
            typ: 'at+jwt',
          }),
          authorize({ scopes: ['orders:read'] }),
        ],
      },
      {
        path: '/discovered/*',
        upstream: 'api',
        policies: [
          jwt({ algorithms: ['ES256', 'RS256'], issuer, discovery: true, audience: 'https://api.test' }),
        ],
      },
      {
        path: '/opaque/*',
        upstream: 'api',
        policies: [
          introspection({
            issuer,
            clientId: gatewayBasic.id,
            clientSecret: gatewayBasic.secret,
            audience: 'https://opaque.test',
          }),
          authorize({ scopes: ['orders:write'] }),
        ],
      },
      {
        path: '/fresh/*',
        upstream: 'api',
        policies: [
          introspection({
            issuer,
            clientId: gatewayPost.id,
            clientSecret: gatewayPost.secret,
            clientAuth: 'client_secret_post',
            cache: { enabled: false },
          }),
        ],
      },
    ],
  })
}, 20_000)

afterAll(async () => {
  await h?.close()
  await new Promise((resolve) => as.close(resolve))
})

const get = (path: string, bearer: string) =>
  fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } })

describe('against a real authorization server (oidc-provider)', () => {
  it('accepts a JWT access token verified with the server JWKS, with its scopes', async () => {
    const res = await get('/jwt/orders', await token('https://api.test', 'orders:read'))
    expect(res.status).toBe(200)
    const echoed = (await res.json()) as { url: string }
    expect(echoed.url).toBe('/jwt/orders')
  })

  it('finds the JWKS through OIDC discovery', async () => {
    expect((await get('/discovered/x', await token('https://api.test', 'orders:read'))).status).toBe(200)
    expect((await get('/discovered/x', 'a.b.c')).status).toBe(401)
  })

  it('refuses a JWT lacking the route scope with 403 insufficient_scope', async () => {
    const res = await get('/jwt/orders', await token('https://api.test', 'orders:write'))
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toContain('scope="orders:read"')
  })

  it('refuses a JWT minted for another audience', async () => {
    const other = await token('https://opaque.test', 'orders:read')
    expect((await get('/jwt/orders', other)).status).toBe(401)
  })

  it('introspects an opaque token (client_secret_basic, found by discovery)', async () => {
    const ok = await get('/opaque/orders', await token('https://opaque.test', 'orders:write'))
    expect(ok.status).toBe(200)
    const lacking = await get('/opaque/orders', await token('https://opaque.test', 'orders:read'))
    expect(lacking.status).toBe(403)
    const junk = await get('/opaque/orders', 'not-a-real-token')
    expect(junk.status).toBe(401)
    expect(junk.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('sees a revoked token as inactive (client_secret_post, no cache)', async () => {
    const value = await token('https://opaque.test', 'orders:read')
    expect((await get('/fresh/x', value)).status).toBe(200)
    await revoke(value)
    expect((await get('/fresh/x', value)).status).toBe(401)
  })
})
