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
