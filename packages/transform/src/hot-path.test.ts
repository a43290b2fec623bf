import type { GwResponse, PolicyEntry, PolicyHandlers } from '@gw/core'
import { createTestExchange } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { compress, jsonBody, requestHeaders, responseHeaders, rewrite } from './index.js'

async function create(entry: PolicyEntry): Promise<PolicyHandlers> {
  return entry.definition.create(entry.options, {
    mode: 'enforce',
    telemetry: { enabled: false, decision() {}, count() {}, observe() {} },
  } as never)
}

const response = (): GwResponse => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'x' })

describe('hot path: handlers answer synchronously unless they read a body', () => {
  it('header, rewrite and compress handlers return plain values', async () => {
    const ex = createTestExchange({ url: '/a?b=1', headers: { 'accept-encoding': 'gzip' } })
    expect((await create(requestHeaders({ set: { 'x-a': '${request.id}' } }))).onRequest!(ex)).toBeUndefined()
    expect((await create(rewrite({ query: { remove: ['b'] } }))).onRequest!(ex)).toBeUndefined()
    expect(
      (await create(responseHeaders({ remove: ['server'] }))).onResponse!(ex, response()),
    ).toBeUndefined()
    expect((await create(compress())).onResponse!(ex, response())).toBeUndefined()
  })

  it('json-body only goes async for JSON bodies', async () => {
    const handlers = await create(jsonBody({ request: { omit: ['/a'] }, response: { omit: ['/a'] } }))
    const text = createTestExchange({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })
    expect(handlers.onRequest!(text)).toBeUndefined()
    expect(handlers.onResponse!(text, response())).toBeUndefined()
    const json = createTestExchange({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    })
    const pending = handlers.onRequest!(json)
    expect(pending).toBeInstanceOf(Promise)
    await pending
    expect(json.bufferedBody?.toString()).toBe('{}')
  })
})
