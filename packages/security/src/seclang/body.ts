import { parseQuery } from './args.js'

/** What a body processor extracted. */
export interface BodyResult {
  /**
   * Whether `REQUEST_BODY` is populated: for URL-encoded, JSON and unprocessed bodies; for XML and multipart
   * only with `ctl:forceRequestBodyVariable=On` (ModSecurity's behaviour, which CRS's tests expect).
   */
  rawBody: boolean
  /** Parse error (sets `REQBODY_ERROR`). */
  error: string | undefined
  /** Scalar flags such as `MULTIPART_STRICT_ERROR`. */
  flags: Record<string, string>
  args: [string, string][]
  files: { name: string; filename: string; size: number; content: string }[]
  partHeaders: [string, string][]
  partNames: [string, string][]
  partFilenames: [string, string][]
  xml: { texts: string[]; attrs: string[] } | undefined
}

/** The transaction state a body processor reads. */
export interface BodyHost {
  readonly requestBodyProcessor: string | undefined
  readonly forceRequestBodyVariable: boolean
  readonly rules: { readonly argumentSeparator: string }
  macroValue(collection: string, key: string | undefined): string
}

function emptyResult(rawBody = true): BodyResult {
  return {
    rawBody,
    error: undefined,
    flags: {},
    args: [],
    files: [],
    partHeaders: [],
    partNames: [],
    partFilenames: [],
    xml: undefined,
  }
}

/**
 * Runs the request body processor chosen for the transaction (URLENCODED, JSON, MULTIPART, XML) over a byte
 * string body.
 *
 * @example
 * ```ts
 * processRequestBody(host, 'a=1&b=2', false).args // [['a', '1'], ['b', '2']]
 * ```
 */
export function processRequestBody(host: BodyHost, body: string, truncated: boolean): BodyResult {
  const processor = host.requestBodyProcessor
  switch (processor) {
    case 'URLENCODED': {
      const r = emptyResult()
      r.args = parseQuery(body, host.rules.argumentSeparator)
      return r
    }
    case 'JSON': {
      const r = emptyResult()
      if (body.trim() === '') return r
      try {
        r.args = flattenJson(body)
      } catch (error) {
        if (truncated) return r
        r.error = `JSON parsing error: ${(error as Error).message}`
      }
      return r
    }
    case 'XML': {
      const r = emptyResult(host.forceRequestBodyVariable)
      const parsed = parseXml(body)
      if (typeof parsed === 'string') {
        if (!truncated) r.error = `XML parsing error: ${parsed}`
      } else r.xml = parsed
      return r
    }
    case 'MULTIPART':
      return parseMultipart(
        body,
        host.macroValue('REQUEST_HEADERS', 'Content-Type'),
        truncated,
        host.forceRequestBodyVariable,
      )
    default:
      return emptyResult()
  }
}

/** Encodes chars above 0xFF (from JSON `\u` escapes) as UTF-8 bytes, keeping the byte-string form. */
function toBytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8').toString('latin1')
  }
  return s
}

/** Flattens a JSON document to `json.a.b` / `json.list.0` argument pairs (Coraza's and ModSecurity's naming). */
export function flattenJson(body: string): [string, string][] {
  const out: [string, string][] = []
  const root: unknown = JSON.parse(body)
  const walk = (value: unknown, key: string, depth: number): void => {
    if (depth > 1000) throw new Error('nesting too deep')
    if (value === null) out.push([key, ''])
    else if (Array.isArray(value)) {
      if (value.length === 0) out.push([key, ''])
      for (let i = 0; i < value.length; i++) walk(value[i], `${key}.${i}`, depth + 1)
    } else if (typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>)
      if (entries.length === 0) out.push([key, ''])
      for (const [k, v] of entries) walk(v, `${key}.${toBytes(k)}`, depth + 1)
    } else if (typeof value === 'string') out.push([key, toBytes(value)])
    else out.push([key, String(value)])
  }
  walk(root, 'json', 0)
  return out
}

// ---- XML ------------------------------------------------------------------------------------------------

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

function decodeXmlText(s: string): string {
  if (s.indexOf('&') === -1) return s
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (m, ref: string) => {
    if (ref.startsWith('#x'))
      return toBytes(String.fromCodePoint(Number.parseInt(ref.slice(2), 16) % 0x110000))
    if (ref.startsWith('#')) return toBytes(String.fromCodePoint(Number(ref.slice(1)) % 0x110000))
    return XML_ENTITIES[ref] ?? m
  })
}

/**
 * A small non-validating XML reader: text nodes (`XML:/*`) and attribute values (`XML://@*`), or an error
 * message for input that is not well-formed. DTDs are skipped and entities are never resolved (no XXE).
 *
 * @example
 * ```ts
 * parseXml('<a x="1">hi</a>') // { texts: ['hi'], attrs: ['1'] }
 * ```
 */
export function parseXml(body: string): { texts: string[]; attrs: string[] } | string {
  const texts: string[] = []
  const attrs: string[] = []
  const stack: string[] = []
  let i = 0
  const n = body.length
  let sawRoot = false
  while (i < n) {
    const lt = body.indexOf('<', i)
    const textEnd = lt === -1 ? n : lt
    if (textEnd > i) {
      const text = body.slice(i, textEnd)
      if (stack.length === 0) {
        if (text.trim() !== '') return 'text outside the root element'
      } else if (text.trim() !== '') texts.push(decodeXmlText(text))
    }
    if (lt === -1) break
    i = lt
    if (body.startsWith('<!--', i)) {
      const end = body.indexOf('-->', i + 4)
      if (end === -1) return 'unterminated comment'
      i = end + 3
      continue
    }
    if (body.startsWith('<![CDATA[', i)) {
      const end = body.indexOf(']]>', i + 9)
      if (end === -1) return 'unterminated CDATA section'
      if (stack.length === 0) return 'CDATA outside the root element'
      texts.push(body.slice(i + 9, end))
      i = end + 3
      continue
    }
    if (body.startsWith('<?', i)) {
      const end = body.indexOf('?>', i + 2)
      if (end === -1) return 'unterminated processing instruction'
      i = end + 2
      continue
    }
    if (body.startsWith('<!', i)) {
      let depth = 0
      let j = i + 2
      for (; j < n; j++) {
        const c = body[j]
        if (c === '[') depth++
        else if (c === ']') depth--
        else if (c === '>' && depth <= 0) break
      }
      if (j >= n) return 'unterminated declaration'
      i = j + 1
      continue
    }
    const close = body[i + 1] === '/'
    let j = i + (close ? 2 : 1)
    const nameStart = j
    while (j < n && !/[\s/>]/.test(body[j]!)) j++
    const name = body.slice(nameStart, j)
    if (name === '' || !/^[A-Za-z_:\x80-\xff][\w.:\-\x80-\xff]*$/.test(name))
      return `bad element name at ${i}`
    if (close) {
      while (j < n && /\s/.test(body[j]!)) j++
      if (body[j] !== '>') return `bad end tag at ${i}`
      if (stack.pop() !== name) return `mismatched end tag </${name}>`
      i = j + 1
      continue
    }
    if (stack.length === 0 && sawRoot) return 'more than one root element'
    for (;;) {
      while (j < n && /\s/.test(body[j]!)) j++
      if (j >= n) return 'unterminated start tag'
      if (body[j] === '>') {
        stack.push(name)
        sawRoot = true
        j++
        break
      }
      if (body[j] === '/' && body[j + 1] === '>') {
        sawRoot = true
        j += 2
        break
      }
      const attrStart = j
      while (j < n && !/[\s=/>]/.test(body[j]!)) j++
      if (j === attrStart) return `bad attribute at ${j}`
      while (j < n && /\s/.test(body[j]!)) j++
      if (body[j] !== '=') return `attribute without value at ${j}`
      j++
      while (j < n && /\s/.test(body[j]!)) j++
      const q = body[j]
      if (q !== '"' && q !== "'") return `unquoted attribute value at ${j}`
      const end = body.indexOf(q, j + 1)
      if (end === -1) return 'unterminated attribute value'
      attrs.push(decodeXmlText(body.slice(j + 1, end)))
      j = end + 1
    }
    i = j
  }
  if (stack.length > 0) return `unclosed element <${stack[stack.length - 1]}>`
  if (!sawRoot) return 'no root element'
  return { texts, attrs }
}

// ---- multipart ------------------------------------------------------------------------------------------

function boundaryOf(contentType: string, flags: Record<string, string>): string | undefined {
  const m = /;\s*boundary(\s*)=(\s*)("?)([^";]*)("?)/i.exec(contentType)
  if (!m) return undefined
  if (m[1] !== '' || m[2] !== '') flags.MULTIPART_BOUNDARY_WHITESPACE = '1'
  if (m[3] === '"' || m[5] === '"') {
    flags.MULTIPART_BOUNDARY_QUOTED = '1'
    if (m[3] !== m[5]) return undefined
  }
  let b = m[4]!
  if (/\s$/.test(b)) {
    flags.MULTIPART_BOUNDARY_WHITESPACE = '1'
    b = b.trimEnd()
  }
  if (b === '' || b.length > 70) return undefined
  return b
}

interface Disposition {
  name: string | undefined
  filename: string | undefined
  invalidQuoting: boolean
  missingSemicolon: boolean
}

function parseDisposition(value: string): Disposition | undefined {
  const d: Disposition = {
    name: undefined,
    filename: undefined,
    invalidQuoting: false,
    missingSemicolon: false,
  }
  const m = /^\s*form-data\s*(;?)/i.exec(value)
  if (!m) return undefined
  let rest = value.slice(m[0].length)
  if (m[1] === '' && rest.trim() !== '') d.missingSemicolon = true
  while (rest.trim() !== '') {
    const pm = /^\s*([a-zA-Z0-9_*-]+)\s*=\s*/.exec(rest)
    if (!pm) return undefined
    const key = pm[1]!.toLowerCase()
    rest = rest.slice(pm[0].length)
    let v: string
    if (rest.startsWith('"')) {
      let j = 1
      v = ''
      while (j < rest.length && rest[j] !== '"') {
        if (rest[j] === '\\' && (rest[j + 1] === '"' || rest[j + 1] === '\\')) {
          v += rest[j + 1]
          j += 2
          continue
        }
        v += rest[j]
        j++
      }
      if (j >= rest.length) return undefined
      rest = rest.slice(j + 1)
    } else {
      const end = rest.search(/[;\s]/)
      v = end === -1 ? rest : rest.slice(0, end)
      rest = end === -1 ? '' : rest.slice(end)
      if (/['"]/.test(v)) d.invalidQuoting = true
    }
    if (key === 'name') d.name = v
    else if (key === 'filename' || key === 'filename*') d.filename = v
    const sep = /^\s*(;?)\s*/.exec(rest)!
    if (sep[1] === '' && rest.trim() !== '') d.missingSemicolon = true
    rest = rest.slice(sep[0].length)
  }
  return d
}

/**
 * Parses a `multipart/form-data` byte-string body: form fields become arguments, file parts become `FILES`,
 * each part's header lines `MULTIPART_PART_HEADERS`; irregularities set ModSecurity's `MULTIPART_*` flags and
 * `MULTIPART_STRICT_ERROR`.
 *
 * @example
 * ```ts
 * parseMultipart('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n', 'multipart/form-data; boundary=b', false).args
 * // [['a', '1']]
 * ```
 */
export function parseMultipart(
  body: string,
  contentType: string,
  truncated: boolean,
  rawBody = false,
): BodyResult {
  const r = emptyResult(rawBody)
  const flags = r.flags
  const fail = (msg: string): BodyResult => {
    r.error = `Multipart parsing error: ${msg}`
    flags.MULTIPART_STRICT_ERROR = '1'
    return r
  }
  const boundary = boundaryOf(contentType, flags)
  if (boundary === undefined) return fail('invalid boundary in Content-Type')
  const delim = `--${boundary}`
  let pos = body.indexOf(delim)
  if (pos === -1) return truncated ? r : fail('no boundary found')
  if (pos > 0) {
    const before = body.slice(0, pos)
    if (before !== '\r\n' && before !== '\n') flags.MULTIPART_DATA_BEFORE = '1'
  }
  let finished = false
  let lfLines = 0
  let crlfLines = 0
  while (!finished) {
    let after = pos + delim.length
    if (body.startsWith('--', after)) {
      finished = true
      const rest = body.slice(after + 2)
      if (rest.replace(/^\r?\n/, '').trim() !== '') flags.MULTIPART_DATA_AFTER = '1'
      break
    }
    while (body[after] === ' ' || body[after] === '\t') after++
    if (body.startsWith('\r\n', after)) {
      after += 2
      crlfLines++
    } else if (body[after] === '\n') {
      after++
      lfLines++
    } else return truncated ? r : fail('invalid boundary line')
    // headers
    const headers: [string, string][] = []
    let p = after
    for (;;) {
      const nl = body.indexOf('\n', p)
      if (nl === -1) return truncated ? r : fail('part headers not terminated')
      let line = body.slice(p, nl)
      if (line.endsWith('\r')) {
        line = line.slice(0, -1)
        crlfLines++
      } else lfLines++
      p = nl + 1
      if (line === '') break
      if ((line.startsWith(' ') || line.startsWith('\t')) && headers.length > 0) {
        flags.MULTIPART_HEADER_FOLDING = '1'
        const last = headers[headers.length - 1]!
        last[1] += ` ${line.trim()}`
        continue
      }
      const colon = line.indexOf(':')
      if (colon <= 0) {
        flags.MULTIPART_INVALID_PART = '1'
        return fail('invalid part header')
      }
      headers.push([line.slice(0, colon), line.slice(colon + 1).trim()])
    }
    // content up to the next delimiter line
    let next = p
    let contentEnd = -1
    for (;;) {
      const found = body.indexOf(delim, next)
      if (found === -1) break
      if (found >= 2 && body[found - 1] === '\n') {
        contentEnd = body[found - 2] === '\r' ? found - 2 : found - 1
        next = found
        break
      }
      if (found === p) {
        contentEnd = p
        next = found
        break
      }
      next = found + delim.length
    }
    if (contentEnd === -1) {
      if (!truncated) {
        const unmatched = body.slice(p).match(/(?:^|\n)--[^\r\n]*/)
        if (unmatched) flags.MULTIPART_UNMATCHED_BOUNDARY = '1'
        return fail('final boundary missing')
      }
      contentEnd = body.length
      finished = true
    }
    const content = body.slice(p, contentEnd)
    const cd = headers.find(([k]) => k.toLowerCase() === 'content-disposition')
    if (!cd) {
      flags.MULTIPART_INVALID_PART = '1'
      return fail('part without Content-Disposition')
    }
    const disposition = parseDisposition(cd[1])
    if (!disposition) {
      flags.MULTIPART_INVALID_QUOTING = '1'
      return fail('invalid Content-Disposition')
    }
    if (disposition.invalidQuoting) flags.MULTIPART_INVALID_QUOTING = '1'
    if (disposition.missingSemicolon) flags.MULTIPART_MISSING_SEMICOLON = '1'
    const name = disposition.name ?? ''
    if (disposition.name === undefined) flags.MULTIPART_INVALID_PART = '1'
    for (const [k, v] of headers) r.partHeaders.push([name, `${k}: ${v}`])
    r.partNames.push([name, name])
    if (disposition.filename !== undefined) {
      r.partFilenames.push([name, disposition.filename])
      r.files.push({ name, filename: disposition.filename, size: content.length, content })
    } else r.args.push([name, content])
    // MULTIPART_UNMATCHED_BOUNDARY: a line in the content that starts like our boundary but is not it
    if (content.includes(`\n--${boundary.slice(0, Math.max(1, boundary.length - 1))}`)) {
      flags.MULTIPART_UNMATCHED_BOUNDARY = '1'
    }
    pos = next
    if (finished) break
  }
  if (lfLines > 0 && crlfLines > 0) flags.MULTIPART_CRLF_LF_LINES = '1'
  if (lfLines > 0) flags.MULTIPART_LF_LINE = '1'
  const strict = [
    'MULTIPART_BOUNDARY_QUOTED',
    'MULTIPART_BOUNDARY_WHITESPACE',
    'MULTIPART_DATA_BEFORE',
    'MULTIPART_DATA_AFTER',
    'MULTIPART_HEADER_FOLDING',
    'MULTIPART_LF_LINE',
    'MULTIPART_MISSING_SEMICOLON',
    'MULTIPART_INVALID_QUOTING',
    'MULTIPART_INVALID_PART',
    'MULTIPART_INVALID_HEADER_FOLDING',
  ]
  if (strict.some((f) => flags[f] === '1')) flags.MULTIPART_STRICT_ERROR = '1'
  return r
}
