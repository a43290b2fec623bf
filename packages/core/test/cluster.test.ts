import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

// Workers are forked processes, so this suite runs the built dist (turbo builds before tests).
const app = fileURLToPath(new URL('./fixtures/cluster-app.mjs', import.meta.url))
const dist = fileURLToPath(new URL('../dist/cluster/index.js', import.meta.url))

interface Event {
  name: string
  pid: number
  url?: string
  generation?: number
}

class Primary {
  readonly child: ChildProcess
  readonly events: Event[] = []
  stdout = ''
  stderr = ''
  readonly exited: Promise<[number | null, string | null]>
  #waiters: (() => void)[] = []

  constructor(env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [app], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.exited = once(this.child, 'exit') as Promise<[number | null, string | null]>
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString()
      const lines = this.stdout.split('\n')
      this.stdout = lines.pop() ?? ''
      for (const line of lines)
        if (line.startsWith('event ')) this.events.push(JSON.parse(line.slice(6)) as Event)
      this.#wake()
    })
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
      this.#wake()
    })
    this.child.once('exit', () => this.#wake())
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter()
  }

  /** Waits (bounded) until `test` holds, re-checking on every output chunk. */
  async until<T>(test: () => T | undefined | false, what: string, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms
    for (;;) {
      const value = test()
      if (value !== undefined && value !== false) return value
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}\nstderr: ${this.stderr.slice(-2000)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  named(name: string): Event[] {
    return this.events.filter((e) => e.name === name)
  }
}

/** One request; without an agent on a fresh connection (so the cluster may hand it to any worker). */
function get(url: string, agent: Agent | false = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = agent === false ? { connection: 'close' } : {}
    const req = httpRequest(url, { agent, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')))
    req.end()
  })
}

const primaries: Primary[] = []
afterEach(async () => {
  for (const p of primaries.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL')
      for (const e of p.named('listening')) {
        try {
          process.kill(e.pid, 'SIGKILL')
        } catch {}
      }
      await p.exited
    }
  }
})

async function startCluster(env: Record<string, string> = {}): Promise<{ primary: Primary; url: string }> {
  const primary = new Primary(env)
  primaries.push(primary)
  await primary.until(() => primary.named('listening').length >= 2, 'two workers listening')
  const url = primary.named('listening')[0]?.url ?? ''
  expect(primary.named('listening').every((e) => e.url === url)).toBe(true)
  return { primary, url }
}

async function pidsAnswering(url: string, want: number, max = 200): Promise<Set<number>> {
  const pids = new Set<number>()
  for (let i = 0; i < max && pids.size < want; i++) {
    const res = await get(`${url}/pid`)
    expect(res.status).toBe(200)
    pids.add((JSON.parse(res.body) as { pid: number }).pid)
  }
  return pids
}

// Forking workers takes seconds on a busy machine: each wait is for a condition, bounded generously.
describe('runCluster with 2 workers', { timeout: 120_000 }, () => {
  beforeAll(() => {
    if (!existsSync(dist)) throw new Error('build @gw/core first (pnpm --filter @gw/core build)')
  })

  it('serves from both workers and survives a worker crash (SIGKILL): requests keep succeeding, a replacement appears', async () => {
    const { primary, url } = await startCluster()
    const workers = primary.named('listening').map((e) => e.pid)
    const pids = await pidsAnswering(url, 2)
    expect([...pids].sort()).toEqual([...workers].sort())

    const victim = workers[0]!
    process.kill(victim, 'SIGKILL')
    await primary.until(() => primary.stderr.includes('"msg":"worker died"'), 'the primary to see the crash')
    for (let i = 0; i < 30; i++) {
      const res = await get(`${url}/pid`)
      expect(res.status).toBe(200)
      expect((JSON.parse(res.body) as { pid: number }).pid).not.toBe(victim)
    }
    const replacement = await primary.until(
      () => primary.named('listening').find((e) => !workers.includes(e.pid)),
      'a replacement worker',
    )
    expect(replacement.url).toBe(url)
    const after = await pidsAnswering(url, 2)
    expect([...after].sort()).toEqual([workers[1]!, replacement.pid].sort())
  })

  it('SIGTERM lets in-flight requests finish in every worker, then the primary exits 0', async () => {
    const { primary, url } = await startCluster()
    const slow = Array.from({ length: 6 }, () => get(`${url}/slow?ms=1500`))
    await primary.until(() => primary.named('slow-start').length >= 6, 'six slow requests in flight')
    primary.child.kill('SIGTERM')
    const results = await Promise.all(slow)
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200])
    const [code] = await primary.exited
    expect(code).toBe(0)
    expect(primary.named('closed')).toHaveLength(2)
    await expect(get(`${url}/pid`)).rejects.toThrow()
  })

  it('SIGHUP reloads every worker; SIGUSR2 replaces them one by one with no failed request', async () => {
    const { primary, url } = await startCluster()
    const workers = primary.named('listening').map((e) => e.pid)
    primary.child.kill('SIGHUP')
    await primary.until(() => primary.named('reloaded').length >= 2, 'both workers reloaded')
    expect(new Set(primary.named('reloaded').map((e) => e.pid))).toEqual(new Set(workers))
    const res = await get(`${url}/pid`)
    expect((JSON.parse(res.body) as { generation: number }).generation).toBe(1)

    primary.child.kill('SIGUSR2')
    // Two clients open a fresh connection per request, two reuse keep-alive connections: a request fails if a
    // retiring worker resets a connection it accepted, or exits with a connection handed to it but unread.
    const outcomes: (number | string)[] = []
    let done = false
    const agents = [new Agent({ keepAlive: true }), new Agent({ keepAlive: true })]
    const loop = async (agent: Agent | false): Promise<void> => {
      for (let i = 0; i < 2000 && !done; i++) {
        outcomes.push(
          await get(`${url}/pid`, agent).then(
            (r) => r.status,
            (error: NodeJS.ErrnoException) => error.code ?? error.message,
          ),
        )
      }
    }
    const load = Promise.all([loop(false), loop(false), ...agents.map(loop)])
    await primary.until(() => primary.stderr.includes('rolling restart done'), 'the rolling restart')
    done = true
    await load
    for (const agent of agents) agent.destroy()
    expect(outcomes.length).toBeGreaterThan(0)
    expect(outcomes.filter((s) => s !== 200)).toEqual([])
    expect(
      primary
        .named('closed')
        .map((e) => e.pid)
        .sort(),
    ).toEqual([...workers].sort())
    const fresh = await pidsAnswering(url, 2)
    for (const pid of fresh) expect(workers).not.toContain(pid)
  })

  it('stops with exit code 1 on a crash loop', async () => {
    const primary = new Primary({ GW_FAIL_START: '1', GW_MAX_CRASHES: '3' })
    primaries.push(primary)
    const [code] = await primary.exited
    expect(code).toBe(1)
    expect(primary.stderr).toContain('crash loop')
    expect(primary.stderr.match(/"msg":"worker died"/g)?.length).toBe(4)
  })
})
