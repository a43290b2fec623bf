import type { ChildProcess } from 'node:child_process'

/**
 * Waits for a child process to print something: resolves with the first match of `pattern` in `output()` (the
 * caller collects stdout and stderr), checked whenever either stream has data; rejects when the process exits
 * first or after `timeoutMs`, with the output so far.
 *
 * @example
 * ```ts
 * let out = ''
 * proc.stdout?.on('data', (c) => { out += c })
 * const [, url] = await waitForOutput(proc, /listening on (http:\S+)/, () => out)
 * ```
 */
export function waitForOutput(
  proc: ChildProcess,
  pattern: RegExp,
  output: () => string,
  timeoutMs = 10_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`timed out waiting for ${pattern}; output so far:\n${output()}`)),
      timeoutMs,
    )
    const check = (): void => {
      const match = pattern.exec(output())
      if (match) finish(undefined, match)
    }
    const onExit = (code: number | null): void =>
      finish(new Error(`exited with ${code} before ${pattern}:\n${output()}`))
    function finish(error?: Error, match?: RegExpMatchArray): void {
      clearTimeout(timer)
      proc.stdout?.off('data', check)
      proc.stderr?.off('data', check)
      proc.off('exit', onExit)
      if (error) reject(error)
      else resolve(match as RegExpMatchArray)
    }
    proc.stdout?.on('data', check)
    proc.stderr?.on('data', check)
    proc.once('exit', onExit)
    check()
  })
}
