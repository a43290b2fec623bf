import { setFlagsFromString } from 'node:v8'

let enabled = false

/**
 * Makes V8 finish any regular expression that backtracks excessively with its linear-time engine (the
 * `--enable-experimental-regexp-engine-on-excessive-backtracks` flag, set at run time: no node option needed).
 * After `--regexp-backtracks-before-fallback` backtracks (V8 default 50,000) a match restarts on an automaton
 * whose cost is linear in the input, so a crafted input cannot make a rule run for minutes. Patterns with
 * backreferences or lookarounds cannot fall back; CRS uses neither, and the PCRE translation adds none.
 * The flag is process-wide and only changes how long pathological matches take, never their result.
 *
 * @example
 * ```ts
 * enableLinearRegexFallback()
 * /^(a+)+$/.test('a'.repeat(40) + '!') // false, in milliseconds instead of hours
 * ```
 */
export function enableLinearRegexFallback(): void {
  if (enabled) return
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks')
  enabled = true
}
