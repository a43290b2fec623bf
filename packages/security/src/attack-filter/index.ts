import { definePolicy, type Exchange } from '@gw/core'
import { securityErrors } from '../errors.js'
import { compileMediaTypes } from '../request-validation/index.js'
import { recordDenial } from '../shared/decide.js'
import { closeIfBodyUnread, readBoundedBody } from '../shared/read-body.js'
import { type AttackEngine, type AttackMatch, createAttackEngine } from './engine.js'
import { attackFilterSchema } from './schema.js'

export {
  type AttackEngine,
  type AttackEngineOptions,
  type AttackMatch,
  createAttackEngine,
  NULL_BYTE_RULE,
} from './engine.js'
export { decodeEntities, normalize, percentDecode } from './normalize.js'
export { ATTACK_RULES, type AttackCategory, type AttackRule, type RuleTarget } from './rules.js'
export { type AttackFilterOptions, attackFilterSchema } from './schema.js'

const SAFE_QUERY = /^[\w\-.,~=&]*$/
const isJson = compileMediaTypes(['application/json', 'application/*+json'])
const isForm = compileMediaTypes(['application/x-www-form-urlencoded'])

/**
 * Scans the path, query, inspected headers and cookies of a request; returns the first match.
 *
 * @example
 * ```ts
 * scanRequest(createAttackEngine({ paranoia: 1 }), ex, ['user-agent'])?.rule.id
 * ```
 */
export function scanRequest(
  engine: AttackEngine,
  ex: Exchange,
  headers: readonly string[],
  inspectPath = true,
  inspectQuery = true,
): AttackMatch | undefined {
  const request = ex.request
  if (inspectPath) {
    const hit = engine.scanArg(request.path, 'path', false)
    if (hit) return hit
  }
  const search = request.search
  if (inspectQuery && search !== '' && !SAFE_QUERY.test(search)) {
    const hit = scanQuery(engine, search, 'query')
    if (hit) return hit
  }
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]!
    const value = request.headers[name]
    if (value === undefined) continue
    if (typeof value === 'string') {
      const hit = scanHeaderValue(engine, name, value)
      if (hit) return hit
      continue
    }
    for (const v of value) {
      const hit = scanHeaderValue(engine, name, v)
      if (hit) return hit
    }
  }
  return undefined
}

function scanHeaderValue(engine: AttackEngine, name: string, value: string): AttackMatch | undefined {
  if (name === 'user-agent') return engine.scanUserAgent(value)
  if (name === 'cookie') return scanCookies(engine, value)
  return engine.scanHeader(value, `header:${name}`)
}

function scanQuery(engine: AttackEngine, search: string, prefix: string): AttackMatch | undefined {
  let start = 0
  while (start <= search.length) {
    let end = search.indexOf('&', start)
    if (end === -1) end = search.length
    if (end > start) {
      const pair = search.slice(start, end)
      const eq = pair.indexOf('=')
      const name = eq === -1 ? pair : pair.slice(0, eq)
      const location = `${prefix}:${name.slice(0, 64)}`
      const hit =
        engine.scanArg(name, location, true) ??
        (eq === -1 ? undefined : engine.scanArg(pair.slice(eq + 1), location, true))
      if (hit) return hit
    }
    start = end + 1
  }
  return undefined
}

function scanCookies(engine: AttackEngine, header: string): AttackMatch | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    const name = (eq === -1 ? part : part.slice(0, eq)).trim()
    const value = eq === -1 ? '' : part.slice(eq + 1).trim()
    const hit = engine.scanHeader(value, `cookie:${name.slice(0, 64)}`)
    if (hit) return hit
  }
  return undefined
}

/**
 * Scans a buffered body: JSON strings (keys and values) one by one, form fields one by one, other text whole.
 *
 * @example
 * ```ts
 * scanBody(engine, Buffer.from('{"q":"<script>"}'), 'application/json')?.location // 'body:/q'
 * ```
 */
export function scanBody(
  engine: AttackEngine,
  body: Buffer,
  contentType: string | undefined,
): AttackMatch | undefined {
  const text = body.toString('utf8')
  if (isForm(contentType)) return scanQuery(engine, text, 'form')
  if (isJson(contentType)) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return engine.scanArg(text, 'body', false)
    }
    return scanJson(engine, parsed, '')
  }
  return engine.scanArg(text, 'body', false)
}

function scanJson(engine: AttackEngine, value: unknown, pointer: string): AttackMatch | undefined {
  if (typeof value === 'string') return engine.scanArg(value, `body:${pointer || '/'}`, false)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = scanJson(engine, value[i], `${pointer}/${i}`)
      if (hit) return hit
    }
    return undefined
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const escaped = key.replaceAll('~', '~0').replaceAll('/', '~1')
      const hit =
        engine.scanArg(key, `body:${pointer}/${escaped}`, false) ??
        scanJson(engine, child, `${pointer}/${escaped}`)
      if (hit) return hit
    }
  }
  return undefined
}

/**
 * Blocks (403) requests carrying SQL injection, XSS, path traversal, command injection, remote file inclusion
 * or protocol attacks in the path, query, inspected headers, cookies and (opt-in, size-capped) body, and
 * requests from known scanners. Values are normalised first (repeated URL decoding, HTML entities, Unicode
 * NFKC, case, SQL comments, whitespace). Rules have ids and paranoia levels; every block (or, in report mode,
 * every would-be block) is logged and recorded with the rule id and the matched location.
 *
 * @example
 * ```ts
 * createGateway({
 *   policies: [attackFilter({ paranoia: 1, body: { enabled: true, maxBytes: '64kb' } }, { mode: 'report' })],
 *   routes: [{ path: '/api/*', upstream: 'api' }],
 * })
 * ```
 */
export const attackFilter = definePolicy({
  name: 'attack-filter',
  stage: 'guard',
  description:
    'Detection of SQLi, XSS, path traversal, command injection, RFI and scanners (paranoia levels, report mode).',
  schema: attackFilterSchema,
  create(options, setup) {
    const engine = createAttackEngine({
      paranoia: options.paranoia,
      disabledRules: options.disabledRules,
      decodeRounds: options.decodeRounds,
    })
    const headers = options.headers
    const { inspectPath, inspectQuery } = options
    const body = options.body
    const inspectable = compileMediaTypes(body.contentTypes)
    const telemetry = setup.telemetry

    const block = (ex: Exchange, hit: AttackMatch): never => {
      recordDenial(setup, ex, 'attack-filter', hit.rule.id, hit.location, hit.rule.category)
      if (telemetry.enabled)
        telemetry.count('gw_security_attack_matches_total', 1, {
          rule: hit.rule.id,
          category: hit.rule.category,
        })
      ex.log.warn(
        {
          policy: 'attack-filter',
          rule: hit.rule.id,
          category: hit.rule.category,
          location: hit.location,
          sample: hit.sample,
        },
        setup.mode === 'report' ? 'attack pattern matched (report mode)' : 'attack pattern blocked',
      )
      throw securityErrors.attackDetected.create('The request was blocked by the gateway security rules')
    }

    const inspectBody = async (ex: Exchange, contentType: string | undefined): Promise<void> => {
      const buffered = await readBoundedBody(ex, body.maxBytes)
      const hit = scanBody(engine, buffered, contentType)
      if (hit) block(ex, hit)
    }

    return {
      onRequest(ex) {
        const hit = scanRequest(engine, ex, headers, inspectPath, inspectQuery)
        if (hit) block(ex, hit)
        if (!body.enabled) return
        const h = ex.request.headers
        const declared = h['content-length']
        const hasBody = h['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0')
        if (!hasBody || !inspectable(h['content-type'])) return
        if (declared !== undefined && Number(declared) > body.maxBytes && body.oversize === 'skip') return
        return inspectBody(ex, h['content-type'])
      },
      onComplete(ex) {
        closeIfBodyUnread(ex)
      },
    }
  },
})
