/** Parses `a=1&b=2` into decoded pairs (`+` is a space; invalid escapes stay). */
export function parseQuery(query: string, separator = '&'): [string, string][] {
  const out: [string, string][] = []
  if (query === '') return out
  let start = 0
  while (start <= query.length) {
    let end = query.indexOf(separator, start)
    if (end === -1) end = query.length
    if (end > start) {
      const pair = query.slice(start, end)
      const eq = pair.indexOf('=')
      if (eq === -1) out.push([decodeArg(pair), ''])
      else out.push([decodeArg(pair.slice(0, eq)), decodeArg(pair.slice(eq + 1))])
    }
    start = end + separator.length
  }
  return out
}

const isHexCode = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)

function decodeArg(s: string): string {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 43) out += ' '
    else if (
      c === 37 &&
      i + 2 < s.length &&
      isHexCode(s.charCodeAt(i + 1)) &&
      isHexCode(s.charCodeAt(i + 2))
    ) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 3), 16))
      i += 2
    } else out += s[i]
  }
  return out
}

/** Parses Cookie header values (version 0: `a=1; b=2`). */
export function parseCookies(header: string): [string, string][] {
  const out: [string, string][] = []
  for (const part of header.split(';')) {
    const p = part.replace(/^[ \t]+/, '')
    if (p === '') continue
    const eq = p.indexOf('=')
    if (eq === -1) out.push([p.trimEnd(), ''])
    else out.push([p.slice(0, eq).trimEnd(), p.slice(eq + 1)])
  }
  return out
}
