import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { detectSqli, detectXss } from '../libinjection/index.js'
import { compileRuleSet, type RuleSet, type RuleSource } from '../seclang/index.js'
import { BASE_CONF } from './base-conf.js'

const MARKER = join('rules', 'REQUEST-901-INITIALIZATION.conf')

/**
 * The folder of the CRS copy shipped inside @gw/security (`crs/` at the package root), found from this module
 * whether it runs from `src/` or from `dist/` (bundled chunks sit at different depths).
 *
 * @example
 * ```ts
 * bundledCrsDir() // '/app/node_modules/@gw/security/crs'
 * ```
 */
export function bundledCrsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'crs')
    if (existsSync(join(candidate, MARKER))) return candidate
    dir = dirname(dir)
  }
  throw new Error('the bundled CRS copy (crs/rules) was not found next to @gw/security')
}

/** Where the rules come from and what surrounds them. */
export interface RuleFiles {
  /** `crs` (the bundled copy) or a directory (a CRS checkout with `rules/`, or a folder of `*.conf`). */
  readonly rules: string
  /** SecLang text loaded after `crs-setup.conf` and before the rule files. */
  readonly before: string
  /** SecLang text loaded after the rule files (exclusions such as `SecRuleUpdateTargetById`). */
  readonly after: string
}

/** Lists the sources of a rule set in load order: gw's base conf, the set-up file, the rules, extras. */
export function ruleSources(files: RuleFiles): RuleSource[] {
  const root = files.rules === 'crs' ? bundledCrsDir() : resolve(files.rules)
  const sources: RuleSource[] = [{ name: '<gw base configuration>', text: BASE_CONF }]
  let ruleDir = root
  if (existsSync(join(root, 'rules'))) {
    ruleDir = join(root, 'rules')
    for (const setup of ['crs-setup.conf', 'crs-setup.conf.example']) {
      const path = join(root, setup)
      if (existsSync(path)) {
        sources.push({ name: path, text: readFileSync(path, 'latin1') })
        break
      }
    }
  }
  const confs = readdirSync(ruleDir)
    .filter((f) => f.endsWith('.conf'))
    .sort()
  if (confs.length === 0) throw new Error(`no *.conf rule files in ${ruleDir}`)
  if (files.before.trim() !== '')
    sources.push({ name: '<attack-filter directives.before>', text: files.before })
  for (const f of confs)
    sources.push({ name: join(ruleDir, f), text: readFileSync(join(ruleDir, f), 'latin1') })
  if (files.after.trim() !== '') sources.push({ name: '<attack-filter directives.after>', text: files.after })
  return sources
}

const cache = new Map<string, RuleSet>()

/**
 * Compiles (once per distinct `files`, shared by every policy instance and route) the rule set.
 *
 * @example
 * ```ts
 * const rules = loadRuleSet({ rules: 'crs', before: '', after: '' })
 * rules.rules.length // about 630
 * ```
 */
export function loadRuleSet(files: RuleFiles): RuleSet {
  const key = JSON.stringify([
    files.rules === 'crs' ? 'crs' : resolve(files.rules),
    files.before,
    files.after,
  ])
  const hit = cache.get(key)
  if (hit) return hit
  const compiled = compileRuleSet(ruleSources(files), {
    readFile(name, from) {
      const base = from.startsWith('<') ? process.cwd() : dirname(from)
      return readFileSync(isAbsolute(name) ? name : join(base, name), 'latin1')
    },
    glob(pattern, from) {
      const base = from.startsWith('<') ? process.cwd() : dirname(from)
      const full = isAbsolute(pattern) ? pattern : join(base, pattern)
      const dir = dirname(full)
      const re = new RegExp(
        `^${full
          .slice(dir.length + 1)
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      )
      return readdirSync(dir)
        .filter((f) => re.test(f))
        .sort()
        .map((f) => join(dir, f))
    },
    detectors: { detectSqli, detectXss },
  })
  cache.set(key, compiled)
  return compiled
}
