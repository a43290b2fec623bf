import { Readable } from 'node:stream'
import { coreErrors, createStateKey, definePolicy, type Exchange, type GwResponse, readBody } from '@gw/core'
import { securityErrors } from '../errors.js'
import {
  type Exclusion,
  type Interruption,
  type MatchedRule,
  parseVariables,
  type RuleSet,
  Transaction,
} from '../seclang/index.js'
import { bundledCrsDir, loadRuleSet } from './crs.js'
import { recordAttackDecision, toRuleMatches } from './decision.js'
import { readPrefix } from './read-prefix.js'
import { requestInfo } from './request.js'
import { type AttackFilterOptions, attackFilterSchema } from './schema.js'

export { BASE_CONF } from './base-conf.js'
export { bundledCrsDir, loadRuleSet, type RuleFiles, ruleSources } from './crs.js'
export { type RuleMatch, toRuleMatches } from './decision.js'
export { readPrefix } from './read-prefix.js'
export { requestInfo } from './request.js'
export { type AttackFilterOptions, attackFilterSchema, exclusionSchema } from './schema.js'

/** Exclusions resolved against a rule set: rule indices to skip and targets to drop. */
export interface CompiledExclusions {
  readonly removed: readonly number[]
  readonly targets: readonly { indices: readonly number[]; exclusion: Exclusion }[]
}

/**
 * Resolves `exclusions` options to rule indices once, at start-up. An id, range or tag that matches no rule,
 * or a target that is not a valid variable, is a configuration error.
 *
 * @example
 * ```ts
 * compileExclusions(rules, [{ ids: [942100], target: 'ARGS:password' }]).targets.length // 1
 * ```
 */
export function compileExclusions(
  rules: RuleSet,
  exclusions: AttackFilterOptions['exclusions'],
): CompiledExclusions {
  const removed: number[] = []
  const targets: { indices: number[]; exclusion: Exclusion }[] = []
  for (const e of exclusions) {
    const indices: number[] = []
    for (const ref of e.ids ?? []) {
      const [lo, hi] = String(ref).split('-').map(Number) as [number, number | undefined]
      const before = indices.length
      rules.rules.forEach((r, i) => {
        if (r.id >= lo && r.id <= (hi ?? lo)) indices.push(i)
      })
      if (indices.length === before) throw new Error(`attack-filter exclusion: no rule has id ${ref}`)
    }
    for (const tag of e.tags ?? []) {
      const lower = tag.toLowerCase()
      const before = indices.length
      rules.rules.forEach((r, i) => {
        if (r.tags.some((t) => t.toLowerCase() === lower)) indices.push(i)
      })
      if (indices.length === before) throw new Error(`attack-filter exclusion: no rule has tag ${tag}`)
    }
    if (e.target === undefined) {
      removed.push(...indices)
      continue
    }
    const { targets: parsed, exclusions: negated } = parseVariables(e.target)
    if (parsed.length !== 1 || negated.length !== 0 || parsed[0]!.count)
      throw new Error(`attack-filter exclusion: target "${e.target}" must be one variable like ARGS:password`)
    targets.push({ indices, exclusion: { collection: parsed[0]!.collection, selector: parsed[0]!.selector } })
  }
  return { removed, targets }
}

/** The CRS settings an entry passes as `tx.` variables before phase 1 (CRS only defaults unset ones). */
export function seedVariables(options: AttackFilterOptions): [string, string][] {
  const vars: [string, string][] = [
    ['blocking_paranoia_level', String(options.paranoia)],
    ['detection_paranoia_level', String(options.detectionParanoia ?? options.paranoia)],
    ['inbound_anomaly_score_threshold', String(options.inboundThreshold)],
    ['outbound_anomaly_score_threshold', String(options.outboundThreshold)],
    ['early_blocking', options.earlyBlocking ? '1' : '0'],
  ]
  for (const [k, v] of Object.entries(options.variables)) vars.push([k.toLowerCase(), String(v)])
  return vars
}

const transactionKey = createStateKey<Transaction>('security.attack-filter.transaction')

/**
 * The rules an `attack-filter` matched for this request (and, with `response.enabled`, its response), for
 * access logs and later policies: `ex.get(attackMatchesKey)`. The list grows as later phases run.
 *
 * @example
 * ```ts
 * onComplete(ex) {
 *   const ids = ex.get(attackMatchesKey)?.map((m) => m.id) // [920350, 932160, 949110]
 * }
 * ```
 */
export const attackMatchesKey = createStateKey<readonly MatchedRule[]>('security.attack-filter.matches')

/**
 * Runs the OWASP Core Rule Set (CRS v4, bundled and unmodified) in-process with a SecLang engine written in
 * TypeScript: anomaly scoring with the CRS thresholds, paranoia levels 1-4, request bodies (URL-encoded, JSON,
 * multipart, XML and others) inspected by default, optional response inspection. A request whose anomaly
 * score reaches the threshold is refused with 403 problem+json (`GW_ERR_ATTACK_DETECTED`); the decision log
 * gets the matched rule ids, messages and matched data. Tune false positives per route with `exclusions`.
 *
 * @example
 * ```ts
 * createGateway({
 *   upstreams: { api: { url: 'http://127.0.0.1:3000' } },
 *   policies: [attackFilter({ paranoia: 1 }, { mode: 'report' })],
 *   routes: [
 *     { path: '/api/*', upstream: 'api' },
 *     { path: '/cms/*', upstream: 'api', policies: [attackFilter({ exclusions: [{ ids: [941100], target: 'ARGS:html' }] })] },
 *   ],
 * })
 * ```
 */
export const attackFilter = definePolicy({
  name: 'attack-filter',
  stage: 'guard',
  description:
    'OWASP Core Rule Set v4 (SQLi, XSS, RCE, LFI/RFI, PHP/Java injection, protocol attacks, scanners) with anomaly scoring, paranoia levels and report mode.',
  schema: attackFilterSchema,
  create(options, setup) {
    const started = performance.now()
    let rules: RuleSet
    let exclusions: CompiledExclusions
    try {
      rules = loadRuleSet({
        rules: options.rules,
        before: options.directives.before,
        after: options.directives.after,
      })
      exclusions = compileExclusions(rules, options.exclusions)
    } catch (error) {
      throw coreErrors.config.create((error as Error).message, { cause: error })
    }
    setup.log.debug(
      { rules: rules.rules.length, ms: Math.round(performance.now() - started) },
      'attack-filter rule set ready',
    )
    const seed = seedVariables(options)
    const body = options.body
    const response = options.response
    const removed = exclusions.removed
    const removedTargets = exclusions.targets

    const deny = (ex: Exchange, tx: Transaction, it: Interruption): never => {
      const matches = toRuleMatches(tx.matched)
      const blocking = tx.matched.find((m) => m.id === it.ruleId)
      let attack: MatchedRule | undefined
      for (const m of tx.matched) {
        if (m.id >= 949000 || m.id === it.ruleId || m.target === '') continue
        if (attack === undefined || (m.severity ?? 9) < (attack.severity ?? 9)) attack = m
      }
      recordAttackDecision(
        setup,
        ex,
        String(it.ruleId),
        attack?.target ?? blocking?.target,
        blocking?.message || `rule ${it.ruleId}`,
        matches,
      )
      if (it.status === 400)
        throw securityErrors.unparsableBody.create('The request body could not be parsed')
      throw securityErrors.attackDetected.create('The request was blocked by the gateway security rules')
    }

    const newTransaction = (ex: Exchange): Transaction => {
      const tx = new Transaction(rules, { requestBodyLimit: body.limit })
      for (let i = 0; i < seed.length; i++) tx.tx.set(seed[i]![0], seed[i]![1])
      if (removed.length > 0) tx.removeRules(removed)
      for (let i = 0; i < removedTargets.length; i++)
        tx.removeTarget(removedTargets[i]!.indices, removedTargets[i]!.exclusion)
      tx.responseBodyAccess = response.enabled
      if (response.enabled) ex.set(transactionKey, tx)
      ex.set(attackMatchesKey, tx.matched)
      return tx
    }

    const finishRequest = (ex: Exchange, tx: Transaction): void => {
      const it = tx.interruption
      if (it) deny(ex, tx, it)
      if (tx.matched.length > 0)
        ex.log.debug(
          { policy: 'attack-filter', matches: toRuleMatches(tx.matched) },
          'attack-filter rules matched',
        )
    }

    const inspectBody = async (ex: Exchange, tx: Transaction): Promise<void> => {
      let bytes: Buffer
      let truncated = false
      if (body.overLimit === 'reject') bytes = await readBody(ex, { limit: body.limit })
      else ({ body: bytes, truncated } = await readPrefix(ex, body.limit))
      tx.processRequestBody(bytes.toString('latin1'), truncated)
      finishRequest(ex, tx)
    }

    const inspectResponse = async (ex: Exchange, tx: Transaction, res: GwResponse): Promise<void> => {
      const { text, body: replaced } = await bufferResponse(res.body, response.limit)
      res.body = replaced
      const it = tx.processResponseBody(text)
      if (it) denyResponse(ex, tx, it)
    }

    const denyResponse = (ex: Exchange, tx: Transaction, it: Interruption): void => {
      const matches = toRuleMatches(tx.matched.filter((m) => m.phase >= 3))
      recordAttackDecision(
        setup,
        ex,
        String(it.ruleId),
        undefined,
        'outbound anomaly score exceeded',
        matches,
      )
      if (setup.mode === 'report') return
      throw securityErrors.responseBlocked.create('The response was blocked by the gateway security rules')
    }

    return {
      onRequest(ex) {
        const tx = newTransaction(ex)
        const it = tx.processRequestHeaders(requestInfo(ex))
        if (it) deny(ex, tx, it)
        const h = ex.request.headers
        const declared = h['content-length']
        const hasBody = h['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0')
        if (!hasBody || !body.enabled || !tx.requestBodyAccess || tx.mode === 'Off') {
          tx.processRequestBody(undefined)
          finishRequest(ex, tx)
          return
        }
        return inspectBody(ex, tx)
      },
      onResponse: response.enabled
        ? (ex, res) => {
            const tx = ex.get(transactionKey)
            if (!tx || tx.interruption) return
            const headers: [string, string][] = []
            for (const [k, v] of Object.entries(res.headers)) {
              if (Array.isArray(v)) for (const item of v) headers.push([k, item])
              else headers.push([k, String(v)])
            }
            const it = tx.processResponseHeaders(res.status, 'HTTP/1.1', headers)
            if (it) return denyResponse(ex, tx, it)
            const type = String(res.headers['content-type'] ?? '')
              .split(';')[0]!
              .trim()
              .toLowerCase()
            if (!tx.responseBodyAccess || res.body === null || !response.mimeTypes.includes(type)) {
              const end = tx.processResponseBody(undefined)
              if (end) denyResponse(ex, tx, end)
              return
            }
            return inspectResponse(ex, tx, res)
          }
        : undefined,
      onComplete: response.enabled
        ? (ex) => {
            const tx = ex.get(transactionKey)
            if (tx) tx.processLogging()
          }
        : undefined,
    }
  },
})

/**
 * Reads a response body up to `limit` bytes for inspection; returns the inspected text and a body to send on
 * (the same bytes, or the prefix followed by the rest of the stream when it was longer).
 */
async function bufferResponse(
  body: GwResponse['body'],
  limit: number,
): Promise<{ text: string; body: GwResponse['body'] }> {
  if (body === null) return { text: '', body }
  if (typeof body === 'string') return { text: Buffer.from(body).subarray(0, limit).toString('latin1'), body }
  if (body instanceof Uint8Array)
    return {
      text: Buffer.from(body.buffer, body.byteOffset, Math.min(limit, body.length)).toString('latin1'),
      body,
    }
  const stream = body
  const chunks: Buffer[] = []
  let size = 0
  const iterator = stream[Symbol.asyncIterator]()
  let done = false
  while (size <= limit) {
    const next = await iterator.next()
    if (next.done) {
      done = true
      break
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array)
    chunks.push(chunk)
    size += chunk.length
  }
  const all = Buffer.concat(chunks, size)
  if (done) return { text: all.toString('latin1'), body: all }
  const rest = Readable.from(
    (async function* () {
      yield all
      for (;;) {
        const next = await iterator.next()
        if (next.done) return
        yield next.value as Buffer
      }
    })(),
  )
  return { text: all.subarray(0, limit).toString('latin1'), body: rest }
}

export { bundledCrsDir as crsDirectory }
