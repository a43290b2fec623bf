import { Writable } from 'node:stream'

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
