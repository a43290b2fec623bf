import { once } from 'node:events'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway, type Gateway } from '../src/index.js'
import { parseRawResponse } from './helpers/raw-http.js'

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
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    const head = `GET / HTTP/1.1\r\nHost: gw.test\r\nX-Pad: ${'a'.repeat(400)}\r\n\r\n`
    let i = 0
    const drip = setInterval(() => {
      if (i < head.length && !socket.destroyed) socket.write(head[i++]!)
    }, 25)
    const closed = once(socket, 'close').then(() => true)
    const gaveUp = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 8000))
    const result = await Promise.race([closed, gaveUp])
    clearInterval(drip)
    socket.destroy()
    expect(result).toBe(true)
    expect(i).toBeLessThan(head.length)
    expect(parseRawResponse(Buffer.concat(chunks).toString('latin1')).status).toBe(408)
  })
})
