import { once } from 'node:events'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway, type Gateway } from '../src/index.js'
import { parseRawResponse } from './helpers/raw-http.js'
import { dripHeaders } from './helpers/slowloris.js'

describe('headersTimeout against a slowloris client', () => {
  let gw: Gateway
  let port: number

  beforeAll(async () => {
    gw = await createGateway({
      server: { headersTimeout: 400 },
      routes: [{ path: '/*', handler: () => ({ status: 200, headers: {}, body: 'ok' }) }],
    })
    port = (await gw.listen({ port: 0, host: '127.0.0.1' })).port
  })
  afterAll(() => gw.close())

  it('answers 408 and closes soon after headersTimeout, not at node’s 30 s check interval', async () => {
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    const result = await dripHeaders(socket)
    expect(result.closed).toBe(true)
    expect(result.sent).toBeLessThan(result.headLength)
    expect(parseRawResponse(result.response).status).toBe(408)
  })
})
