import { definePolicy, type Principal, principalKey, z } from '@gw/core'
import { createTestPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { authorize } from './index.js'

const setPrincipal = definePolicy({
  name: 'set-principal',
  stage: 'authn',
  schema: z.object({ principal: z.custom<Principal>().optional().describe('principal to set') }),
  state: () => ({ provides: [principalKey] }),
  create: ({ principal }) => ({
    onRequest(ex) {
      if (principal) ex.set(principalKey, principal)
    },
  }),
})

const alice: Principal = {
  subject: 'alice',
  scopes: ['orders:read', 'profile'],
  claims: { roles: ['support'], org: { id: 'acme', tier: 2 }, groups: 'eng ops' },
  method: 'jwt',
}

async function check(options: Parameters<typeof authorize>[0], principal: Principal | null = alice) {
  const p = await createTestPipeline([
    setPrincipal({ principal: principal ?? undefined }),
    authorize(options),
  ])
  return p.run()
}

describe('authorize', () => {
  it('passes when every requirement holds', async () => {
    const res = await check({
      scopes: ['orders:read'],
      anyScopes: ['admin', 'profile'],
      roles: ['support', 'admin'],
      claims: [
        { claim: 'org.id', equals: 'acme' },
        { claim: 'org.tier', oneOf: [1, 2] },
        { claim: 'groups', contains: 'ops' },
      ],
    })
    expect(res.status).toBe(200)
  })

  it('answers 403 insufficient_scope naming the required scopes (RFC 6750 §3.1)', async () => {
    const res = await check({ scopes: ['orders:read', 'orders:write'], realm: 'shop' })
    expect(res.status).toBe(403)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="shop", error="insufficient_scope", error_description="The access token lacks the scope this resource requires", scope="orders:read orders:write"',
    )
    expect(res.json()).toMatchObject({ code: 'GW_ERR_AUTH_INSUFFICIENT_SCOPE', status: 403 })
    expect(res.upstreamCalls).toBe(0)
  })

  it('requires one of anyScopes', async () => {
    expect((await check({ anyScopes: ['admin', 'orders:write'] })).status).toBe(403)
    expect((await check({ anyScopes: ['admin', 'profile'] })).status).toBe(200)
  })

  it('answers 403 GW_ERR_AUTH_FORBIDDEN for roles and claims', async () => {
    for (const options of [
      { roles: ['admin'] },
      { claims: [{ claim: 'org.id', equals: 'globex' }] },
      { claims: [{ claim: 'org.missing.deep', equals: 'x' }] },
      { claims: [{ claim: 'groups', contains: 'hr' }] },
      { claims: [{ claim: 'org.tier', oneOf: ['2'] }] },
    ]) {
      const res = await check(options)
      expect(res.status).toBe(403)
      expect(res.json()).toMatchObject({ code: 'GW_ERR_AUTH_FORBIDDEN' })
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"')
    }
  })

  it('answers 401 when no principal was set', async () => {
    const res = await check({ scopes: ['x'] }, null)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="gw"')
  })

  it('lets a failing request through in report mode', async () => {
    const p = await createTestPipeline([
      setPrincipal({ principal: alice }),
      authorize({ roles: ['admin'] }, { mode: 'report' }),
    ])
    expect((await p.run()).status).toBe(200)
  })

  it('requires a principal provider earlier in the chain (start-up check)', async () => {
    await expect(createTestPipeline([authorize({ scopes: ['x'] })])).rejects.toThrow(/principal/)
  })

  it('rejects empty or ambiguous requirements', () => {
    expect(() => authorize({})).toThrow('at least one requirement')
    expect(() => authorize({ claims: [{ claim: 'a', equals: 1, contains: 1 }] })).toThrow('exactly one')
  })
})
