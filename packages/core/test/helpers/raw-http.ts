import { connect } from 'node:net'

/** Sends raw bytes to 127.0.0.1:port and resolves with everything the server sent before closing (bounded). */
export function rawRequest(port: number, payload: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(Buffer.concat(chunks).toString('latin1'))
    }, timeoutMs)
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', (error) => {
      clearTimeout(timer)
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1'))
      else reject(error)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
    socket.write(payload)
  })
}

/** Splits a raw HTTP/1.1 response into status, lowercase headers and body. */
export function parseRawResponse(raw: string): {
  status: number
  headers: Record<string, string>
  body: string
} {
  const end = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, end).split('\r\n')
  const status = Number(head[0]?.split(' ')[1])
  const headers: Record<string, string> = {}
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status, headers, body: raw.slice(end + 4) }
}
