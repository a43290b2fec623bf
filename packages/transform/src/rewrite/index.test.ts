import { principalKey } from '@gw/core'
import { createTestExchange } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { rewrite } from './index.js'

async function handlersOf(entry: ReturnType<typeof rewrite>) {
  return entry.definition.create(entry.options, {} as never)
}

describe('rewrite', () => {
  it('rewrites the path with numbered and named captures, keeping the query', async () => {
    const h = await handlersOf(
      rewrite({ path: { pattern: '^/v1/(\\w+)/(?<id>\\d+)$', replacement: '/api/$1/item/$<id>' } }),
    )
    const ex = createTestExchange({ url: '/v1/users/42?x=1' })
    expect(h.onRequest!(ex)).toBeUndefined()
    expect(ex.upstreamPath).toBe('/api/users/item/42?x=1')
    const miss = createTestExchange({ url: '/other?x=1' })
    h.onRequest!(miss)
    expect(miss.upstreamPath).toBe('/other?x=1')
  })

  it('percent-encodes template values in paths, dot segments included', async () => {
    const h = await handlersOf(
      rewrite({ path: { pattern: '^/me$', replacement: '/users/${principal.sub}' } }),
    )
    const ex = createTestExchange({ url: '/me' })
    ex.set(principalKey, { subject: 'a/b c', scopes: [], claims: {}, method: 'jwt' })
    h.onRequest!(ex)
    expect(ex.upstreamPath).toBe('/users/a%2Fb%20c')
    const dots = createTestExchange({ url: '/me' })
    dots.set(principalKey, { subject: '..', scopes: [], claims: {}, method: 'jwt' })
    h.onRequest!(dots)
    expect(dots.upstreamPath).toBe('/users/%2E%2E')
    const anonymous = createTestExchange({ url: '/me' })
    h.onRequest!(anonymous)
    expect(anonymous.upstreamPath).toBe('/me')
  })

  it('edits query parameters: remove, rename, set, add', async () => {
    const h = await handlersOf(
      rewrite({
        query: {
          remove: ['debug'],
          rename: { q: 'search' },
          set: { v: '2', who: '${principal.sub}' },
          add: { page: '1', search: 'never' },
        },
      }),
    )
    const ex = createTestExchange({ url: '/s?q=a&q=b&debug=1&v=1&v=3' })
    h.onRequest!(ex)
    expect(ex.upstreamPath).toBe('/s?v=2&search=a&search=b&page=1')
    const empty = createTestExchange({ url: '/s?debug=1' })
    const onlyRemove = await handlersOf(rewrite({ query: { remove: ['debug'] } }))
    onlyRemove.onRequest!(empty)
    expect(empty.upstreamPath).toBe('/s')
  })

  it('overrides the method', async () => {
    const h = await handlersOf(rewrite({ method: 'PUT' }))
    const ex = createTestExchange({ method: 'POST', url: '/x' })
    h.onRequest!(ex)
    expect(ex.request.method).toBe('PUT')
    expect(ex.upstreamPath).toBe('/x')
  })

  it('validates options', () => {
    expect(() => rewrite({})).toThrow(/at least one of path, query or method/)
    expect(() => rewrite({ path: { pattern: '(', replacement: '/' } })).toThrow(/valid regular expression/)
    // @ts-expect-error not a method
    expect(() => rewrite({ method: 'FETCH' })).toThrow(/rewrite\.options\.method/)
  })
})
