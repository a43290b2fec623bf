// Shared by the libinjection tests only (not exported from the package): fixture loading, the output format
// of libinjection's C test driver, and the bridge to the reference C library (scripts/libinjection/).
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Html5Tokenizer } from './html5.js'
import { lookupWord, SqliState, type SqliToken } from './sqli.js'
import { isXss, isXssInContext, ON_EVENTS } from './xss.js'

const here = dirname(fileURLToPath(import.meta.url))
export const TESTDATA = join(here, 'testdata')
const DRIVER_SOURCE = join(here, '../../scripts/libinjection/reference-driver.c')

export interface Vector {
  name: string
  title: string
  input: string
  expected: string
}

/** libinjection's tests/test-*.txt cases (byte strings). */
export function loadVectors(): Vector[] {
  return JSON.parse(readFileSync(join(TESTDATA, 'vectors.json'), 'utf8')) as Vector[]
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return 256
}

/** URL decoding as libinjection's sample reader does it ('+' is a space, a bad escape stays '%'). */
export function urlDecodeBytes(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; ) {
    const c = s[i]!
    if (c === '+') {
      out += ' '
      i++
    } else if (c === '%' && i + 2 < s.length) {
      const d = (hexValue(s.charCodeAt(i + 1)) << 4) | hexValue(s.charCodeAt(i + 2))
      if (d < 256) {
        out += String.fromCharCode(d)
        i += 3
      } else {
        out += '%'
        i++
      }
    } else {
      out += c
      i++
    }
  }
  return out
}

export interface CorpusLine {
  file: string
  line: number
  input: string
}

/** The sample inputs of libinjection's data/ directory that are committed (URL-decoded byte strings). */
export function loadCorpus(dir = join(TESTDATA, 'corpus')): CorpusLine[] {
  const lines: CorpusLine[] = []
  for (const file of readdirSync(dir).sort()) {
    const text = readFileSync(join(dir, file), 'latin1')
    text.split('\n').forEach((raw, i) => {
      const trimmed = raw.replace(/[ \n\t\r]+$/, '')
      if (trimmed.length === 0 || trimmed.startsWith('#')) return
      lines.push({ file, line: i + 1, input: urlDecodeBytes(trimmed) })
    })
  }
  return lines
}

/** A token as the C test driver prints it (print_token in testdriver.c). */
export function printToken(t: SqliToken): string {
  const val = t.cString()
  const str = (open: number, close: number) =>
    (open ? String.fromCharCode(open) : '') + val + (close ? String.fromCharCode(close) : '')
  let out = `${String.fromCharCode(t.type)} `
  if (t.type === 0x73) out += str(t.strOpen, t.strClose)
  else if (t.type === 0x76)
    out += '@'.repeat(t.count >= 2 ? 2 : t.count >= 1 ? 1 : 0) + str(t.strOpen, t.strClose)
  else out += val
  return out
}

/** A token in the reference driver's format. */
function driverToken(t: SqliToken): string {
  let hex = ''
  const val = t.cString()
  for (let i = 0; i < val.length; i++) hex += val.charCodeAt(i).toString(16).padStart(2, '0')
  return `${t.type},${t.strOpen},${t.strClose},${t.count},${t.pos},${t.len},${hex} `
}

export type Op = 'S' | 'P' | 'T' | 'F' | 'X' | 'H' | 'W'

export interface Probe {
  op: Op
  arg: number
  input: string
}

const state = new SqliState()
const h5 = new Html5Tokenizer()

/** This implementation's answer to a probe, in the reference driver's output format. */
export function localAnswer({ op, arg, input }: Probe, onRule = ON_EVENTS): string {
  switch (op) {
    case 'S': {
      state.init(input, 0)
      const sqli = state.isSqli()
      return `${sqli ? 1 : 0} ${sqli ? state.fingerprint : ''}`
    }
    case 'P': {
      state.init(input, 0)
      state.fingerprintWith(arg)
      const fp = state.fingerprint
      const check = state.checkFingerprint() ? 1 : 0
      let out = `${fp} ${check} `
      for (let i = 0; i < fp.length; i++) out += driverToken(state.tokens[i]!)
      return out
    }
    case 'T':
    case 'F': {
      state.init(input, arg)
      let out = ''
      if (op === 'T') {
        while (state.tokenize()) out += driverToken(state.current)
      } else {
        const n = state.fold()
        for (let i = 0; i < n; i++) out += driverToken(state.tokens[i]!)
      }
      return `${out}| ${state.statsTokens} ${state.statsCommentDdx} ${state.statsCommentHash}`
    }
    case 'X': {
      let out = `${isXss(input, onRule) ? 1 : 0} `
      for (let ctx = 0; ctx < 5; ctx++) out += isXssInContext(input, ctx, onRule) ? '1' : '0'
      return out
    }
    case 'H': {
      h5.init(input, arg)
      let out = ''
      while (h5.next()) out += `${h5.tokenType}:${h5.tokenStart}:${h5.tokenLen} `
      return out
    }
    case 'W':
      return String(lookupWord(input))
  }
}

const LIB_CANDIDATES = [
  process.env.LIBINJECTION_REFERENCE_LIB,
  '/usr/lib/x86_64-linux-gnu/libmodsecurity.so.3',
  '/usr/lib/aarch64-linux-gnu/libmodsecurity.so.3',
  '/usr/lib/libmodsecurity.so.3',
]

/** Path of Debian's libmodsecurity.so.3 (ModSecurity 3.0.9, which exports libinjection), if installed. */
export function installedModsecurity(): string | undefined {
  return LIB_CANDIDATES.find((p): p is string => p !== undefined && p !== '' && existsSync(p))
}

const CACHE = join(tmpdir(), 'gw-libinjection-reference')

/**
 * The current libinjection C sources (ModSecurity 3.0.14's, unpacked by scripts/libinjection/fetch-reference.sh,
 * or $LIBINJECTION_SRC) compiled into a shared library, if the sources are on this machine.
 */
export function compiledCurrentLibinjection(): string | undefined {
  const cacheRoot = join(
    process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/root', '.cache'),
    'gw-libinjection',
  )
  const candidates = [process.env.LIBINJECTION_SRC]
  const trixie = join(process.env.LIBINJECTION_REF_DIR ?? cacheRoot, 'trixie')
  if (existsSync(trixie)) {
    for (const d of readdirSync(trixie))
      if (d.startsWith('modsecurity-')) candidates.push(join(trixie, d, 'others/libinjection'))
  }
  const src = candidates.find(
    (d): d is string => d !== undefined && existsSync(join(d ?? '', 'src/libinjection_xss.c')),
  )
  if (!src) return undefined
  const files = ['libinjection_sqli.c', 'libinjection_html5.c', 'libinjection_xss.c'].map((f) =>
    join(src, 'src', f),
  )
  const hash = createHash('sha256')
  for (const f of files) hash.update(readFileSync(f))
  mkdirSync(CACHE, { recursive: true })
  const lib = join(CACHE, `libinjection-${hash.digest('hex').slice(0, 12)}.so`)
  if (!existsSync(lib)) {
    execFileSync('cc', ['-O2', '-shared', '-fPIC', '-DLIBINJECTION_VERSION="current"', '-o', lib, ...files], {
      stdio: 'pipe',
    })
  }
  return lib
}

let driverPath: string | undefined

function buildDriver(): string {
  if (driverPath) return driverPath
  const source = readFileSync(DRIVER_SOURCE)
  mkdirSync(CACHE, { recursive: true })
  const bin = join(CACHE, `driver-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`)
  if (!existsSync(bin)) execFileSync('cc', ['-O2', '-o', bin, DRIVER_SOURCE, '-ldl'], { stdio: 'pipe' })
  driverPath = bin
  return bin
}

/** Runs probes through the reference C library; one output line per probe. */
export function referenceAnswers(lib: string, probes: readonly Probe[]): string[] {
  const chunks: Buffer[] = []
  for (const p of probes) {
    const body = Buffer.from(p.input, 'latin1')
    const head = Buffer.alloc(6)
    head[0] = p.op.charCodeAt(0)
    head[1] = p.arg
    head.writeUInt32LE(body.length, 2)
    chunks.push(head, body)
  }
  const res = spawnSync(buildDriver(), [lib], { input: Buffer.concat(chunks), maxBuffer: 1 << 30 })
  if (res.status !== 0) throw new Error(`reference driver failed (${res.status}): ${res.stderr.toString()}`)
  const lines = res.stdout.toString('latin1').split('\n')
  lines.pop()
  if (lines.length !== probes.length)
    throw new Error(`reference driver answered ${lines.length}/${probes.length}`)
  return lines
}

/** A deterministic pseudo-random generator (mulberry32), so fuzz runs are reproducible from their seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
