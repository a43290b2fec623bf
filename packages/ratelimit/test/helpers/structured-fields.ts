/** A strict RFC 9651 List parser (strings, integers, tokens; parameters), enough to check our headers' syntax. */
export type Bare = string | number | { token: string } | boolean
export interface Item {
  value: Bare
  params: Record<string, Bare>
}

export function parseList(input: string): Item[] {
  let i = 0
  const s = input
  const ws = () => {
    while (s[i] === ' ') i++
  }
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${i} in ${JSON.stringify(s)}`)
  }
  const key = (): string => {
    const m = /^[a-z*][a-z0-9_\-.*]*/.exec(s.slice(i))
    if (!m) fail('expected key')
    i += m![0].length
    return m![0]
  }
  const bare = (): Bare => {
    const c = s[i]
    if (c === '"') {
      i++
      let out = ''
      for (;;) {
        const ch = s[i++]
        if (ch === undefined) fail('unterminated string')
        if (ch === '\\') {
          const next = s[i++]
          if (next !== '"' && next !== '\\') fail('bad escape')
          out += next
        } else if (ch === '"') return out
        else if (ch! < ' ' || ch! > '~') fail('bad string character')
        else out += ch
      }
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const m = /^-?\d{1,15}(?![.\d])/.exec(s.slice(i))
      if (!m) fail('expected integer')
      i += m![0].length
      return Number(m![0])
    }
    if (c === '?') {
      i++
      const b = s[i++]
      if (b !== '0' && b !== '1') fail('bad boolean')
      return b === '1'
    }
    const m = /^[A-Za-z*][!#$%&'*+\-.^_`|~:/A-Za-z0-9]*/.exec(s.slice(i))
    if (!m) fail('expected bare item')
    i += m![0].length
    return { token: m![0] }
  }
  const items: Item[] = []
  ws()
  if (i === s.length) return items
  for (;;) {
    const value = bare()
    const params: Record<string, Bare> = {}
    while (s[i] === ';') {
      i++
      ws()
      const k = key()
      if (s[i] === '=') {
        i++
        params[k] = bare()
      } else params[k] = true
    }
    items.push({ value, params })
    ws()
    if (i === s.length) return items
    if (s[i] !== ',') fail('expected ,')
    i++
    ws()
    if (i === s.length) fail('trailing comma')
  }
}
