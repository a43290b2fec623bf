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

/**
 * Compiles the rule set for a paranoia level into one alternation per target (one regex execution per value),
 * skipping values made only of letters, digits and `-._,~`.
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
      if (checkControl && hasControlBytes(raw, rounds))
        return { rule: NULL_BYTE_RULE, location, sample: JSON.stringify(raw.slice(0, 118)) }
      return run(args, normalize(raw, formEncoded, rounds), location)
    },
    scanHeader(raw, location) {
      if (SAFE.test(raw)) return undefined
      return run(headers, normalize(raw, false, rounds), location)
    },
    scanUserAgent(raw) {
      const text = normalize(raw, false, rounds)
      return (
        run(ua, text, 'header:user-agent') ??
        (SAFE.test(raw) ? undefined : run(headers, text, 'header:user-agent'))
      )
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
