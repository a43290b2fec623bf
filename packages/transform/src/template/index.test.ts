import { principalKey } from '@gw/core'
import { createManualClock, createTestExchange } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { compileTemplate, isTemplate, templateProblems } from './index.js'

function exchange() {
  const ex = createTestExchange(
    {
      method: 'POST',
      url: '/users/7?tab=posts&tab=x',
      headers: { 'x-tenant': 'acme', accept: ['a', 'b'] as unknown as string },
      id: 'req-1',
      ip: '10.0.0.9',
      route: { id: 'users', pattern: '/users/:id', params: { id: '7' }, upstream: 'users' },
    },
    { clock: createManualClock(Date.UTC(2026, 0, 2, 3, 4, 5)) },
  )
  ex.set(principalKey, {
    subject: 'u-1',
    consumer: 'mobile',
    scopes: ['read', 'write'],
    claims: { org: { id: 'o-9', admin: true }, n: 3, list: ['a', 'b'], obj: { deep: {} } },
    method: 'jwt',
  })
  return ex
}

describe('compileTemplate', () => {
  it('resolves request, route, principal, env and time references', () => {
    const ex = exchange()
    const render = (t: string) => compileTemplate(t, { env: { REGION: 'eu' } })(ex)
    expect(render('${request.id}|${request.method}|${request.path}|${request.url}')).toBe(
      'req-1|POST|/users/7|/users/7?tab=posts&tab=x',
    )
    expect(render('${request.host} ${request.ip} ${request.protocol}')).toBe('gw.test 10.0.0.9 http')
    expect(render('${request.headers.X-Tenant}/${request.query.tab}')).toBe('acme/posts')
    expect(render('${route.id} ${route.pattern} ${route.upstream} ${route.params.id}')).toBe(
      'users /users/:id users 7',
    )
    expect(render('${principal.sub}=${principal.subject} ${principal.consumer} ${principal.method}')).toBe(
      'u-1=u-1 mobile jwt',
    )
    expect(render('${principal.scopes}')).toBe('read write')
    expect(render('${principal.claims.org.id} ${principal.claims.org.admin} ${principal.claims.n}')).toBe(
      'o-9 true 3',
    )
    expect(render('${principal.claims.list}')).toBe('a b')
    expect(render('region=${env.REGION}')).toBe('region=eu')
    expect(render('${time.iso} ${time.unix} ${time.ms}')).toBe(
      `2026-01-02T03:04:05.000Z ${Date.UTC(2026, 0, 2, 3, 4, 5) / 1000} ${Date.UTC(2026, 0, 2, 3, 4, 5)}`,
    )
  })

  it('renders undefined when a reference is missing, unless it has a default', () => {
    const ex = createTestExchange()
    expect(compileTemplate('user-${principal.sub}')(ex)).toBeUndefined()
    expect(compileTemplate('${principal.sub}-x')(ex)).toBeUndefined()
    expect(compileTemplate('a${principal.sub}b${request.id}')(ex)).toBeUndefined()
    expect(compileTemplate('user-${principal.sub:-anonymous}')(ex)).toBe('user-anonymous')
    expect(compileTemplate('${request.query.none:-}')(ex)).toBe('')
    expect(compileTemplate('${principal.claims.obj}')(exchange())).toBeUndefined()
    expect(compileTemplate('${principal.claims.constructor}')(exchange())).toBeUndefined()
  })

  it('keeps literals, $${ escapes and lone dollars', () => {
    const ex = createTestExchange()
    expect(compileTemplate('plain')(ex)).toBe('plain')
    expect(compileTemplate('')(ex)).toBe('')
    expect(compileTemplate('cost: $5, $${request.id}')(ex)).toBe('cost: $5, ${request.id}')
    expect(isTemplate('$${request.id}')).toBe(false)
    expect(isTemplate('x${request.id}')).toBe(true)
  })

  it('encodes substituted values only', () => {
    const ex = createTestExchange({ headers: { 'x-name': 'a b/c' } })
    expect(compileTemplate('/p q/${request.headers.x-name}', { encode: encodeURIComponent })(ex)).toBe(
      '/p q/a%20b%2Fc',
    )
  })

  it('reads env once, at compile time, and fails for unset variables without default', () => {
    const env: Record<string, string> = { A: '1' }
    const render = compileTemplate('${env.A}', { env })
    env.A = '2'
    expect(render(createTestExchange())).toBe('1')
    expect(compileTemplate('${env.MISSING:-d}', { env })(createTestExchange())).toBe('d')
    expect(() => compileTemplate('${env.MISSING}', { env })).toThrow(/MISSING is not set/)
  })

  it('rejects unknown references and bad syntax', () => {
    expect(templateProblems('${request.nope}')[0]).toMatch(/unknown reference 'request.nope'/)
    expect(templateProblems('${foo}')[0]).toMatch(/unknown reference 'foo'/)
    expect(templateProblems('${request.id')[0]).toMatch(/unterminated/)
    expect(templateProblems('${ request.id }')[0]).toMatch(/invalid reference/)
    expect(templateProblems('${route.params}')[0]).toMatch(/unknown reference/)
    expect(templateProblems('${request.headers.x-a} ${env.X}')).toEqual([])
    expect(() => compileTemplate('${nope.x}')).toThrow(
      expect.objectContaining({ code: 'GW_ERR_TRANSFORM_TEMPLATE' }),
    )
  })
})
