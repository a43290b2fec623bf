import { enableLinearRegexFallback } from './linear.js'
import { compileMacro, type Macro } from './macro.js'
import { compileOperator, type InjectionDetectors, type Operator, OperatorError } from './operators.js'
import { type Directive, parseActionList, parseDirectives, type RawAction, SecLangError } from './parser.js'
import { PcreError } from './pcre.js'
import { TRANSFORMATIONS, type Transformation } from './transformations.js'
import { type Exclusion, parseVariables, type Target, VariableError } from './variables.js'

/** `SecRuleEngine` / `ctl:ruleEngine` values. */
export type EngineMode = 'On' | 'Off' | 'DetectionOnly'

/** A disruptive action. `block` is resolved to the phase default at compile time. */
export type Disruptive = 'pass' | 'deny' | 'drop' | 'allow' | 'redirect'

/** A compiled `setvar`. */
export interface SetVar {
  readonly collection: string
  readonly name: Macro
  /** The name in lower case when it has no macro. */
  readonly lowerName: string
  readonly op: 'set' | 'add' | 'sub' | 'delete'
  readonly value: Macro
}

/** A compiled `ctl`. */
export type Ctl =
  | { readonly kind: 'removeRules'; readonly indices: readonly number[] }
  | { readonly kind: 'removeTarget'; readonly indices: readonly number[]; readonly exclusion: Exclusion }
  | { readonly kind: 'ruleEngine'; readonly mode: EngineMode }
  | { readonly kind: 'requestBodyProcessor'; readonly processor: string }
  | { readonly kind: 'requestBodyAccess'; readonly on: boolean }
  | { readonly kind: 'forceRequestBodyVariable'; readonly on: boolean }
  | { readonly kind: 'responseBodyAccess'; readonly on: boolean }
  | { readonly kind: 'requestBodyLimit'; readonly limit: number }
  | { readonly kind: 'none' }

/** A non-disruptive action run on each match. */
export type Action =
  | { readonly kind: 'setvar'; readonly setvar: SetVar }
  | { readonly kind: 'ctl'; readonly ctl: Ctl; readonly pending: PendingCtl | undefined }
  | { readonly kind: 'initcol'; readonly collection: string; readonly key: Macro }

/** A ctl whose rule references are resolved after every rule is known. */
export interface PendingCtl {
  readonly option: string
  readonly value: string
  readonly file: string
  readonly line: number
}

/** One compiled rule (or one link of a chain). */
export interface Rule {
  /** Position in {@link RuleSet.rules} (chain links have the index of their starter). */
  index: number
  readonly id: number
  readonly phase: number
  readonly file: string
  readonly line: number
  targets: Target[]
  exclusions: Exclusion[]
  readonly operator: Operator
  readonly transforms: readonly Transformation[]
  /** Identifies the transformation list, for per-transaction caching. */
  readonly transformKey: number
  readonly multiMatch: boolean
  readonly capture: boolean
  readonly actions: readonly Action[]
  readonly disruptive: Disruptive | undefined
  readonly status: number | undefined
  readonly log: boolean
  readonly msg: Macro | undefined
  readonly logdata: Macro | undefined
  readonly tags: readonly string[]
  readonly severity: number | undefined
  readonly skip: number
  skipAfter: string | undefined
  /** Index in the phase list to continue from after `skipAfter` (resolved at the end of compilation). */
  skipTo: number
  chain: Rule | undefined
  /** True for a rule without operator (SecAction). */
  readonly isAction: boolean
  /** Position of this rule (or chain link) in the result cache's bit sets. */
  slot: number
  /** Whether a no-match on a value may be remembered (the outcome depends only on the value). */
  cacheable: boolean
}

/**
 * Remembers, per inspected value, which rules are known not to match it, so values that repeat across requests
 * (user agents, Accept headers, common arguments) are not evaluated again. Only no-match outcomes of rules
 * whose result depends on the value alone (no macro in the operator argument) are kept; bounded in entries and
 * value length, oldest first out.
 */
export class ResultCache {
  readonly #map = new Map<string, Uint32Array>()
  readonly #words: number

  constructor(
    slots: number,
    readonly maxEntries = 4096,
    readonly maxValueLength = 1024,
  ) {
    this.#words = Math.ceil(slots / 32)
  }

  /** The bit set of a value (created empty on first sight), or undefined for values too long to keep. */
  bits(value: string): Uint32Array | undefined {
    if (value.length > this.maxValueLength || this.maxEntries === 0) return undefined
    let bits = this.#map.get(value)
    if (bits !== undefined) return bits
    if (this.#map.size >= this.maxEntries) this.#map.delete(this.#map.keys().next().value as string)
    bits = new Uint32Array(this.#words)
    this.#map.set(value, bits)
    return bits
  }

  get size(): number {
    return this.#map.size
  }

  clear(): void {
    this.#map.clear()
  }
}

/** The compiled rule set: rules per phase, engine settings. Built once; shared by every transaction. */
export interface RuleSet {
  /** Every top-level rule in definition order. */
  readonly rules: readonly Rule[]
  /** Top-level rules per phase (index 1-5), in order. */
  readonly phases: readonly (readonly Rule[])[]
  readonly engine: EngineMode
  readonly requestBodyAccess: boolean
  readonly requestBodyLimit: number
  readonly requestBodyNoFilesLimit: number
  readonly requestBodyLimitAction: 'Reject' | 'ProcessPartial'
  readonly responseBodyAccess: boolean
  readonly responseBodyLimit: number
  readonly responseBodyLimitAction: 'Reject' | 'ProcessPartial'
  readonly responseBodyMimeTypes: readonly string[]
  readonly argumentSeparator: string
  readonly componentSignatures: readonly string[]
  /** Rules by id (top-level). */
  readonly byId: ReadonlyMap<number, Rule>
  /** Known no-match outcomes per value, shared by every transaction of this rule set. */
  readonly results: ResultCache
}

/** A rule file (or inline text) to compile. */
export interface RuleSource {
  /** Name used in errors and to resolve relative data files. */
  readonly name: string
  readonly text: string
}

/** Options of {@link compileRuleSet}. */
export interface CompileOptions {
  /** Reads a file named by `@pmFromFile` or `Include`, relative to the file that names it. */
  readFile(name: string, from: string): string
  /** Lists files for `Include` with a glob (optional). */
  glob?(pattern: string, from: string): string[]
  /** Implementations of `@detectSQLi` / `@detectXSS`. */
  detectors?: InjectionDetectors
}

interface PhaseDefaults {
  disruptive: Disruptive
  status: number | undefined
  log: boolean
  transforms: { fns: Transformation[]; names: string[] }
}

const PHASE_NAMES: Record<string, number> = { request: 2, response: 4, logging: 5 }
const SEVERITIES: Record<string, number> = {
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
}

/** Directives accepted without effect in gw (logging and storage settings of ModSecurity itself). */
const NO_EFFECT_DIRECTIVES = new Set([
  'secauditengine',
  'secauditlog',
  'secauditlog2',
  'secauditlogparts',
  'secauditlogrelevantstatus',
  'secauditlogstoragedir',
  'secauditlogtype',
  'secauditlogformat',
  'secauditlogdirmode',
  'secauditlogfilemode',
  'secdebuglog',
  'secdebugloglevel',
  'sectmpdir',
  'secdatadir',
  'secuploaddir',
  'secuploadkeepfiles',
  'secuploadfilemode',
  'secrequestbodyinmemorylimit',
  'secpcrematchlimit',
  'secpcrematchlimitrecursion',
  'seccollectiontimeout',
  'secstatusengine',
  'sectmpsaveuploadedfiles',
  'secunicodemapfile',
  'secunicodecodepage',
])

const NO_EFFECT_ACTIONS = new Set([
  'auditlog',
  'noauditlog',
  'sanitisearg',
  'sanitisematched',
  'sanitisematchedbytes',
  'sanitiserequestheader',
  'sanitiseresponseheader',
  'ver',
  'rev',
  'maturity',
  'accuracy',
  'xmlns',
])

const NO_EFFECT_CTLS = new Set([
  'auditengine',
  'auditlogparts',
  'debugloglevel',
  'hashengine',
  'hashenforcement',
])

/**
 * Compiles SecLang sources (in order) into a {@link RuleSet}. Every regular expression, phrase list, macro and
 * `ctl` rule reference is prepared here; an unsupported directive, variable, operator, transformation or
 * action throws a {@link SecLangError} naming the file and line.
 *
 * @example
 * ```ts
 * const rules = compileRuleSet([{ name: 'x.conf', text: 'SecRule ARGS "@rx <script" "id:1,phase:2,deny"' }], {
 *   readFile: () => { throw new Error('no files') },
 * })
 * rules.phases[2]?.length // 1
 * ```
 */
export function compileRuleSet(sources: readonly RuleSource[], options: CompileOptions): RuleSet {
  enableLinearRegexFallback()
  const c = new Compiler(options)
  for (const source of sources) c.addSource(source)
  return c.finish()
}

class Compiler {
  readonly rules: Rule[] = []
  readonly ids = new Set<number>()
  readonly markers: { name: string; position: number }[] = []
  readonly defaults = new Map<number, PhaseDefaults>()
  readonly transformKeys = new Map<string, number>()
  readonly pendingCtls: { action: { ctl: Ctl }; pending: PendingCtl }[] = []
  readonly signatures: string[] = []
  engine: EngineMode = 'On'
  requestBodyAccess = false
  requestBodyLimit = 13_107_200
  requestBodyNoFilesLimit = 131_072
  requestBodyLimitAction: 'Reject' | 'ProcessPartial' = 'Reject'
  responseBodyAccess = false
  responseBodyLimit = 524_288
  responseBodyLimitAction: 'Reject' | 'ProcessPartial' = 'ProcessPartial'
  responseBodyMimeTypes: string[] = ['text/plain', 'text/html']
  argumentSeparator = '&'
  chainParent: Rule | undefined = undefined
  chainTail: Rule | undefined = undefined
  lastChainDirective: Directive | undefined = undefined

  constructor(readonly options: CompileOptions) {}

  addSource(source: RuleSource): void {
    let directives: Directive[]
    directives = parseDirectives(source.text, source.name)
    for (const d of directives) {
      try {
        this.directive(d)
      } catch (error) {
        if (error instanceof SecLangError) throw error
        if (
          error instanceof OperatorError ||
          error instanceof VariableError ||
          error instanceof PcreError ||
          error instanceof Error
        )
          throw new SecLangError(error.message, d.file, d.line)
        throw error
      }
    }
  }

  directive(d: Directive): void {
    const name = d.name.toLowerCase()
    const args = d.args
    const one = (): string => {
      if (args.length !== 1) throw new Error(`${d.name} takes one argument`)
      return args[0]!
    }
    if (this.chainParent && name !== 'secrule' && name !== 'secaction')
      throw new Error(`${d.name} inside a rule chain (the previous rule has "chain")`)
    switch (name) {
      case 'secrule':
        if (args.length < 2 || args.length > 3) throw new Error('SecRule takes VARIABLES OPERATOR [ACTIONS]')
        this.rule(d, args[0]!, args[1]!, args[2] ?? '')
        return
      case 'secaction':
        this.rule(d, undefined, undefined, one())
        return
      case 'secmarker':
        this.markers.push({ name: one(), position: this.rules.length })
        return
      case 'secdefaultaction':
        this.defaultAction(d, one())
        return
      case 'seccomponentsignature':
        this.signatures.push(one())
        return
      case 'secruleengine':
        this.engine = engineMode(one())
        return
      case 'secrequestbodyaccess':
        this.requestBodyAccess = onOff(one())
        return
      case 'secresponsebodyaccess':
        this.responseBodyAccess = onOff(one())
        return
      case 'secrequestbodylimit':
        this.requestBodyLimit = positiveInt(one())
        return
      case 'secrequestbodynofileslimit':
        this.requestBodyNoFilesLimit = positiveInt(one())
        return
      case 'secresponsebodylimit':
        this.responseBodyLimit = positiveInt(one())
        return
      case 'secrequestbodylimitaction':
        this.requestBodyLimitAction = limitAction(one())
        return
      case 'secresponsebodylimitaction':
        this.responseBodyLimitAction = limitAction(one())
        return
      case 'secresponsebodymimetype':
        this.responseBodyMimeTypes.push(
          ...args
            .join(' ')
            .split(/\s+/)
            .filter(Boolean)
            .map((m) => m.toLowerCase()),
        )
        return
      case 'secresponsebodymimetypesclear':
        this.responseBodyMimeTypes = []
        return
      case 'secargumentseparator':
        this.argumentSeparator = one()
        return
      case 'seccookieformat':
        if (one() !== '0') throw new Error('only SecCookieFormat 0 is supported')
        return
      case 'secruleremovebyid':
        this.removeRules(this.idMatcher(args.join(' ')))
        return
      case 'secruleremovebytag': {
        const tag = one().toLowerCase()
        this.removeRules((r) => r.tags.some((t) => t.toLowerCase() === tag))
        return
      }
      case 'secruleremovebymsg': {
        const msg = one()
        this.removeRules((r) => r.msg?.text === msg)
        return
      }
      case 'secruleupdatetargetbyid':
      case 'secruleupdatetargetbytag':
      case 'secruleupdatetargetbymsg': {
        if (args.length < 2 || args.length > 3) throw new Error(`${d.name} takes SELECTOR TARGETS`)
        if (args.length === 3) throw new Error(`${d.name} with a replaced target is not supported`)
        const select =
          name === 'secruleupdatetargetbyid'
            ? this.idMatcher(args[0]!)
            : name === 'secruleupdatetargetbytag'
              ? (r: Rule) => r.tags.some((t) => t.toLowerCase() === args[0]!.toLowerCase())
              : (r: Rule) => r.msg?.text === args[0]
        const { targets, exclusions } = parseVariables(args[1]!)
        for (const r of this.rules) {
          if (!select(r)) continue
          r.targets = [...r.targets, ...targets]
          r.exclusions = [...r.exclusions, ...exclusions]
        }
        return
      }
      case 'include':
        this.include(d, one())
        return
      default:
        if (NO_EFFECT_DIRECTIVES.has(name)) return
        throw new Error(`unsupported directive ${d.name}`)
    }
  }

  include(d: Directive, pattern: string): void {
    const files = /[*?[]/.test(pattern) ? (this.options.glob?.(pattern, d.file) ?? []) : [pattern]
    if (files.length === 0) throw new Error(`Include ${pattern} matched no file`)
    for (const file of files) this.addSource({ name: file, text: this.options.readFile(file, d.file) })
  }

  idMatcher(spec: string): (r: Rule) => boolean {
    const ranges: [number, number][] = []
    for (const part of spec.split(/[\s,]+/)) {
      if (part === '') continue
      const m = /^(\d+)(?:-(\d+))?$/.exec(part)
      if (!m) throw new Error(`bad rule id or range "${part}"`)
      ranges.push([Number(m[1]), Number(m[2] ?? m[1])])
    }
    return (r) => ranges.some(([a, b]) => r.id >= a && r.id <= b)
  }

  removeRules(select: (r: Rule) => boolean): void {
    for (let i = this.rules.length - 1; i >= 0; i--) {
      if (!select(this.rules[i]!)) continue
      this.ids.delete(this.rules[i]!.id)
      this.rules.splice(i, 1)
      for (const m of this.markers) if (m.position > i) m.position--
    }
  }

  defaultAction(d: Directive, text: string): void {
    const actions = parseActionList(text, d.file, d.line)
    const phase = actions.find((a) => a.name.toLowerCase() === 'phase')
    if (!phase?.value) throw new Error('SecDefaultAction needs a phase')
    const p = parsePhase(phase.value)
    const defaults: PhaseDefaults = {
      disruptive: 'pass',
      status: undefined,
      log: true,
      transforms: { fns: [], names: [] },
    }
    for (const a of actions) {
      const n = a.name.toLowerCase()
      if (n === 'phase') continue
      if (n === 'pass' || n === 'deny' || n === 'drop' || n === 'allow' || n === 'redirect')
        defaults.disruptive = n
      else if (n === 'block') throw new Error('SecDefaultAction cannot use block')
      else if (n === 'status') defaults.status = positiveInt(a.value ?? '')
      else if (n === 'log') defaults.log = true
      else if (n === 'nolog') defaults.log = false
      else if (n === 't') this.transform(defaults.transforms, a.value ?? '')
      else if (NO_EFFECT_ACTIONS.has(n) || n === 'tag') continue
      else throw new Error(`action ${a.name} is not supported in SecDefaultAction`)
    }
    this.defaults.set(p, defaults)
  }

  transform(list: { fns: Transformation[]; names: string[] }, name: string): void {
    const key = name.toLowerCase()
    if (key === 'none') {
      list.fns = []
      list.names = []
      return
    }
    const fn = TRANSFORMATIONS.get(key)
    if (!fn) throw new Error(`unsupported transformation t:${name}`)
    list.fns.push(fn)
    list.names.push(key)
  }

  rule(d: Directive, variables: string | undefined, operator: string | undefined, actionText: string): void {
    const raw = actionText === '' ? [] : parseActionList(actionText, d.file, d.line)
    const isChild = this.chainParent !== undefined
    let id = 0
    let phase = 2
    let phaseSet = false
    let chain = false
    let capture = false
    let multiMatch = false
    let log: boolean | undefined
    let disruptive: Disruptive | 'block' | undefined
    let status: number | undefined
    let msg: Macro | undefined
    let logdata: Macro | undefined
    let severity: number | undefined
    let skip = 0
    let skipAfter: string | undefined
    const tags: string[] = []
    const actions: Action[] = []
    const transformRaw: RawAction[] = []
    for (const a of raw) {
      const n = a.name.toLowerCase()
      const v = a.value
      const need = (): string => {
        if (v === undefined) throw new Error(`action ${a.name} needs a value`)
        return v
      }
      switch (n) {
        case 'id':
          id = positiveInt(need())
          break
        case 'phase':
          phase = parsePhase(need())
          phaseSet = true
          break
        case 'chain':
          chain = true
          break
        case 'capture':
          capture = true
          break
        case 'multimatch':
          multiMatch = true
          break
        case 'log':
          log = true
          break
        case 'nolog':
          log = false
          break
        case 'pass':
        case 'deny':
        case 'drop':
        case 'allow':
        case 'block':
          disruptive = n
          break
        case 'redirect':
          disruptive = 'redirect'
          break
        case 'status':
          status = positiveInt(need())
          break
        case 'msg':
          msg = compileMacro(need())
          break
        case 'logdata':
          logdata = compileMacro(need())
          break
        case 'tag':
          tags.push(need())
          break
        case 'severity':
          severity = parseSeverity(need())
          break
        case 'skip':
          skip = positiveInt(need())
          break
        case 'skipafter':
          skipAfter = need()
          break
        case 't':
          transformRaw.push(a)
          break
        case 'setvar':
          actions.push({ kind: 'setvar', setvar: parseSetVar(need()) })
          break
        case 'ctl':
          actions.push(this.ctl(need(), d))
          break
        case 'initcol': {
          const value = need()
          const eq = value.indexOf('=')
          if (eq === -1) throw new Error('initcol needs collection=key')
          const collection = value.slice(0, eq).trim().toUpperCase()
          if (
            collection !== 'IP' &&
            collection !== 'GLOBAL' &&
            collection !== 'SESSION' &&
            collection !== 'USER'
          )
            throw new Error(`initcol:${collection} is not supported`)
          actions.push({ kind: 'initcol', collection, key: compileMacro(value.slice(eq + 1)) })
          break
        }
        default:
          if (NO_EFFECT_ACTIONS.has(n)) break
          throw new Error(`unsupported action ${a.name}`)
      }
    }
    if (isChild) {
      if (id !== 0) throw new Error('a chained rule cannot have an id')
      if (phaseSet) throw new Error('a chained rule cannot have a phase')
      if (disruptive !== undefined) throw new Error('a chained rule cannot have a disruptive action')
      if (skipAfter !== undefined || skip !== 0) throw new Error('a chained rule cannot skip')
      phase = this.chainParent!.phase
    } else if (id === 0) throw new Error('rule has no id')
    const defaults = isChild ? undefined : this.defaults.get(phase)
    const transforms = {
      fns: [...(defaults?.transforms.fns ?? [])],
      names: [...(defaults?.transforms.names ?? [])],
    }
    for (const t of transformRaw) this.transform(transforms, t.value ?? '')
    const transformId = transforms.names.join(',')
    let transformKey = this.transformKeys.get(transformId)
    if (transformKey === undefined) {
      transformKey = this.transformKeys.size
      this.transformKeys.set(transformId, transformKey)
    }
    let resolved: Disruptive | undefined
    if (!isChild)
      resolved =
        disruptive === 'block' || disruptive === undefined ? (defaults?.disruptive ?? 'pass') : disruptive
    const { targets, exclusions } =
      variables === undefined ? { targets: [], exclusions: [] } : parseVariables(variables)
    const op =
      operator === undefined
        ? compileOperator('@unconditionalMatch', this.operatorContext(d))
        : compileOperator(operator, this.operatorContext(d))
    const rule: Rule = {
      index: -1,
      id: isChild ? this.chainParent!.id : id,
      phase,
      file: d.file,
      line: d.line,
      targets,
      exclusions,
      operator: op,
      transforms: transforms.fns,
      transformKey,
      multiMatch,
      capture,
      actions,
      disruptive: resolved,
      status: status ?? defaults?.status,
      log: log ?? (isChild ? true : (defaults?.log ?? true)),
      msg,
      logdata,
      tags,
      severity,
      skip,
      skipAfter,
      skipTo: -1,
      chain: undefined,
      isAction: variables === undefined,
      slot: -1,
      cacheable: variables !== undefined && !op.dynamic && op.name !== 'unconditionalmatch',
    }
    if (isChild) this.chainTail!.chain = rule
    else {
      if (this.ids.has(id)) throw new Error(`duplicate rule id ${id}`)
      this.ids.add(id)
      this.rules.push(rule)
      this.chainParent = chain ? rule : undefined
    }
    if (chain) {
      this.chainParent ??= rule
      this.chainTail = rule
      this.lastChainDirective = d
    } else {
      this.chainParent = undefined
      this.chainTail = undefined
    }
  }

  operatorContext(d: Directive) {
    return {
      readFile: (name: string) => this.options.readFile(name, d.file),
      detectors: this.options.detectors,
    }
  }

  ctl(value: string, d: Directive): Action {
    const eq = value.indexOf('=')
    if (eq === -1) throw new Error(`ctl:${value} needs option=value`)
    const option = value.slice(0, eq).trim()
    const arg = value.slice(eq + 1).trim()
    const key = option.toLowerCase()
    switch (key) {
      case 'ruleengine':
        return { kind: 'ctl', ctl: { kind: 'ruleEngine', mode: engineMode(arg) }, pending: undefined }
      case 'requestbodyprocessor': {
        const processor = arg.toUpperCase()
        if (!['URLENCODED', 'MULTIPART', 'XML', 'JSON'].includes(processor))
          throw new Error(`unsupported request body processor ${arg}`)
        return { kind: 'ctl', ctl: { kind: 'requestBodyProcessor', processor }, pending: undefined }
      }
      case 'requestbodyaccess':
        return { kind: 'ctl', ctl: { kind: 'requestBodyAccess', on: onOff(arg) }, pending: undefined }
      case 'forcerequestbodyvariable':
        return { kind: 'ctl', ctl: { kind: 'forceRequestBodyVariable', on: onOff(arg) }, pending: undefined }
      case 'responsebodyaccess':
        return { kind: 'ctl', ctl: { kind: 'responseBodyAccess', on: onOff(arg) }, pending: undefined }
      case 'requestbodylimit':
        return { kind: 'ctl', ctl: { kind: 'requestBodyLimit', limit: positiveInt(arg) }, pending: undefined }
      case 'ruleremovebyid':
      case 'ruleremovebytag':
      case 'ruleremovebymsg':
      case 'ruleremovetargetbyid':
      case 'ruleremovetargetbytag':
      case 'ruleremovetargetbymsg': {
        const action = {
          kind: 'ctl' as const,
          ctl: { kind: 'none' } as Ctl,
          pending: { option: key, value: arg, file: d.file, line: d.line },
        }
        if (key.startsWith('ruleremovetarget')) {
          const semi = arg.indexOf(';')
          if (semi === -1) throw new Error(`ctl:${option} needs SELECTOR;TARGET`)
          const { targets, exclusions } = parseVariables(arg.slice(semi + 1))
          if (targets.length !== 1 || exclusions.length !== 0)
            throw new Error(`ctl:${option} takes exactly one target`)
        }
        this.pendingCtls.push({ action, pending: action.pending })
        return action
      }
      default:
        if (NO_EFFECT_CTLS.has(key)) return { kind: 'ctl', ctl: { kind: 'none' }, pending: undefined }
        throw new Error(`unsupported ctl:${option}`)
    }
  }

  finish(): RuleSet {
    if (this.chainParent)
      throw new SecLangError(
        'the last rule ends with "chain" but no rule follows',
        this.lastChainDirective!.file,
        this.lastChainDirective!.line,
      )
    const rules = this.rules
    let slots = 0
    rules.forEach((r, i) => {
      for (let link: Rule | undefined = r; link; link = link.chain) {
        link.index = i
        link.slot = slots++
      }
    })
    for (const { action, pending } of this.pendingCtls) {
      try {
        action.ctl = this.resolveCtl(pending)
      } catch (error) {
        throw new SecLangError((error as Error).message, pending.file, pending.line)
      }
    }
    const phases: Rule[][] = [[], [], [], [], [], []]
    const phasePositions: number[][] = [[], [], [], [], [], []]
    rules.forEach((r, i) => {
      phasePositions[r.phase]!.push(i)
      phases[r.phase]!.push(r)
    })
    for (let p = 1; p <= 5; p++) {
      const list = phases[p]!
      const positions = phasePositions[p]!
      for (let k = 0; k < list.length; k++) {
        const r = list[k]!
        if (r.skipAfter === undefined) continue
        const marker = this.markers.find((m) => m.name === r.skipAfter && m.position > positions[k]!)
        if (!marker) {
          r.skipTo = list.length
          continue
        }
        let to = k + 1
        while (to < list.length && positions[to]! < marker.position) to++
        r.skipTo = to
      }
    }
    const byId = new Map<number, Rule>()
    for (const r of rules) byId.set(r.id, r)
    return {
      rules,
      phases,
      engine: this.engine,
      requestBodyAccess: this.requestBodyAccess,
      requestBodyLimit: this.requestBodyLimit,
      requestBodyNoFilesLimit: this.requestBodyNoFilesLimit,
      requestBodyLimitAction: this.requestBodyLimitAction,
      responseBodyAccess: this.responseBodyAccess,
      responseBodyLimit: this.responseBodyLimit,
      responseBodyLimitAction: this.responseBodyLimitAction,
      responseBodyMimeTypes: this.responseBodyMimeTypes,
      argumentSeparator: this.argumentSeparator,
      componentSignatures: this.signatures,
      byId,
      results: new ResultCache(slots),
    }
  }

  resolveCtl(p: PendingCtl): Ctl {
    const semi = p.value.indexOf(';')
    const selector = p.option.startsWith('ruleremovetarget') ? p.value.slice(0, semi) : p.value
    let select: (r: Rule) => boolean
    if (p.option.endsWith('byid')) select = this.idMatcher(selector)
    else if (p.option.endsWith('bytag')) {
      const tag = selector.toLowerCase()
      select = (r) => r.tags.some((t) => t.toLowerCase() === tag)
    } else select = (r) => r.msg?.text === selector
    const indices: number[] = []
    this.rules.forEach((r, i) => {
      if (select(r)) indices.push(i)
    })
    if (!p.option.startsWith('ruleremovetarget')) return { kind: 'removeRules', indices }
    const { targets } = parseVariables(p.value.slice(semi + 1))
    const t = targets[0]!
    return { kind: 'removeTarget', indices, exclusion: { collection: t.collection, selector: t.selector } }
  }
}

function parsePhase(v: string): number {
  const named = PHASE_NAMES[v.toLowerCase()]
  if (named !== undefined) return named
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`bad phase ${v}`)
  return n
}

function parseSeverity(v: string): number {
  const named = SEVERITIES[v.toLowerCase()]
  if (named !== undefined) return named
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 7) throw new Error(`bad severity ${v}`)
  return n
}

function positiveInt(v: string): number {
  const n = Number(v.trim())
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got "${v}"`)
  return n
}

function onOff(v: string): boolean {
  const s = v.toLowerCase()
  if (s === 'on') return true
  if (s === 'off') return false
  throw new Error(`expected On or Off, got "${v}"`)
}

function engineMode(v: string): EngineMode {
  const s = v.toLowerCase()
  if (s === 'on') return 'On'
  if (s === 'off') return 'Off'
  if (s === 'detectiononly') return 'DetectionOnly'
  throw new Error(`expected On, Off or DetectionOnly, got "${v}"`)
}

function limitAction(v: string): 'Reject' | 'ProcessPartial' {
  const s = v.toLowerCase()
  if (s === 'reject') return 'Reject'
  if (s === 'processpartial') return 'ProcessPartial'
  throw new Error(`expected Reject or ProcessPartial, got "${v}"`)
}

/** Parses `setvar:` values: `tx.a=1`, `tx.a=+%{tx.b}`, `!tx.a`, `tx.a`. */
export function parseSetVar(text: string): SetVar {
  let s = text.trim()
  let del = false
  if (s.startsWith('!')) {
    del = true
    s = s.slice(1)
  }
  const eq = s.indexOf('=')
  const lhs = eq === -1 ? s : s.slice(0, eq)
  const dot = lhs.indexOf('.')
  if (dot === -1) throw new Error(`setvar:${text} needs collection.name`)
  const collection = lhs.slice(0, dot).trim().toUpperCase()
  if (!['TX', 'IP', 'GLOBAL', 'SESSION', 'USER', 'RESOURCE'].includes(collection))
    throw new Error(`setvar on collection ${collection} is not supported`)
  const name = compileMacro(lhs.slice(dot + 1).trim())
  const lowerName = name.text.toLowerCase()
  if (del) return { collection, name, lowerName, op: 'delete', value: compileMacro('') }
  if (eq === -1) return { collection, name, lowerName, op: 'set', value: compileMacro('1') }
  let rhs = s.slice(eq + 1)
  let op: SetVar['op'] = 'set'
  if (rhs.startsWith('+')) {
    op = 'add'
    rhs = rhs.slice(1)
  } else if (rhs.startsWith('-')) {
    op = 'sub'
    rhs = rhs.slice(1)
  }
  return { collection, name, lowerName, op, value: compileMacro(rhs) }
}
