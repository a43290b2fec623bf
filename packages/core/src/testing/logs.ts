import { Writable } from 'node:stream'
import type { Logger } from '../logger.js'

/**
 * A log destination (for pino, or any logger writing JSON lines) that keeps every line, parsed.
 *
 * @example
 * ```ts
 * const logs = new LogCapture()
 * const gw = await createGateway({ logger: pino(logs), ... })
 * expect(logs.withMessage('request completed')).toHaveLength(1)
 * ```
 */
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

  /** The lines whose `msg` is `message` (`'request completed'`: @gw/metrics access-log lines). */
  withMessage(message: string): Record<string, unknown>[] {
    return this.lines.filter((line) => line.msg === message)
  }
}

/**
 * The JSON lines of a process's output, other lines skipped.
 *
 * @example
 * ```ts
 * jsonLines('starting\n{"msg":"gateway listening"}\n') // [{ msg: 'gateway listening' }]
 * ```
 */
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

/**
 * Waits for a condition, not a time: polls `check` every 20 ms until it returns a value other than `undefined`,
 * at most `timeoutMs` (default 5 s); then throws naming `what`.
 *
 * @example
 * ```ts
 * const line = await eventually('the access-log line', () => logs.withMessage('request completed')[0])
 * ```
 */
export async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** One entry of a {@link RecordingLogger}. */
export interface RecordedLogEntry {
  readonly level: string
  readonly msg: string | undefined
  /** The logged object merged over the child bindings, copied as JSON when logged (errors as `{ message }`). */
  readonly fields: Record<string, unknown>
}

/** A {@link Logger} that keeps what is logged, for assertions. */
export interface RecordingLogger extends Logger {
  readonly entries: RecordedLogEntry[]
  /** The fields of the entries whose message is `msg`. */
  withMessage(msg: string): Record<string, unknown>[]
  /** Everything logged, serialised: for "the token never appears" assertions. */
  dump(): string
}

/**
 * A logger for tests that records every entry of itself and its children (bindings merged), at any level;
 * `level` is what it reports to code that checks it (default `trace`).
 *
 * @example
 * ```ts
 * const log = createRecordingLogger()
 * await runPipeline([jwt(options)], request, { log })
 * expect(log.withMessage('report mode: request would have been denied')).toHaveLength(1)
 * ```
 */
export function createRecordingLogger(options: { level?: string } = {}): RecordingLogger {
  const entries: RecordedLogEntry[] = []
  const level = options.level ?? 'trace'
  const make = (bindings: Record<string, unknown>): Logger => {
    const write =
      (name: string) =>
      (obj: unknown, msg?: string): void => {
        const fields =
          typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>) : { msg: obj }
        entries.push({ level: name, msg, fields: snapshot({ ...bindings, ...fields }) })
      }
    return {
      level,
      fatal: write('fatal'),
      error: write('error'),
      warn: write('warn'),
      info: write('info'),
      debug: write('debug'),
      trace: write('trace'),
      child: (more) => make({ ...bindings, ...more }),
    }
  }
  return Object.assign(make({}), {
    entries,
    withMessage: (msg: string) => entries.filter((e) => e.msg === msg).map((e) => e.fields),
    dump: () => JSON.stringify(entries),
  })
}

function snapshot(fields: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(fields, (_key, value: unknown) =>
      value instanceof Error ? { message: value.message } : value,
    ),
  ) as Record<string, unknown>
}
