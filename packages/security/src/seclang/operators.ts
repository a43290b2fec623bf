import { isIPv4, isIPv6 } from 'node:net'
import { compileMacro, type Macro, type MacroHost } from './macro.js'
import { compilePcre, PcreError } from './pcre.js'
import { PhraseMatcher } from './phrase-matcher.js'

/** The `@detectSQLi` / `@detectXSS` implementations the engine calls (libinjection's interface). */
export interface InjectionDetectors {
  detectSqli(input: string): { sqli: boolean; fingerprint: string }
  detectXss(input: string): boolean
}

/** What an operator needs from the transaction. */
export interface OperatorHost extends MacroHost {
  /** Capture groups of the last match (`TX.0`-`TX.9`); written only when the rule has `capture`. */
  readonly captures: string[]
}

/** A compiled operator. `test` returns whether the operator matched (before negation). */
export interface Operator {
  readonly name: string
  readonly negated: boolean
  /** The argument as written (for logs). */
  readonly param: string
  /** True when the result depends on the transaction (macros in the argument), not only on the input. */
  readonly dynamic: boolean
  /** Whether `test` fills `host.captures` when capture is on. */
  test(host: OperatorHost, input: string, capture: boolean): boolean
}

/** Compile-time context: where `@pmFromFile` finds data files, and the injection detectors. */
export interface OperatorCompileContext {
  readFile(name: string): string
  detectors: InjectionDetectors | undefined
}

/** An operator that cannot be compiled (unknown name, bad argument). */
export class OperatorError extends Error {
  override readonly name = 'OperatorError'
}

/** Integer conversion like C's `atoi`: leading whitespace, sign and digits; anything else is 0. */
export function toInt(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s)
  if (!m) return 0
  const n = Number.parseInt(m[1]!, 10)
  return Number.isFinite(n) ? n : 0
}

type Factory = (
  param: string,
  ctx: OperatorCompileContext,
) => Omit<Operator, 'name' | 'negated' | 'param' | 'dynamic'>

const NUMERIC: Record<string, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ge: (a, b) => a >= b,
  gt: (a, b) => a > b,
  le: (a, b) => a <= b,
  lt: (a, b) => a < b,
}

function numeric(cmp: (a: number, b: number) => boolean): Factory {
  return (param) => {
    const macro = compileMacro(param)
    if (macro.constant) {
      const b = toInt(param)
      return { test: (_h, input) => cmp(toInt(input), b) }
    }
    return { test: (h, input) => cmp(toInt(input), toInt(macro.expand(h))) }
  }
}

function stringOp(fn: (input: string, param: string) => boolean): Factory {
  return (param) => {
    const macro: Macro = compileMacro(param)
    if (macro.constant) return { test: (_h, input) => fn(input, param) }
    return { test: (h, input) => fn(input, macro.expand(h)) }
  }
}

function setCaptures(host: OperatorHost, groups: ArrayLike<string | undefined>): void {
  const captures = host.captures
  captures.length = 0
  const n = Math.min(groups.length, 10)
  for (let i = 0; i < n; i++) captures.push(groups[i] ?? '')
}

function phraseOp(matcher: PhraseMatcher): Omit<Operator, 'name' | 'negated' | 'param' | 'dynamic'> {
  return {
    test(host, input, capture) {
      const hit = matcher.find(input)
      if (hit === undefined) return false
      if (capture) setCaptures(host, [hit])
      return true
    },
  }
}

/** Splits a `@pm` argument: space-separated phrases, where `"quoted phrases"` may hold spaces. */
export function splitPhrases(param: string): string[] {
  const out: string[] = []
  const re = /"([^"]*)"|(\S+)/g
  for (const m of param.matchAll(re)) out.push(m[1] ?? m[2]!)
  return out
}

/** Phrases of a `@pmFromFile` data file: one a line, `#` comments and blank lines ignored. */
export function dataFilePhrases(text: string): string[] {
  const out: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim()
    if (line === '' || line.startsWith('#')) continue
    out.push(line)
  }
  return out
}

function parseByteRanges(param: string): Uint8Array {
  const allowed = new Uint8Array(256)
  for (const part of param.split(/[,\s]+/)) {
    if (part === '') continue
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) throw new OperatorError(`bad byte range "${part}"`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (lo > 255 || hi > 255 || lo > hi) throw new OperatorError(`bad byte range "${part}"`)
    for (let b = lo; b <= hi; b++) allowed[b] = 1
  }
  return allowed
}

/** True when `input` (bytes) is not valid UTF-8 (overlong forms, surrogates and values above U+10FFFF included). */
export function invalidUtf8(input: string): boolean {
  const n = input.length
  let i = 0
  while (i < n) {
    const c = input.charCodeAt(i)
    if (c < 0x80) {
      i++
      continue
    }
    let len: number
    let min: number
    let cp: number
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2
      min = 0x80
      cp = c & 0x1f
    } else if ((c & 0xf0) === 0xe0) {
      len = 3
      min = 0x800
      cp = c & 0x0f
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4
      min = 0x10000
      cp = c & 0x07
    } else return true
    if (i + len > n) return true
    for (let k = 1; k < len; k++) {
      const cc = input.charCodeAt(i + k)
      if ((cc & 0xc0) !== 0x80) return true
      cp = (cp << 6) | (cc & 0x3f)
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return true
    i += len
  }
  return false
}

/** True when `input` has a `%` not followed by two hex digits. */
export function invalidUrlEncoding(input: string): boolean {
  let i = input.indexOf('%')
  while (i !== -1) {
    if (i + 2 >= input.length) return true
    if (!/^[0-9a-fA-F]{2}$/.test(input.slice(i + 1, i + 3))) return true
    i = input.indexOf('%', i + 3)
  }
  return false
}

/** Parses an IPv4 or IPv6 address to 16 bytes (IPv4 as IPv4-mapped IPv6), or undefined. */
export function ipBytes(address: string): Uint8Array | undefined {
  if (isIPv4(address)) {
    const out = new Uint8Array(16)
    out[10] = 0xff
    out[11] = 0xff
    const parts = address.split('.')
    for (let i = 0; i < 4; i++) out[12 + i] = Number(parts[i])
    return out
  }
  if (!isIPv6(address)) return undefined
  let text = address
  const zone = text.indexOf('%')
  if (zone !== -1) text = text.slice(0, zone)
  let tail: number[] = []
  const lastColon = text.lastIndexOf(':')
  if (text.includes('.')) {
    const v4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number)
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!]
    text = `${text.slice(0, lastColon + 1)}0:0`
  }
  const [head, rest] = text.split('::') as [string, string | undefined]
  const a = head === '' ? [] : head.split(':')
  const b = rest === undefined || rest === '' ? [] : rest.split(':')
  const groups = [...a, ...new Array(8 - a.length - b.length).fill('0'), ...b].map((g) =>
    Number.parseInt(g, 16),
  )
  if (tail.length > 0) {
    groups[6] = tail[0]!
    groups[7] = tail[1]!
  }
  const out = new Uint8Array(16)
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8
    out[2 * i + 1] = groups[i]! & 0xff
  }
  return out
}

interface Cidr {
  bytes: Uint8Array
  bits: number
}

function ipList(param: string): Cidr[] {
  const list: Cidr[] = []
  for (const raw of param.split(/[,\s]+/)) {
    if (raw === '') continue
    const [addr, bits] = raw.split('/') as [string, string | undefined]
    const bytes = ipBytes(addr)
    if (!bytes) throw new OperatorError(`bad address "${raw}"`)
    const max = isIPv4(addr) ? 32 : 128
    const n = bits === undefined ? max : Number(bits)
    if (!Number.isInteger(n) || n < 0 || n > max) throw new OperatorError(`bad prefix length in "${raw}"`)
    list.push({ bytes, bits: max === 32 ? n + 96 : n })
  }
  return list
}

function inCidr(ip: Uint8Array, c: Cidr): boolean {
  let bits = c.bits
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if ((ip[i]! & mask) !== (c.bytes[i]! & mask)) return false
  }
  return true
}

const FACTORIES: Record<string, Factory> = {
  rx(param) {
    let re: RegExp
    try {
      re = compilePcre(param)
    } catch (error) {
      if (error instanceof PcreError) throw new OperatorError(`@rx: ${error.message}`)
      throw error
    }
    return {
      test(host, input, capture) {
        if (!capture) return re.test(input)
        const m = re.exec(input)
        if (m === null) return false
        setCaptures(host, m)
        return true
      },
    }
  },
  pm(param) {
    const phrases = splitPhrases(param)
    if (phrases.length === 0) throw new OperatorError('@pm needs at least one phrase')
    return phraseOp(new PhraseMatcher(phrases))
  },
  pmfromfile(param, ctx) {
    const phrases: string[] = []
    for (const name of param.split(/\s+/))
      if (name !== '') phrases.push(...dataFilePhrases(ctx.readFile(name)))
    return phraseOp(new PhraseMatcher(phrases))
  },
  streq: stringOp((input, param) => input === param),
  beginswith: stringOp((input, param) => input.startsWith(param)),
  endswith: stringOp((input, param) => input.endsWith(param)),
  contains: stringOp((input, param) => input.includes(param)),
  within: stringOp((input, param) => input !== '' && param.includes(input)),
  containsword: stringOp((input, param) =>
    new RegExp(`(?:^|\\W)${param.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\W|$)`).test(input),
  ),
  eq: numeric(NUMERIC.eq!),
  ge: numeric(NUMERIC.ge!),
  gt: numeric(NUMERIC.gt!),
  le: numeric(NUMERIC.le!),
  lt: numeric(NUMERIC.lt!),
  unconditionalmatch: () => ({ test: () => true }),
  nomatch: () => ({ test: () => false }),
  validatebyterange(param) {
    const allowed = parseByteRanges(param)
    return {
      test(_h, input) {
        for (let i = 0; i < input.length; i++) {
          const c = input.charCodeAt(i)
          if (c > 255 || allowed[c] === 0) return true
        }
        return false
      },
    }
  },
  validateutf8encoding: () => ({ test: (_h, input) => invalidUtf8(input) }),
  validateurlencoding: () => ({ test: (_h, input) => invalidUrlEncoding(input) }),
  ipmatch(param) {
    const list = ipList(param)
    return {
      test(_h, input) {
        const ip = ipBytes(input)
        return ip !== undefined && list.some((c) => inCidr(ip, c))
      },
    }
  },
  detectsqli(_param, ctx) {
    const detectors = ctx.detectors
    if (!detectors) throw new OperatorError('@detectSQLi needs the libinjection detectors')
    return {
      test(host, input, capture) {
        const result = detectors.detectSqli(input)
        if (!result.sqli) return false
        if (capture) setCaptures(host, [result.fingerprint])
        return true
      },
    }
  },
  detectxss(_param, ctx) {
    const detectors = ctx.detectors
    if (!detectors) throw new OperatorError('@detectXSS needs the libinjection detectors')
    return { test: (_h, input) => detectors.detectXss(input) }
  },
}

/**
 * Compiles an operator expression as written in a rule (`@rx ^a`, `!@pm x y`, or a bare regex meaning `@rx`).
 *
 * @example
 * ```ts
 * const op = compileOperator('@eq 0', { readFile: () => '', detectors: undefined })
 * op.test({ captures: [], macroValue: () => '' }, '0', false) // true
 * ```
 */
export function compileOperator(expr: string, ctx: OperatorCompileContext): Operator {
  let text = expr
  let negated = false
  if (text.startsWith('!')) {
    negated = true
    text = text.slice(1)
  }
  let name = 'rx'
  let param = text
  if (text.startsWith('@')) {
    const space = text.search(/\s/)
    name = (space === -1 ? text.slice(1) : text.slice(1, space)).toLowerCase()
    param = space === -1 ? '' : text.slice(space + 1).trim()
  }
  const factory = FACTORIES[name]
  if (!factory) throw new OperatorError(`unsupported operator @${name}`)
  const compiled = factory(param, ctx)
  const dynamic = name !== 'rx' && name !== 'pm' && name !== 'pmfromfile' && param.includes('%{')
  return { name, negated, param, dynamic, test: compiled.test }
}

/** Names of the supported operators (lower case). */
export const SUPPORTED_OPERATORS: readonly string[] = Object.keys(FACTORIES)
