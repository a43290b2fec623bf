const NONE: readonly string[] = Object.freeze([])

/**
 * The values of cookie `name` in a request's Cookie header (`a=1; b=2`, RFC 6265 §4.2.1), in the order sent,
 * trimmed and not decoded. A name sent more than once yields several values: a policy reading a credential
 * treats that as ambiguous rather than picking one (cookie tossing). Allocates nothing when the cookie is absent.
 *
 * @example
 * ```ts
 * cookieValues('theme=dark; session=abc123', 'session') // ['abc123']
 * cookieValues('session=a; session=b', 'session') // ['a', 'b']
 * cookieValues(undefined, 'session') // []
 * ```
 */
export function cookieValues(header: string | undefined, name: string): readonly string[] {
  if (header === undefined || name === '' || !header.includes(name)) return NONE
  let found: string[] | undefined
  for (let from = 0; from < header.length; ) {
    const end = pairEnd(header, from)
    const start = skipSpaces(header, from, end)
    if (isNamed(header, start, end, name)) {
      const value = header.slice(start + name.length + 1, end).trim()
      if (found === undefined) found = [value]
      else found.push(value)
    }
    from = end + 1
  }
  return found ?? NONE
}

/**
 * A Cookie header without cookie `name` (every occurrence), pairs joined with `; `; `undefined` when no cookie
 * is left. Used to keep a credential read from a cookie from reaching the upstream.
 *
 * @example
 * ```ts
 * withoutCookie('theme=dark; session=abc123', 'session') // 'theme=dark'
 * withoutCookie('session=abc123', 'session') // undefined
 * ```
 */
export function withoutCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || name === '' || !header.includes(name)) return header
  const kept: string[] = []
  for (let from = 0; from < header.length; ) {
    const end = pairEnd(header, from)
    const start = skipSpaces(header, from, end)
    const pair = isNamed(header, start, end, name) ? '' : header.slice(start, end).trim()
    if (pair !== '') kept.push(pair)
    from = end + 1
  }
  return kept.length === 0 ? undefined : kept.join('; ')
}

function pairEnd(header: string, from: number): number {
  const end = header.indexOf(';', from)
  return end === -1 ? header.length : end
}

function skipSpaces(header: string, from: number, end: number): number {
  let start = from
  while (start < end && isSpace(header.charCodeAt(start))) start++
  return start
}

/** Whether the pair starting at `start` is `name=...`. */
function isNamed(header: string, start: number, end: number, name: string): boolean {
  const eq = start + name.length
  return eq < end && header.charCodeAt(eq) === 61 && header.startsWith(name, start)
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9
}
