import { Writable } from 'node:stream'
import { type FakeUpstream, type FakeUpstreamHandler, freePort, startFakeUpstream } from '@gw/core/testing'

export { freePort }

/** A log destination that keeps every JSON line, parsed. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = []

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>)
    }
    done()
  }

  /** Access-log lines (`msg: "request completed"`). */
  access(): Record<string, unknown>[] {
    return this.lines.filter((line) => line.msg === 'request completed')
  }
}

/** The local service of these tests: a real upstream that records what it receives (`requests`). */
export type RecordingService = FakeUpstream

const answerOkWithPath: FakeUpstreamHandler = (req, res) => {
  const body = JSON.stringify({ ok: true, path: req.url })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** Starts a {@link RecordingService} answering JSON `{ ok, path }` on 127.0.0.1 (`port` 0: ephemeral). */
export function startRecordingService(port = 0): Promise<RecordingService> {
  return startFakeUpstream(answerOkWithPath, { port })
}

/** Polls `check` every 20 ms until it returns a value, at most `timeoutMs`; then throws with `what`. */
export async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (let i = 0; i < Math.ceil(timeoutMs / 20) + 1; i++) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > deadline) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** The JSON lines of a process's output (other lines skipped). */
export function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>]
      } catch {
        return []
      }
    })
}
