import { principalKey } from '@gw/core'
import { createTestExchange, runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { compileHeaderEdits, headersSchema, requestHeaders, responseHeaders } from './index.js'

describe('compileHeaderEdits', () => {
  it('applies remove, rename, set, append, add in that order', () => {
    const edit = compileHeaderEdits(
      headersSchema.parse({
        remove: ['X-Drop'],
        rename: { 'X-Old': 'x-new' },
        set: { 'x-new': 'replaced-${request.id}', 'x-set': 'v' },
        append: { 'x-list': 'c', vary: 'Origin', 'set-cookie': 'b=2' },
        add: { 'x-set': 'ignored', 'x-added': 'yes', 'x-new': 'ignored' },
      }),
    )
    const headers: Record<string, string | string[] | number | undefined> = {
      'x-drop': '1',
      'x-old': 'o',
      'x-list': 'a, b',
      'set-cookie': 'a=1',
    }
    edit(headers, createTestExchange({ id: 'r1' }))
    expect(headers).toEqual({
      'x-new': 'replaced-r1',
      'x-set': 'v',
      'x-list': 'a, b, c',
      vary: 'Origin',
      'set-cookie': ['a=1', 'b=2'],
      'x-added': 'yes',
    })
  })

  it('skips values with missing references or forbidden characters', () => {
    const edit = compileHeaderEdits(
      headersSchema.parse({ set: { 'x-user': '${principal.sub}', 'x-evil': '${principal.claims.name}' } }),
    )
    const ex = createTestExchange()
    const headers: Record<string, string> = {}
    edit(headers, ex)
    expect(headers).toEqual({})
    ex.set(principalKey, { subject: 'u', scopes: [], claims: { name: 'a\r\nx-injected: 1' }, method: 'jwt' })
    edit(headers, ex)
    expect(headers).toEqual({ 'x-user': 'u' })
  })

  it('rejects framing headers, bad names and bad templates with their path', () => {
    expect(() => requestHeaders({ set: { 'content-length': '1' } })).toThrow(/request-headers\.options\.set/)
    expect(() => requestHeaders({ remove: ['Transfer-Encoding'] })).toThrow(/managed by the gateway/)
    expect(() => responseHeaders({ set: { 'bad name': 'x' } })).toThrow(/valid header name/)
    expect(() => responseHeaders({ set: { 'x-a': '${request.nope}' } })).toThrow(/unknown reference/)
    // @ts-expect-error unknown option
    expect(() => responseHeaders({ sett: {} })).toThrow(/sett/)
  })
})

describe('header policies in a pipeline', () => {
  it('request-headers edits what the upstream receives', async () => {
    const res = await runPipeline(
      [requestHeaders({ set: { 'x-route': '${route.id}' }, remove: ['authorization'] })],
      { headers: { authorization: 'Bearer x' } },
      {
        upstream: (ex) => ({ status: 200, headers: {}, body: JSON.stringify(ex.request.headers) }),
      },
    )
    const seen = res.json<Record<string, string>>()
    expect(seen['x-route']).toBe('test')
    expect(seen.authorization).toBeUndefined()
  })

  it('response-headers also edits local replies and errors', async () => {
    const res = await runPipeline(
      [responseHeaders({ set: { 'x-req': '${request.id}' } })],
      {},
      {
        upstream: { status: 503, body: { error: 'down' } },
      },
    )
    expect(res.status).toBe(503)
    expect(res.headers['x-req']).toBe('test-request-id')
  })
})
