import { compilePcre } from './pcre.js'

/** One value a rule can inspect: a collection member or a scalar variable. */
export interface Entry {
  /** Collection (or scalar variable) name, upper-case: `ARGS`, `REQUEST_HEADERS`, `REQUEST_URI`. */
  readonly collection: string
  /** Member key as received ('' for scalars). */
  readonly key: string
  /** Lower-case key, for case-insensitive selection. */
  readonly lkey: string
  /** The value (a byte string: one char per byte). */
  readonly value: string
  /** Transformation results by transformation-chain id (per transaction). */
  cache?: Map<number, string> | undefined
  /** Known no-match bits of the rule set's result cache for this value (looked up once per transaction). */
  known?: Uint32Array | null | undefined
}

/** Creates an {@link Entry}. */
export function entry(collection: string, key: string, value: string): Entry {
  return { collection, key, lkey: key.toLowerCase(), value, cache: undefined, known: undefined }
}

/** Creates an {@link Entry} whose key is already lower-case. */
export function lowerEntry(collection: string, key: string, value: string): Entry {
  return { collection, key, lkey: key, value, cache: undefined, known: undefined }
}

/** The `MATCHED_VAR_NAME` of an entry: `ARGS:id`, `REQUEST_URI`. */
export function entryName(e: Entry): string {
  return e.key === '' && SCALARS.has(e.collection) ? e.collection : `${e.collection}:${e.key}`
}

/** Variables that hold one value. */
export const SCALARS: ReadonlySet<string> = new Set([
  'ARGS_COMBINED_SIZE',
  'AUTH_TYPE',
  'DURATION',
  'FILES_COMBINED_SIZE',
  'FULL_REQUEST',
  'FULL_REQUEST_LENGTH',
  'HIGHEST_SEVERITY',
  'INBOUND_DATA_ERROR',
  'MATCHED_VAR',
  'MATCHED_VAR_NAME',
  'MULTIPART_BOUNDARY_QUOTED',
  'MULTIPART_BOUNDARY_WHITESPACE',
  'MULTIPART_CRLF_LF_LINES',
  'MULTIPART_DATA_AFTER',
  'MULTIPART_DATA_BEFORE',
  'MULTIPART_FILE_LIMIT_EXCEEDED',
  'MULTIPART_HEADER_FOLDING',
  'MULTIPART_INVALID_HEADER_FOLDING',
  'MULTIPART_INVALID_PART',
  'MULTIPART_INVALID_QUOTING',
  'MULTIPART_LF_LINE',
  'MULTIPART_MISSING_SEMICOLON',
  'MULTIPART_SEMICOLON_MISSING',
  'MULTIPART_STRICT_ERROR',
  'MULTIPART_UNMATCHED_BOUNDARY',
  'OUTBOUND_DATA_ERROR',
  'PATH_INFO',
  'QUERY_STRING',
  'REMOTE_ADDR',
  'REMOTE_HOST',
  'REMOTE_PORT',
  'REMOTE_USER',
  'REQBODY_ERROR',
  'REQBODY_ERROR_MSG',
  'REQBODY_PROCESSOR',
  'REQBODY_PROCESSOR_ERROR',
  'REQBODY_PROCESSOR_ERROR_MSG',
  'REQUEST_BASENAME',
  'REQUEST_BODY',
  'REQUEST_BODY_LENGTH',
  'REQUEST_FILENAME',
  'REQUEST_LINE',
  'REQUEST_METHOD',
  'REQUEST_PROTOCOL',
  'REQUEST_URI',
  'REQUEST_URI_RAW',
  'RESPONSE_BODY',
  'RESPONSE_CONTENT_LENGTH',
  'RESPONSE_CONTENT_TYPE',
  'RESPONSE_PROTOCOL',
  'RESPONSE_STATUS',
  'SERVER_ADDR',
  'SERVER_NAME',
  'SERVER_PORT',
  'STATUS_LINE',
  'TIME',
  'TIME_DAY',
  'TIME_EPOCH',
  'TIME_HOUR',
  'TIME_MIN',
  'TIME_MON',
  'TIME_SEC',
  'TIME_WDAY',
  'TIME_YEAR',
  'UNIQUE_ID',
  'URLENCODED_ERROR',
  'USERID',
  'WEBSERVER_ERROR_LOG',
])

/** Variables that hold several values selectable by key. */
export const COLLECTIONS: ReadonlySet<string> = new Set([
  'ARGS',
  'ARGS_GET',
  'ARGS_POST',
  'ARGS_NAMES',
  'ARGS_GET_NAMES',
  'ARGS_POST_NAMES',
  'ENV',
  'FILES',
  'FILES_NAMES',
  'FILES_SIZES',
  'FILES_TMPNAMES',
  'FILES_TMP_CONTENT',
  'GEO',
  'GLOBAL',
  'IP',
  'MATCHED_VARS',
  'MATCHED_VARS_NAMES',
  'MULTIPART_FILENAME',
  'MULTIPART_NAME',
  'MULTIPART_PART_HEADERS',
  'REQUEST_COOKIES',
  'REQUEST_COOKIES_NAMES',
  'REQUEST_HEADERS',
  'REQUEST_HEADERS_NAMES',
  'RESOURCE',
  'RESPONSE_HEADERS',
  'RESPONSE_HEADERS_NAMES',
  'RULE',
  'SESSION',
  'TX',
  'USER',
  'XML',
])

/** A key selector: an exact (case-insensitive, stored lower-case) key or a regular expression. */
export interface KeySelector {
  readonly exact: string | undefined
  readonly regex: RegExp | undefined
}

/** How a target is resolved, decided at compile time (so evaluation never compares names). */
export const TargetKind = {
  collection: 0,
  variables: 1,
  matchedVars: 2,
  matchedVar: 3,
  matchedVarName: 4,
  xml: 5,
  scalar: 6,
} as const

/** One compiled rule target (`ARGS`, `&TX:foo`, `REQUEST_HEADERS:/^x-/`). */
export interface Target {
  /** A {@link TargetKind} value. */
  readonly kind: number
  readonly collection: string
  readonly selector: KeySelector | undefined
  /** `&VAR`: the number of values instead of the values. */
  readonly count: boolean
  /** The text as written. */
  readonly text: string
}

/** A `!VAR:key` exclusion. */
export interface Exclusion {
  readonly collection: string
  readonly selector: KeySelector | undefined
}

/** A variable list that cannot be compiled. */
export class VariableError extends Error {
  override readonly name = 'VariableError'
}

const XML_PATHS = new Set(['/*', '//@*'])

/** Whether an entry's key matches a selector. */
export function selects(selector: KeySelector, e: Entry): boolean {
  return selector.exact !== undefined ? e.lkey === selector.exact : selector.regex!.test(e.key)
}

function compileSelector(collection: string, raw: string): KeySelector {
  let key = raw
  if (key.length >= 2 && key.startsWith("'") && key.endsWith("'")) key = key.slice(1, -1)
  if (collection === 'XML') {
    if (!XML_PATHS.has(key))
      throw new VariableError(`unsupported XPath expression XML:${key} (supported: /*, //@*)`)
    return { exact: key, regex: undefined }
  }
  if (key.length >= 2 && key.startsWith('/') && key.endsWith('/')) {
    const source = key.slice(1, -1)
    const re = compilePcre(source)
    return {
      exact: undefined,
      regex: new RegExp(re.source, re.flags.includes('i') ? re.flags : `${re.flags}i`),
    }
  }
  return { exact: key.toLowerCase(), regex: undefined }
}

/**
 * Parses a rule's variable list (`ARGS|!ARGS:id|&TX:x|REQUEST_COOKIES:/^a|b$/`) into targets and exclusions.
 *
 * @example
 * ```ts
 * parseVariables('ARGS|!ARGS:q').exclusions[0]?.collection // 'ARGS'
 * ```
 */
export function parseVariables(text: string): { targets: Target[]; exclusions: Exclusion[] } {
  const targets: Target[] = []
  const exclusions: Exclusion[] = []
  for (const part of splitVariables(text)) {
    let s = part.trim()
    if (s === '') continue
    let exclude = false
    let count = false
    if (s.startsWith('!')) {
      exclude = true
      s = s.slice(1)
    }
    if (s.startsWith('&')) {
      count = true
      s = s.slice(1)
    }
    const colon = s.indexOf(':')
    const name = (colon === -1 ? s : s.slice(0, colon)).toUpperCase()
    const key = colon === -1 ? undefined : s.slice(colon + 1)
    if (!SCALARS.has(name) && !COLLECTIONS.has(name)) throw new VariableError(`unsupported variable ${name}`)
    if (key !== undefined && SCALARS.has(name)) throw new VariableError(`variable ${name} takes no key`)
    if (name === 'XML' && key === undefined) throw new VariableError('XML needs an XPath expression')
    const selector = key === undefined || key === '' ? undefined : compileSelector(name, key)
    if (exclude) {
      if (count) throw new VariableError(`cannot exclude a count (${part})`)
      exclusions.push({ collection: name, selector })
    } else targets.push({ kind: targetKind(name), collection: name, selector, count, text: part.trim() })
  }
  return { targets, exclusions }
}

function targetKind(name: string): number {
  switch (name) {
    case 'TX':
    case 'IP':
    case 'GLOBAL':
    case 'SESSION':
    case 'USER':
    case 'RESOURCE':
      return TargetKind.variables
    case 'MATCHED_VARS':
    case 'MATCHED_VARS_NAMES':
      return TargetKind.matchedVars
    case 'MATCHED_VAR':
      return TargetKind.matchedVar
    case 'MATCHED_VAR_NAME':
      return TargetKind.matchedVarName
    case 'XML':
      return TargetKind.xml
    default:
      return SCALARS.has(name) ? TargetKind.scalar : TargetKind.collection
  }
}

/** Splits on `|`, except inside a `/regex/` key. */
function splitVariables(text: string): string[] {
  const out: string[] = []
  let current = ''
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (
      c === ':' &&
      text[i + 1] === '/' &&
      !current
        .replace(/^[!&]+/, '')
        .toUpperCase()
        .startsWith('XML') &&
      !current.includes(':')
    ) {
      current += ':/'
      i += 2
      while (i < text.length) {
        const d = text[i]!
        current += d
        i++
        if (d === '\\' && i < text.length) {
          current += text[i]
          i++
          continue
        }
        if (d === '/') break
      }
      continue
    }
    if (c === '|') {
      out.push(current)
      current = ''
      i++
      continue
    }
    current += c
    i++
  }
  out.push(current)
  return out
}
