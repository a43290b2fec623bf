import { parseCookies, parseQuery } from './args.js'
import { type BodyResult, processRequestBody } from './body.js'
import { toInt } from './operators.js'
import type { Action, Ctl, EngineMode, Rule, RuleSet, SetVar } from './ruleset.js'
import {
  type Entry,
  type Exclusion,
  entry,
  entryName,
  lowerEntry,
  SCALARS,
  selects,
  type Target,
  TargetKind,
} from './variables.js'

/** A rule (chain) that matched and logs. */
export interface MatchedRule {
  readonly id: number
  readonly phase: number
  /** `msg` with macros expanded. */
  readonly message: string
  /** `logdata` with macros expanded (truncated to 512 chars). */
  readonly data: string
  /** `MATCHED_VAR_NAME` of the last match, e.g. `ARGS:q`. */
  readonly target: string
  readonly severity: number | undefined
  readonly tags: readonly string[]
  readonly file: string
  readonly line: number
}

/** Why the transaction must be stopped. */
export interface Interruption {
  readonly ruleId: number
  readonly status: number
  readonly action: 'deny' | 'drop' | 'redirect'
}

/** The request as the engine sees it; strings are byte strings (latin1: one char per byte). */
export interface RequestInfo {
  readonly method: string
  /** The request target as received (`/path?query`). */
  readonly uri: string
  /** `HTTP/1.1`. */
  readonly protocol: string
  /** Headers in received order, names as sent. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly remoteAddr: string
  readonly remotePort?: number
  readonly serverPort?: number
  readonly serverName?: string
  readonly uniqueId?: string
}

/** Per-transaction settings from the embedding policy. */
export interface TransactionLimits {
  /** Most bytes of the body inspected. */
  readonly requestBodyLimit: number
}

const EMPTY: readonly Entry[] = []
const ARGS_NAMES_SOURCES: Record<string, string> = {
  ARGS_NAMES: 'ARGS',
  ARGS_GET_NAMES: 'ARGS_GET',
  ARGS_POST_NAMES: 'ARGS_POST',
  REQUEST_HEADERS_NAMES: 'REQUEST_HEADERS',
  REQUEST_COOKIES_NAMES: 'REQUEST_COOKIES',
  RESPONSE_HEADERS_NAMES: 'RESPONSE_HEADERS',
  FILES_NAMES: 'FILES',
}

/**
 * One request (and optionally its response) evaluated against a {@link RuleSet}: call
 * `processRequestHeaders`, then `processRequestBody`, then optionally the response phases and `processLogging`.
 * Each returns the interruption when a disruptive rule fired in `On` mode.
 *
 * @example
 * ```ts
 * const tx = new Transaction(ruleSet)
 * tx.processRequestHeaders({ method: 'GET', uri: '/?q=1', protocol: 'HTTP/1.1', headers: [], remoteAddr: '127.0.0.1' })
 * tx.processRequestBody(undefined)
 * tx.matched.map((m) => m.id)
 * ```
 */
export class Transaction {
  readonly matched: MatchedRule[] = []
  interruption: Interruption | undefined = undefined
  mode: EngineMode
  /** Capture scratch space for operators. */
  readonly captures: string[] = []
  readonly tx = new Map<string, string>()
  readonly scalars = new Map<string, string>()
  readonly collections = new Map<string, Entry[]>()
  requestBodyAccess: boolean
  responseBodyAccess: boolean
  forceRequestBodyVariable = false
  requestBodyProcessor: string | undefined = undefined
  requestBodyLimit: number
  xmlTexts: Entry[] | undefined = undefined
  xmlAttrs: Entry[] | undefined = undefined
  matchedVar = ''
  matchedVarName = ''
  readonly matchedVars: Entry[] = []
  #scalarEntries = new Map<string, Entry>()
  #removed: Uint8Array | undefined = undefined
  #removedTargets: Map<number, Exclusion[]> | undefined = undefined
  #persistent: Map<string, Map<string, string>> | undefined = undefined
  #currentRule: Rule | undefined = undefined
  #allowed = false
  #highestSeverity = 255

  constructor(
    readonly rules: RuleSet,
    limits?: Partial<TransactionLimits>,
  ) {
    this.mode = rules.engine
    this.requestBodyAccess = rules.requestBodyAccess
    this.responseBodyAccess = rules.responseBodyAccess
    this.requestBodyLimit = limits?.requestBodyLimit ?? rules.requestBodyLimit
  }

  // ---- data -------------------------------------------------------------------------------------------

  setScalar(name: string, value: string): void {
    this.scalars.set(name, value)
    this.#scalarEntries.delete(name)
  }

  setCollection(name: string, entries: Entry[]): void {
    this.collections.set(name, entries)
    const names = Object.keys(ARGS_NAMES_SOURCES).find((k) => ARGS_NAMES_SOURCES[k] === name)
    if (names !== undefined) this.collections.delete(names)
  }

  #collection(name: string): readonly Entry[] {
    const existing = this.collections.get(name)
    if (existing !== undefined) return existing
    const source = ARGS_NAMES_SOURCES[name]
    if (source !== undefined) {
      const list = this.collections.get(source) ?? EMPTY
      const names = list.map((e) => entry(name, e.key, e.key))
      this.collections.set(name, names)
      return names
    }
    return EMPTY
  }

  #scalarEntry(name: string): Entry | undefined {
    let e = this.#scalarEntries.get(name)
    if (e !== undefined) return e
    const value = this.scalars.get(name)
    if (value === undefined) return undefined
    e = entry(name, '', value)
    this.#scalarEntries.set(name, e)
    return e
  }

  /** Macro lookups (`%{TX.x}`, `%{MATCHED_VAR}`, `%{REQUEST_HEADERS.host}`). */
  macroValue(collection: string, key: string | undefined): string {
    switch (collection) {
      case 'TX':
        return key === undefined ? '' : (this.tx.get(key.toLowerCase()) ?? '')
      case 'MATCHED_VAR':
        return this.matchedVar
      case 'MATCHED_VAR_NAME':
        return this.matchedVarName
      case 'RULE': {
        const r = this.#currentRule
        if (!r || key === undefined) return ''
        const k = key.toLowerCase()
        if (k === 'id') return String(r.id)
        if (k === 'phase') return String(r.phase)
        if (k === 'msg') return r.msg?.text ?? ''
        if (k === 'severity') return r.severity === undefined ? '' : String(r.severity)
        return ''
      }
      case 'IP':
      case 'GLOBAL':
      case 'SESSION':
      case 'USER':
      case 'RESOURCE':
        return key === undefined ? '' : (this.#persistent?.get(collection)?.get(key.toLowerCase()) ?? '')
      case 'HIGHEST_SEVERITY':
        return String(this.#highestSeverity)
      default: {
        if (SCALARS.has(collection)) return this.scalars.get(collection) ?? ''
        if (key === undefined) return ''
        const k = key.toLowerCase()
        for (const e of this.#collection(collection)) if (e.lkey === k) return e.value
        return ''
      }
    }
  }

  // ---- phases -----------------------------------------------------------------------------------------

  /** Populates the request line and headers and runs phase 1. */
  processRequestHeaders(req: RequestInfo): Interruption | undefined {
    populateRequest(this, req)
    return this.runPhase(1)
  }

  /**
   * Processes the body (when body access is on and a body was given) with the processor chosen by
   * Content-Type or `ctl:requestBodyProcessor`, then runs phase 2.
   */
  processRequestBody(body: string | undefined, truncated = false): Interruption | undefined {
    if (this.interruption) return this.interruption
    if (body !== undefined && this.requestBodyAccess && this.mode !== 'Off') {
      const result: BodyResult = processRequestBody(this, body, truncated)
      applyBodyResult(this, result, body)
    }
    return this.runPhase(2)
  }

  /** Sets the response status and headers and runs phase 3. */
  processResponseHeaders(
    status: number,
    protocol: string,
    headers: ReadonlyArray<readonly [string, string]>,
  ): Interruption | undefined {
    if (this.interruption) return this.interruption
    this.setScalar('RESPONSE_STATUS', String(status))
    this.setScalar('RESPONSE_PROTOCOL', protocol)
    this.setScalar('STATUS_LINE', `${protocol} ${status}`)
    const list: Entry[] = []
    for (const [name, value] of headers) {
      list.push(entry('RESPONSE_HEADERS', name, value))
      const lower = name.toLowerCase()
      if (lower === 'content-type') this.setScalar('RESPONSE_CONTENT_TYPE', value)
      if (lower === 'content-length') this.setScalar('RESPONSE_CONTENT_LENGTH', value)
    }
    this.setCollection('RESPONSE_HEADERS', list)
    return this.runPhase(3)
  }

  /** Sets `RESPONSE_BODY` (when response body access is on) and runs phase 4. */
  processResponseBody(body: string | undefined): Interruption | undefined {
    if (this.interruption) return this.interruption
    if (body !== undefined && this.responseBodyAccess) this.setScalar('RESPONSE_BODY', body)
    return this.runPhase(4)
  }

  /** Runs phase 5 (logging rules). */
  processLogging(): void {
    const saved = this.interruption
    this.interruption = undefined
    this.#allowed = false
    this.runPhase(5)
    this.interruption = saved
  }

  runPhase(phase: number): Interruption | undefined {
    if (this.interruption) return this.interruption
    if (this.mode === 'Off' || this.#allowed) return undefined
    const list = this.rules.phases[phase]!
    let i = 0
    const n = list.length
    while (i < n) {
      const rule = list[i]!
      if (this.#removed !== undefined && this.#removed[rule.index] === 1) {
        i++
        continue
      }
      if (this.matchedVars.length > 0) this.matchedVars.length = 0
      this.#currentRule = rule
      if (!this.#evaluate(rule)) {
        i++
        continue
      }
      if (rule.log) this.#log(rule)
      const d = rule.disruptive
      if (this.mode === 'On' && (d === 'deny' || d === 'drop' || d === 'redirect')) {
        this.interruption = { ruleId: rule.id, status: rule.status ?? 403, action: d }
        return this.interruption
      }
      if (d === 'allow' && this.mode === 'On') {
        this.#allowed = true
        return undefined
      }
      if (rule.skipAfter !== undefined) i = rule.skipTo
      else i += 1 + rule.skip
    }
    return undefined
  }

  #log(rule: Rule): void {
    let data = rule.logdata?.expand(this) ?? ''
    if (data.length > 512) data = data.slice(0, 512)
    if (rule.severity !== undefined && rule.severity < this.#highestSeverity)
      this.#highestSeverity = rule.severity
    this.matched.push({
      id: rule.id,
      phase: rule.phase,
      message: rule.msg?.expand(this) ?? '',
      data,
      target: this.matchedVarName,
      severity: rule.severity,
      tags: rule.tags,
      file: rule.file,
      line: rule.line,
    })
  }

  /** Evaluates one rule and, when it matches, its chain; runs the non-disruptive actions of each match. */
  #evaluate(rule: Rule): boolean {
    let matched = false
    if (rule.isAction) {
      this.#runActions(rule)
      matched = true
    } else {
      const targets = rule.targets
      for (let t = 0; t < targets.length; t++) {
        if (this.#evaluateTarget(rule, targets[t]!)) matched = true
      }
    }
    if (!matched) return false
    if (rule.chain === undefined) return true
    return this.#evaluate(rule.chain)
  }

  #evaluateTarget(rule: Rule, target: Target): boolean {
    const name = target.collection
    if (target.count) {
      const n = this.#count(target)
      return this.#check(rule, lowerEntry(`&${name}`, '', String(n)), true)
    }
    let matched = false
    switch (target.kind) {
      case TargetKind.variables: {
        const map = name === 'TX' ? this.tx : this.#persistent?.get(name)
        if (!map) return false
        const sel = target.selector
        if (sel?.exact !== undefined) {
          const v = map.get(sel.exact)
          if (v === undefined) return false
          return this.#check(rule, lowerEntry(name, sel.exact, v), false)
        }
        const list: Entry[] = []
        for (const [k, v] of map) {
          const e = lowerEntry(name, k, v)
          if (sel === undefined || selects(sel, e)) list.push(e)
        }
        for (const e of list) if (this.#check(rule, e, false)) matched = true
        return matched
      }
      case TargetKind.matchedVars: {
        const snapshot = this.matchedVars.slice()
        for (const m of snapshot) {
          const e = name === 'MATCHED_VARS' ? entry(name, m.key, m.value) : entry(name, m.key, m.key)
          if (target.selector !== undefined && !selects(target.selector, e)) continue
          if (this.#check(rule, e, false)) matched = true
        }
        return matched
      }
      case TargetKind.matchedVar:
        if (this.matchedVarName === '') return false
        return this.#check(rule, entry('MATCHED_VAR', '', this.matchedVar), false)
      case TargetKind.matchedVarName:
        if (this.matchedVarName === '') return false
        return this.#check(rule, entry('MATCHED_VAR_NAME', '', this.matchedVarName), false)
      case TargetKind.xml: {
        const list = target.selector?.exact === '/*' ? this.xmlTexts : this.xmlAttrs
        if (!list) return false
        for (const e of list) if (this.#check(rule, e, false)) matched = true
        return matched
      }
      case TargetKind.scalar: {
        const e = this.#scalarEntry(name)
        return e !== undefined && this.#check(rule, e, false)
      }
      default:
        break
    }
    const list = this.#collection(name)
    const sel = target.selector
    const cacheable = rule.cacheable
    const word = rule.slot >>> 5
    const bit = 1 << (rule.slot & 31)
    const results = this.rules.results
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!
      if (sel !== undefined && !selects(sel, e)) continue
      if (cacheable) {
        let known = e.known
        if (known === undefined) {
          known = results.bits(e.value) ?? null
          e.known = known
        }
        if (known !== null && (known[word]! & bit) !== 0) continue
      }
      if (this.#check(rule, e, false)) matched = true
    }
    return matched
  }

  #count(target: Target): number {
    const name = target.collection
    const sel = target.selector
    if (name === 'TX' || this.#persistent?.has(name)) {
      const map = name === 'TX' ? this.tx : this.#persistent!.get(name)!
      if (sel === undefined) return map.size
      if (sel.exact !== undefined) return map.has(sel.exact) ? 1 : 0
      let n = 0
      for (const k of map.keys()) if (sel.regex!.test(k)) n++
      return n
    }
    if (name === 'MATCHED_VARS') return this.matchedVars.length
    if (name === 'XML') {
      const list = sel?.exact === '/*' ? this.xmlTexts : this.xmlAttrs
      return list?.length ?? 0
    }
    if (SCALARS.has(name)) return this.scalars.has(name) ? 1 : 0
    const list = this.#collection(name)
    if (sel === undefined) return list.length
    let n = 0
    for (const e of list) if (selects(sel, e)) n++
    return n
  }

  #excluded(rule: Rule, e: Entry): boolean {
    if (rule.exclusions.length === 0 && this.#removedTargets === undefined) return false
    const ex = rule.exclusions
    for (let i = 0; i < ex.length; i++) {
      const x = ex[i]!
      if (x.collection === e.collection && (x.selector === undefined || selects(x.selector, e))) return true
    }
    const runtime = this.#removedTargets?.get(rule.index)
    if (runtime !== undefined) {
      for (const x of runtime)
        if (x.collection === e.collection && (x.selector === undefined || selects(x.selector, e))) return true
    }
    return false
  }

  /** Transforms one value, runs the operator, and on a match records it and runs the rule's actions. */
  #check(rule: Rule, e: Entry, isCount: boolean): boolean {
    if (!isCount && this.#excluded(rule, e)) return false
    let known: Uint32Array | null | undefined
    const slot = rule.slot
    if (rule.cacheable) {
      known = e.known
      if (known === undefined) {
        known = this.rules.results.bits(e.value) ?? null
        e.known = known
      }
      if (known !== null && (known[slot >>> 5]! & (1 << (slot & 31))) !== 0) return false
    }
    const op = rule.operator
    const negated = op.negated
    const capture = rule.capture && !negated
    let value: string
    let hit: boolean
    if (rule.multiMatch && rule.transforms.length > 0) {
      value = e.value
      hit = op.test(this, value, capture) !== negated
      if (!hit) {
        for (const fn of rule.transforms) {
          const next = fn(value)
          if (next === value) continue
          value = next
          if (op.test(this, value, capture) !== negated) {
            hit = true
            break
          }
        }
      }
    } else {
      value = this.#transform(rule, e)
      hit = op.test(this, value, capture) !== negated
    }
    if (!hit) {
      if (known) known[slot >>> 5]! |= 1 << (slot & 31)
      return false
    }
    if (capture) {
      const caps = this.captures
      for (let i = 0; i < 10; i++) {
        if (i < caps.length) this.tx.set(String(i), caps[i]!)
        else this.tx.delete(String(i))
      }
    }
    this.matchedVar = value
    this.matchedVarName = entryName(e)
    this.matchedVars.push(entry('MATCHED_VARS', this.matchedVarName, value))
    this.#runActions(rule)
    return true
  }

  #transform(rule: Rule, e: Entry): string {
    const fns = rule.transforms
    if (fns.length === 0) return e.value
    const cached = e.cache?.get(rule.transformKey)
    if (cached !== undefined) return cached
    let v = e.value
    for (let i = 0; i < fns.length; i++) v = fns[i]!(v)
    e.cache ??= new Map()
    e.cache.set(rule.transformKey, v)
    return v
  }

  #runActions(rule: Rule): void {
    const actions = rule.actions
    for (let i = 0; i < actions.length; i++) this.#runAction(actions[i]!)
  }

  #runAction(a: Action): void {
    if (a.kind === 'setvar') this.#setvar(a.setvar)
    else if (a.kind === 'ctl') this.#ctl(a.ctl)
    else {
      this.#persistent ??= new Map()
      if (!this.#persistent.has(a.collection)) this.#persistent.set(a.collection, new Map())
    }
  }

  #setvar(sv: SetVar): void {
    let map: Map<string, string> | undefined
    if (sv.collection === 'TX') map = this.tx
    else {
      this.#persistent ??= new Map()
      map = this.#persistent.get(sv.collection)
      if (!map) {
        map = new Map()
        this.#persistent.set(sv.collection, map)
      }
    }
    const name = sv.name.constant ? sv.lowerName : sv.name.expand(this).toLowerCase()
    switch (sv.op) {
      case 'delete':
        map.delete(name)
        return
      case 'set':
        map.set(name, sv.value.constant ? sv.value.text : sv.value.expand(this))
        return
      case 'add':
        map.set(name, String(toInt(map.get(name) ?? '0') + toInt(sv.value.expand(this))))
        return
      case 'sub':
        map.set(name, String(toInt(map.get(name) ?? '0') - toInt(sv.value.expand(this))))
        return
    }
  }

  #ctl(c: Ctl): void {
    switch (c.kind) {
      case 'removeRules': {
        this.#removed ??= new Uint8Array(this.rules.rules.length)
        for (const i of c.indices) this.#removed[i] = 1
        return
      }
      case 'removeTarget': {
        this.#removedTargets ??= new Map()
        for (const i of c.indices) {
          const list = this.#removedTargets.get(i)
          if (list) list.push(c.exclusion)
          else this.#removedTargets.set(i, [c.exclusion])
        }
        return
      }
      case 'ruleEngine':
        this.mode = c.mode
        return
      case 'requestBodyProcessor':
        this.requestBodyProcessor = c.processor
        this.setScalar('REQBODY_PROCESSOR', c.processor)
        return
      case 'requestBodyAccess':
        this.requestBodyAccess = c.on
        return
      case 'forceRequestBodyVariable':
        this.forceRequestBodyVariable = c.on
        return
      case 'responseBodyAccess':
        this.responseBodyAccess = c.on
        return
      case 'requestBodyLimit':
        this.requestBodyLimit = c.limit
        return
      case 'none':
        return
    }
  }

  /** Removes rules by index for this transaction (used by per-route exclusions). */
  removeRules(indices: readonly number[]): void {
    this.#ctl({ kind: 'removeRules', indices })
  }

  /** Removes a target from rules for this transaction (used by per-route exclusions). */
  removeTarget(indices: readonly number[], exclusion: Exclusion): void {
    this.#ctl({ kind: 'removeTarget', indices, exclusion })
  }
}

function populateRequest(tx: Transaction, req: RequestInfo): void {
  const uri = req.uri
  const q = uri.indexOf('?')
  let path = q === -1 ? uri : uri.slice(0, q)
  const query = q === -1 ? '' : uri.slice(q + 1)
  const schemeEnd = path.indexOf('://')
  if (schemeEnd !== -1 && !path.startsWith('/')) {
    const slash = path.indexOf('/', schemeEnd + 3)
    path = slash === -1 ? '/' : path.slice(slash)
  }
  tx.setScalar('REQUEST_METHOD', req.method)
  tx.setScalar('REQUEST_PROTOCOL', req.protocol)
  tx.setScalar('REQUEST_URI_RAW', uri)
  tx.setScalar(
    'REQUEST_URI',
    schemeEnd !== -1 && !uri.startsWith('/') ? path + (q === -1 ? '' : uri.slice(q)) : uri,
  )
  tx.setScalar('REQUEST_LINE', `${req.method} ${uri} ${req.protocol}`)
  tx.setScalar('REQUEST_FILENAME', path)
  const slash = path.lastIndexOf('/')
  tx.setScalar('REQUEST_BASENAME', slash === -1 ? path : path.slice(slash + 1))
  tx.setScalar('QUERY_STRING', query)
  tx.setScalar('REMOTE_ADDR', req.remoteAddr)
  tx.setScalar('REMOTE_HOST', req.remoteAddr)
  if (req.remotePort !== undefined) tx.setScalar('REMOTE_PORT', String(req.remotePort))
  if (req.serverPort !== undefined) tx.setScalar('SERVER_PORT', String(req.serverPort))
  tx.setScalar('UNIQUE_ID', req.uniqueId ?? '')
  tx.setScalar('REQBODY_ERROR', '0')
  tx.setScalar('REQBODY_PROCESSOR_ERROR', '0')
  tx.setScalar('MULTIPART_STRICT_ERROR', '0')
  tx.setScalar('MULTIPART_UNMATCHED_BOUNDARY', '0')
  tx.setScalar('INBOUND_DATA_ERROR', '0')
  const now = new Date()
  tx.setScalar('TIME_EPOCH', String(Math.floor(now.getTime() / 1000)))
  const get: Entry[] = []
  let size = 0
  for (const [k, v] of parseQuery(query, tx.rules.argumentSeparator)) {
    get.push(entry('ARGS_GET', k, v))
    size += k.length + v.length
  }
  tx.setCollection('ARGS_GET', get)
  tx.setCollection(
    'ARGS',
    get.map((e) => entry('ARGS', e.key, e.value)),
  )
  tx.setScalar('ARGS_COMBINED_SIZE', String(size))
  const headers: Entry[] = []
  const cookies: Entry[] = []
  let contentType: string | undefined
  let host: string | undefined
  for (const [name, value] of req.headers) {
    headers.push(entry('REQUEST_HEADERS', name, value))
    const lower = name.toLowerCase()
    if (lower === 'cookie')
      for (const [k, v] of parseCookies(value)) cookies.push(entry('REQUEST_COOKIES', k, v))
    else if (lower === 'content-type' && contentType === undefined) contentType = value
    else if (lower === 'host' && host === undefined) host = value
  }
  tx.setCollection('REQUEST_HEADERS', headers)
  tx.setCollection('REQUEST_COOKIES', cookies)
  tx.setScalar('SERVER_NAME', req.serverName ?? (host ?? '').replace(/:\d+$/, ''))
  if (contentType !== undefined) {
    const ct = contentType.toLowerCase()
    if (ct.startsWith('application/x-www-form-urlencoded')) tx.requestBodyProcessor = 'URLENCODED'
    else if (ct.startsWith('multipart/form-data')) tx.requestBodyProcessor = 'MULTIPART'
  }
  if (tx.requestBodyProcessor !== undefined) tx.setScalar('REQBODY_PROCESSOR', tx.requestBodyProcessor)
}

function applyBodyResult(tx: Transaction, r: BodyResult, body: string): void {
  tx.setScalar('REQUEST_BODY_LENGTH', String(body.length))
  if (r.rawBody) tx.setScalar('REQUEST_BODY', body)
  if (r.error !== undefined) {
    tx.setScalar('REQBODY_ERROR', '1')
    tx.setScalar('REQBODY_PROCESSOR_ERROR', '1')
    tx.setScalar('REQBODY_ERROR_MSG', r.error)
    tx.setScalar('REQBODY_PROCESSOR_ERROR_MSG', r.error)
  }
  for (const [k, v] of Object.entries(r.flags)) tx.setScalar(k, v)
  if (r.args.length > 0) {
    const post: Entry[] = []
    const args = (tx.collections.get('ARGS') ?? []).slice()
    let size = toInt(tx.scalars.get('ARGS_COMBINED_SIZE') ?? '0')
    for (const [k, v] of r.args) {
      post.push(entry('ARGS_POST', k, v))
      args.push(entry('ARGS', k, v))
      size += k.length + v.length
    }
    tx.setCollection('ARGS_POST', post)
    tx.setCollection('ARGS', args)
    tx.setScalar('ARGS_COMBINED_SIZE', String(size))
  }
  if (r.files.length > 0) {
    tx.setCollection(
      'FILES',
      r.files.map((f) => entry('FILES', f.name, f.filename)),
    )
    tx.setCollection(
      'FILES_SIZES',
      r.files.map((f) => entry('FILES_SIZES', f.name, String(f.size))),
    )
    tx.setCollection(
      'FILES_TMP_CONTENT',
      r.files.map((f) => entry('FILES_TMP_CONTENT', f.name, f.content)),
    )
    tx.setScalar('FILES_COMBINED_SIZE', String(r.files.reduce((a, f) => a + f.size, 0)))
  }
  if (r.partHeaders.length > 0)
    tx.setCollection(
      'MULTIPART_PART_HEADERS',
      r.partHeaders.map(([k, v]) => entry('MULTIPART_PART_HEADERS', k, v)),
    )
  if (r.partNames.length > 0) {
    tx.setCollection(
      'MULTIPART_NAME',
      r.partNames.map(([k, v]) => entry('MULTIPART_NAME', k, v)),
    )
  }
  if (r.partFilenames.length > 0) {
    tx.setCollection(
      'MULTIPART_FILENAME',
      r.partFilenames.map(([k, v]) => entry('MULTIPART_FILENAME', k, v)),
    )
  }
  if (r.xml) {
    tx.xmlTexts = r.xml.texts.map((t) => entry('XML', '/*', t))
    tx.xmlAttrs = r.xml.attrs.map((t) => entry('XML', '//@*', t))
  }
}
