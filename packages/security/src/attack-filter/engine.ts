import { coreErrors } from '@gw/core'
import { hasControlBytes, normalize } from './normalize.js'
import { ATTACK_RULES, type AttackRule, type RuleTarget } from './rules.js'

/** A rule match: which rule fired, where, and on what (normalised, truncated) text. */
export interface AttackMatch {
  readonly rule: AttackRule
  /** `path`, `query:<name>`, `header:<name>`, `cookie:<name>`, `body`, `body:<json pointer>`, `form:<name>`. */
  readonly location: string
  /** The normalised value that matched, at most 120 characters. */
  readonly sample: string
}

/** Rule ids of the built-in pseudo-rules that are not regular expressions. */
export const NULL_BYTE_RULE: AttackRule = {
  id: 'protocol-control-bytes',
  category: 'protocol',
  paranoia: 1,
  targets: ['args'],
  description: 'NUL and other C0 control bytes in the path or a parameter (raw or percent-encoded, e.g. %00)',
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control bytes are what this rule detects
  pattern: /[\x00-\x08\x0e-\x1f]/,
}

interface CompiledSet {
  readonly regex: RegExp | undefined
  readonly rules: readonly AttackRule[]
}

/** Options of {@link createAttackEngine}. */
export interface AttackEngineOptions {
  paranoia: 1 | 2 | 3
  disabledRules?: readonly string[]
  decodeRounds?: number
  rules?: readonly AttackRule[]
}

/** Scans values against the selected rules; built once per policy entry. */
export interface AttackEngine {
  /** The active rules. */
  readonly rules: readonly AttackRule[]
  /** Scans a request argument (path segment text, query name or value, body field). */
  scanArg(raw: string, location: string, formEncoded: boolean): AttackMatch | undefined
  /** Scans an inspected header value. */
  scanHeader(raw: string, location: string): AttackMatch | undefined
  /** Scans a User-Agent against the scanner list (and the header rules). */
  scanUserAgent(raw: string): AttackMatch | undefined
}

const SAFE = /^[\w\-.,~]*$/
const CACHE_MAX_ENTRIES = 2048
const CACHE_MAX_LENGTH = 256

/**
 * Raw values already found clean (paths, user agents and referers repeat a lot): bounded by entry count and value
 * length, cleared when full. Only negative results are cached, so a hit can never hide a match.
 */
class CleanCache {
  readonly #seen = new Set<string>()
  has(raw: string): boolean {
    return raw.length <= CACHE_MAX_LENGTH && this.#seen.has(raw)
  }
  add(raw: string): void {
    if (raw.length > CACHE_MAX_LENGTH) return
    if (this.#seen.size >= CACHE_MAX_ENTRIES) this.#seen.clear()
    this.#seen.add(raw)
  }
}

/**
 * Compiles the rule set for a paranoia level into one alternation per target (one regex execution per value),
 * skipping values made only of letters, digits and `-._,~` and values already found clean (a bounded cache of
 * negative results: a repeated path or user agent costs one Set lookup).
 *
 * @example
 * ```ts
 * const engine = createAttackEngine({ paranoia: 1 })
 * engine.scanArg("1' or '1'='1", 'query:id', true)?.rule.id // 'sqli-tautology'
 * ```
 */
export function createAttackEngine(options: AttackEngineOptions): AttackEngine {
  const disabled = new Set(options.disabledRules ?? [])
  const all = options.rules ?? ATTACK_RULES
  const known = new Set([...all.map((r) => r.id), NULL_BYTE_RULE.id])
  for (const id of disabled)
    if (!known.has(id))
      throw coreErrors.config.create(`attack-filter: unknown rule id '${id}' in disabledRules`)
  const active = all.filter((r) => r.paranoia <= options.paranoia && !disabled.has(r.id))
  const rounds = options.decodeRounds ?? 3
  const checkControl = !disabled.has(NULL_BYTE_RULE.id)
  const args = compile(active, 'args')
  const headers = compile(active, 'headers')
  const ua = compile(active, 'user-agent')

  const cleanArgs = new CleanCache()
  const cleanForm = new CleanCache()
  const cleanHeaders = new CleanCache()
  const cleanAgents = new CleanCache()

  const run = (set: CompiledSet, text: string, location: string): AttackMatch | undefined => {
    if (set.regex === undefined) return undefined
    const m = set.regex.exec(text)
    if (m === null) return undefined
    for (let i = 1; i < m.length; i++)
      if (m[i] !== undefined) return { rule: set.rules[i - 1]!, location, sample: text.slice(0, 120) }
    return undefined
  }

  return {
    rules: checkControl ? [...active, NULL_BYTE_RULE] : active,
    scanArg(raw, location, formEncoded) {
      if (SAFE.test(raw)) return undefined
      const cache = formEncoded ? cleanForm : cleanArgs
      if (cache.has(raw)) return undefined
      if (checkControl && hasControlBytes(raw, rounds))
        return { rule: NULL_BYTE_RULE, location, sample: JSON.stringify(raw.slice(0, 118)) }
      const hit = run(args, normalize(raw, formEncoded, rounds), location)
      if (hit === undefined) cache.add(raw)
      return hit
    },
    scanHeader(raw, location) {
      if (SAFE.test(raw) || cleanHeaders.has(raw)) return undefined
      const hit = run(headers, normalize(raw, false, rounds), location)
      if (hit === undefined) cleanHeaders.add(raw)
      return hit
    },
    scanUserAgent(raw) {
      if (cleanAgents.has(raw)) return undefined
      const text = normalize(raw, false, rounds)
      const hit =
        run(ua, text, 'header:user-agent') ??
        (SAFE.test(raw) ? undefined : run(headers, text, 'header:user-agent'))
      if (hit === undefined) cleanAgents.add(raw)
      return hit
    },
  }
}

function compile(rules: readonly AttackRule[], target: RuleTarget): CompiledSet {
  const selected = rules.filter((r) => r.targets.includes(target))
  if (selected.length === 0) return { regex: undefined, rules: selected }
  for (const rule of selected) {
    const groups = (new RegExp(`${rule.pattern.source}|`).exec('')?.length ?? 1) - 1
    if (groups !== 0 || rule.pattern.flags.replace(/[gyu]/g, '') !== '')
      throw coreErrors.config.create(
        `attack-filter: rule ${rule.id} must use non-capturing groups and no flags`,
      )
  }
  return { regex: new RegExp(selected.map((r) => `(${r.pattern.source})`).join('|')), rules: selected }
}
