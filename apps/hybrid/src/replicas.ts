import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Env } from './edge.js'

const MAX_OUTPUT = 4 * 1024 * 1024

/** An edge replica running as a child process. */
export interface EdgeReplica {
  readonly name: string
  /** Where it listens, e.g. `http://127.0.0.1:3000`. */
  readonly url: string
  readonly process: ChildProcess
  /** Everything it wrote to stdout and stderr so far (the last 4 MiB). */
  output(): string
  /** SIGTERM (graceful drain), then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>
}

/** Options of {@link forkEdgeReplica}. */
export interface ForkEdgeOptions {
  /** Replica name (`EDGE_NAME`), shown in its log lines. */
  name: string
  /** Its whole environment (sidecar URLs, Redis, PORT, policy variables). */
  env: Env
  /** The replica entry (default: `edge-main.js` next to this module in `dist/`). */
  entry?: string
  /** Also copy its output to this process's stdout / stderr. */
  forwardOutput?: boolean
  /** Give up waiting for it to listen after this long (default 15 s). */
  timeoutMs?: number
}

/**
 * Forks one edge replica (`dist/edge-main.js`) and resolves when it reports where it listens; rejects (and
 * kills it) if it exits or stays silent too long.
 *
 * @example
 * ```ts
 * const edge = await forkEdgeReplica({ name: 'a', env: { ...process.env, ...tier.edgeEnv, PORT: '3000' } })
 * await edge.stop()
 * ```
 */
export function forkEdgeReplica(options: ForkEdgeOptions): Promise<EdgeReplica> {
  const entry = options.entry ?? fileURLToPath(new URL('./edge-main.js', import.meta.url))
  const child = fork(entry, [], {
    env: { ...options.env, EDGE_NAME: options.name } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group: a terminal's Ctrl+C reaches only the parent, which then stops the replicas in
    // order. If the parent dies, the replica sees its IPC channel close and shuts down (see edge-main.ts).
    detached: true,
  })
  let output = ''
  const collect = (target: NodeJS.WriteStream) => (chunk: string) => {
    output = (output + chunk).slice(-MAX_OUTPUT)
    if (options.forwardOutput) target.write(chunk)
  }
  child.stdout?.setEncoding('utf8').on('data', collect(process.stdout))
  child.stderr?.setEncoding('utf8').on('data', collect(process.stderr))
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  const stop = async (graceMs = 15_000): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    }
  }
  return new Promise<EdgeReplica>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`edge ${options.name} did not start in time:\n${output}`)),
      options.timeoutMs ?? 15_000,
    )
    const onExit = (code: number | null): void =>
      fail(new Error(`edge ${options.name} exited with ${code}:\n${output}`))
    const onMessage = (message: unknown): void => {
      const m = message as { type?: string; url?: string }
      if (m.type !== 'listening' || typeof m.url !== 'string') return
      cleanup()
      resolve({ name: options.name, url: m.url, process: child, output: () => output, stop })
    }
    function cleanup(): void {
      clearTimeout(timer)
      child.off('exit', onExit)
      child.off('message', onMessage)
    }
    function fail(error: Error): void {
      cleanup()
      child.kill('SIGKILL')
      reject(error)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}
