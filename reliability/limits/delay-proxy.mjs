// A loopback TCP proxy in its own process, in front of a Redis: every chunk Redis sends back is delayed by the
// current delay (requests pass at once, order is kept, also when the delay changes). Usage: node delay-proxy.mjs <targetPort> [delayMs].
// Prints {"port":N} once listening; a line `delay <ms>` on stdin changes the delay; exits when stdin closes.
import { connect, createServer } from 'node:net'
import { createInterface } from 'node:readline'

const target = Number(process.argv[2])
let delay = Number(process.argv[3] ?? 0)
const sockets = new Set()

const server = createServer((client) => {
  const upstream = connect(target, '127.0.0.1')
  sockets.add(client).add(upstream)
  // Chunks leave in the order they came: when the delay drops, later chunks wait for the earlier ones.
  let last = 0
  client.on('data', (chunk) => upstream.write(chunk))
  upstream.on('data', (chunk) => {
    const now = performance.now()
    last = Math.max(now + delay, last)
    if (last <= now) client.write(chunk)
    else setTimeout(() => client.writable && client.write(chunk), last - now)
  })
  const close = () => {
    sockets.delete(client)
    sockets.delete(upstream)
    setTimeout(() => client.destroy(), Math.max(0, last - performance.now()))
    upstream.destroy()
  }
  upstream.on('close', close)
  upstream.on('error', close)
  client.on('close', () => {
    sockets.delete(client)
    upstream.destroy()
  })
  client.on('error', () => upstream.destroy())
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, value] = line.trim().split(/\s+/)
  if (command === 'delay') {
    delay = Number(value)
    process.stdout.write(`${JSON.stringify({ delay })}\n`)
  }
})
process.stdin.on('end', () => {
  for (const socket of sockets) socket.destroy()
  server.close()
  process.exit(0)
})
