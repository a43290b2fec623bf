/**
 * SecLang (the ModSecurity rule language) tokenizer: turns configuration text into directives with their
 * file and line, following Apache's configuration syntax as ModSecurity reads it (backslash line
 * continuation, `#` comments, arguments in double or single quotes where only an escaped quote is unescaped).
 */

/** A start-up error in a rule file, naming the file and line. */
export class SecLangError extends Error {
  override readonly name = 'SecLangError'
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file}:${line}: ${message}`)
  }
}

/** One configuration directive (`SecRule`, `SecAction`, ...) and its arguments, unquoted. */
export interface Directive {
  readonly name: string
  readonly args: readonly string[]
  readonly file: string
  readonly line: number
}

/**
 * Splits SecLang text into directives.
 *
 * @example
 * ```ts
 * parseDirectives('SecRule ARGS "@rx a" "id:1,deny"', 'x.conf')[0]?.args // ['ARGS', '@rx a', 'id:1,deny']
 * ```
 */
export function parseDirectives(text: string, file: string): Directive[] {
  const lines = text.split('\n')
  const out: Directive[] = []
  let i = 0
  while (i < lines.length) {
    const startLine = i + 1
    let line = stripCr(lines[i]!)
    i++
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    let logical = ''
    while (true) {
      const end = line.trimEnd()
      if (end.endsWith('\\') && i < lines.length) {
        logical += end.slice(0, -1)
        line = stripCr(lines[i]!)
        i++
        continue
      }
      logical += end.endsWith('\\') ? end.slice(0, -1) : line
      break
    }
    const words = splitWords(logical, file, startLine)
    if (words.length === 0) continue
    out.push({ name: words[0]!, args: words.slice(1), file, line: startLine })
  }
  return out
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}

function splitWords(line: string, file: string, lineNo: number): string[] {
  const words: string[] = []
  let i = 0
  const n = line.length
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++
    if (i >= n) break
    const c = line[i]
    if (c === '"' || c === "'") {
      const quote = c
      i++
      let word = ''
      let closed = false
      while (i < n) {
        const ch = line[i]!
        if (ch === '\\' && line[i + 1] === quote) {
          word += quote
          i += 2
          continue
        }
        if (ch === quote) {
          closed = true
          i++
          break
        }
        word += ch
        i++
      }
      if (!closed) throw new SecLangError(`unterminated ${quote}-quoted argument`, file, lineNo)
      words.push(word)
    } else {
      let word = ''
      while (i < n && !isSpace(line.charCodeAt(i))) {
        word += line[i]
        i++
      }
      words.push(word)
    }
  }
  return words
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 11 || code === 12 || code === 13
}

/** One parsed action: `name` or `name:value` (value unquoted). */
export interface RawAction {
  readonly name: string
  readonly value: string | undefined
}

/**
 * Splits an action list (`id:1,phase:2,msg:'a, b',t:none`) into actions.
 *
 * @example
 * ```ts
 * parseActionList("id:1,msg:'a, b',deny") // [{ name: 'id', value: '1' }, { name: 'msg', value: 'a, b' }, { name: 'deny', value: undefined }]
 * ```
 */
export function parseActionList(text: string, file: string, line: number): RawAction[] {
  const out: RawAction[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    while (i < n && (isSpace(text.charCodeAt(i)) || text[i] === ',')) i++
    if (i >= n) break
    let name = ''
    while (i < n && text[i] !== ':' && text[i] !== ',') {
      name += text[i]
      i++
    }
    name = name.trim()
    if (name === '') throw new SecLangError(`empty action in "${text}"`, file, line)
    if (i >= n || text[i] === ',') {
      out.push({ name, value: undefined })
      continue
    }
    i++
    while (i < n && isSpace(text.charCodeAt(i))) i++
    let value = ''
    if (text[i] === "'") {
      i++
      let closed = false
      while (i < n) {
        const ch = text[i]!
        if (ch === '\\' && text[i + 1] === "'") {
          value += "'"
          i += 2
          continue
        }
        if (ch === "'") {
          closed = true
          i++
          break
        }
        value += ch
        i++
      }
      if (!closed) throw new SecLangError(`unterminated quote in action ${name}`, file, line)
      while (i < n && text[i] !== ',') {
        if (!isSpace(text.charCodeAt(i)))
          throw new SecLangError(`unexpected text after quoted value of action ${name}`, file, line)
        i++
      }
    } else {
      while (i < n && text[i] !== ',') {
        value += text[i]
        i++
      }
      value = value.trim()
    }
    out.push({ name, value })
  }
  return out
}
