/**
 * Case-insensitive multi-phrase search (Aho-Corasick) for `@pm` / `@pmFromFile`: built once, then each search
 * is one pass over the input whatever the number of phrases.
 */
export class PhraseMatcher {
  readonly #goto: Map<number, number>[] = [new Map()]
  readonly #fail: number[] = [0]
  readonly #out: (string | undefined)[] = [undefined]
  readonly size: number

  constructor(phrases: Iterable<string>) {
    let count = 0
    for (const raw of phrases) {
      if (raw === '') continue
      const phrase = asciiLower(raw)
      let state = 0
      for (let i = 0; i < phrase.length; i++) {
        const c = phrase.charCodeAt(i)
        let next = this.#goto[state]!.get(c)
        if (next === undefined) {
          next = this.#goto.length
          this.#goto.push(new Map())
          this.#fail.push(0)
          this.#out.push(undefined)
          this.#goto[state]!.set(c, next)
        }
        state = next
      }
      if (this.#out[state] === undefined) this.#out[state] = phrase
      count++
    }
    this.size = count
    const queue: number[] = []
    for (const next of this.#goto[0]!.values()) queue.push(next)
    for (let q = 0; q < queue.length; q++) {
      const state = queue[q]!
      for (const [c, next] of this.#goto[state]!) {
        queue.push(next)
        let f = this.#fail[state]!
        while (f !== 0 && !this.#goto[f]!.has(c)) f = this.#fail[f]!
        const target = this.#goto[f]!.get(c)
        this.#fail[next] = target !== undefined && target !== next ? target : 0
        if (this.#out[next] === undefined) this.#out[next] = this.#out[this.#fail[next]!]
      }
    }
  }

  /**
   * The first phrase found in `input` (case-insensitively), or undefined.
   *
   * @example
   * ```ts
   * new PhraseMatcher(['select', 'union']).find('x UNION y') // 'union'
   * ```
   */
  find(input: string): string | undefined {
    let state = 0
    const gotoTable = this.#goto
    const fail = this.#fail
    for (let i = 0; i < input.length; i++) {
      let c = input.charCodeAt(i)
      if (c >= 65 && c <= 90) c += 32
      let next = gotoTable[state]!.get(c)
      while (next === undefined && state !== 0) {
        state = fail[state]!
        next = gotoTable[state]!.get(c)
      }
      state = next ?? 0
      const hit = this.#out[state]
      if (hit !== undefined) return hit
    }
    return undefined
  }
}

function asciiLower(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i]
  }
  return out
}
