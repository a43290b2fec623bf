import { once } from 'node:events'
import type { Duplex } from 'node:stream'

/** What a slowloris run saw: whether the server closed the connection, how many header bytes went out, the reply. */
export interface SlowlorisResult {
  closed: boolean
  sent: number
  headLength: number
  response: string
}

/**
 * Sends a request head one byte every `everyMs` on a connected socket until the server closes it or `giveUpMs`
 * passes; then destroys the socket.
 */
export async function dripHeaders(socket: Duplex, everyMs = 25, giveUpMs = 8000): Promise<SlowlorisResult> {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  const head = `GET / HTTP/1.1\r\nHost: gw.test\r\nX-Pad: ${'a'.repeat(400)}\r\n\r\n`
  let sent = 0
  const drip = setInterval(() => {
    if (sent < head.length && !socket.destroyed) socket.write(head[sent++]!)
  }, everyMs)
  const closed = once(socket, 'close').then(() => true)
  const gaveUp = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), giveUpMs))
  const result = await Promise.race([closed, gaveUp])
  clearInterval(drip)
  socket.destroy()
  return { closed: result, sent, headLength: head.length, response: Buffer.concat(chunks).toString('latin1') }
}
