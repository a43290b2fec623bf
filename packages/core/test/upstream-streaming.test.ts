import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { noopLogger } from '../src/logger.js'
import { createUpstream } from '../src/upstream/index.js'
import { generated, startFront, startServer, watchMemory } from './upstream-harness.js'

const SIZE = Number(process.env.UPSTREAM_STREAM_MB ?? 100) * 1024 * 1024
const WARMUP = 16 * 1024 * 1024
const MAX_RSS_GROWTH = 60 * 1024 * 1024
const MAX_LIVE_GROWTH = 32 * 1024 * 1024

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()))
})

async function setup(handler: Parameters<typeof startServer>[0]) {
  const up = await startServer(handler)
  const upstream = createUpstream('big', { url: up.url }, { log: noopLogger, via: 'gw' })
  const front = await startFront(upstream)
  cleanups.push(async () => {
    await front.close()
    await upstream.close()
    await up.close()
  })
  return front
}

function upload(url: string, size: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', agent: false, headers: { 'content-length': String(size) } },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          text += c
        })
        res.on('end', () => resolve(text))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    generated(size).pipe(req)
  })
}

function download(url: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length
      })
      res.on('end', () => resolve(bytes))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('upstream streaming: bodies are never buffered', () => {
  it('streams a 100 MB request body with flat memory', { timeout: 60_000 }, async () => {
    const front = await setup((req, res) => {
      let bytes = 0
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length
      })
      req.on('end', () => res.end(String(bytes)))
    })
    expect(await upload(`${front.url}/warmup`, WARMUP)).toBe(String(WARMUP))
    const memory = watchMemory()
    const body = await upload(`${front.url}/upload`, SIZE)
    const growth = memory.stop()
    expect(body).toBe(String(SIZE))
    expect(growth.rss).toBeLessThan(MAX_RSS_GROWTH)
    expect(growth.live).toBeLessThan(MAX_LIVE_GROWTH)
  })

  it('streams a 100 MB response body with flat memory', { timeout: 60_000 }, async () => {
    const front = await setup((req, res) => {
      const size = req.url === '/warmup' ? WARMUP : SIZE
      res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' })
      generated(size).pipe(res)
    })
    expect(await download(`${front.url}/warmup`)).toBe(WARMUP)
    const memory = watchMemory()
    const received = await download(`${front.url}/download`)
    const growth = memory.stop()
    expect(received).toBe(SIZE)
    expect(front.responses[1]!.headers['content-length']).toBe(String(SIZE))
    expect(growth.rss).toBeLessThan(MAX_RSS_GROWTH)
    expect(growth.live).toBeLessThan(MAX_LIVE_GROWTH)
  })
})
