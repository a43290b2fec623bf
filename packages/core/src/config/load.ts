import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'
import type { z } from 'zod'
import { coreErrors, type GatewayError } from '../errors.js'
import { configErrorMap } from '../util/error-map.js'
import { type ConfigIssue, collectIssues, formatIssues, formatPath } from '../util/format-issues.js'
import { type EnvSource, expandEnv } from './env.js'
import { buildConfigSchema, type FileConfig, referenceProblems } from './file-schema.js'
import type { PolicyRegistry } from './registry.js'

/** Syntax of a config text. */
export type ConfigFormat = 'yaml' | 'json'

/** Options of {@link parseConfig} and {@link loadConfigFile}. */
export interface LoadConfigOptions {
  /** The policies the file may use. */
  registry: PolicyRegistry
  /** Variables for `${VAR}` substitution. Default `process.env`. */
  env?: EnvSource
}

/** A validated config and the non-fatal problems found on the way (YAML warnings). */
export interface LoadedConfig {
  config: FileConfig
  /** Warnings only; errors are thrown. Usually empty. */
  issues: ConfigIssue[]
}

type Segment = string | number

/**
 * Parses, substitutes and validates a config text. Substitution runs on the string values of the parsed
 * document (keys and comments are left alone); a value that is exactly one reference and sits where the
 * schema expects a number or boolean is converted (`port: ${PORT:-3000}` -> 3000, `"${ENABLED:-true}"` ->
 * true). Throws `GW_ERR_CONFIG` listing every problem (syntax with line and column, unset variables with
 * their line, schema issues with their path); `extensions.issues` holds them as `{ path, message }`.
 *
 * @example
 * ```ts
 * const { config } = parseConfig('routes: []', { registry, format: 'yaml', env: {} })
 * ```
 */
export function parseConfig(
  text: string,
  options: LoadConfigOptions & { format?: ConfigFormat; source?: string },
): LoadedConfig {
  const format = options.format ?? 'yaml'
  const env = options.env ?? process.env
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const fail = (issues: ConfigIssue[]): never => {
    throw configError(issues, options.source)
  }

  const lineCounter = new LineCounter()
  const doc = parseDocument(source, {
    lineCounter,
    schema: format === 'json' ? 'json' : 'core',
    uniqueKeys: true,
  })
  const jsonProblem = format === 'json' ? checkJson(source, doc) : undefined
  if (jsonProblem) fail([jsonProblem])
  if (doc.errors.length > 0) fail(syntaxIssues(doc, source, format))
  const warnings = doc.warnings.map((w) => ({
    path: `(${format})`,
    message: syntaxMessage(w.message, w.linePos?.[0]),
  }))

  const { issues: envIssues, wholeValues } = substituteDocument(doc, env, lineCounter)
  const tree: unknown = doc.toJS({ maxAliasCount: 1000 })
  if (tree === null || tree === undefined)
    fail([{ path: '(root)', message: 'the file is empty' }, ...envIssues])

  const schema = buildConfigSchema(options.registry)
  let result = schema.safeParse(tree, { error: configErrorMap })
  for (let pass = 0; pass < 8 && !result.success; pass++) {
    if (!retypeEnvValues(tree, result.error.issues, [], wholeValues)) break
    result = schema.safeParse(tree, { error: configErrorMap })
  }
  if (result.success && envIssues.length === 0) return { config: result.data, issues: warnings }
  const envPaths = new Set(envIssues.map((issue) => issue.path))
  const schemaIssues = result.success ? [] : collectIssues(result.error)
  const references = referenceProblems(tree).map(({ path, message }) => ({ path: formatPath(path), message }))
  const seen = new Set<string>()
  const issues = [...envIssues, ...schemaIssues, ...references].filter((issue) => {
    const key = `${issue.path}\n${issue.message}`
    if (seen.has(key) || (envPaths.has(issue.path) && !envIssues.includes(issue))) return false
    seen.add(key)
    return true
  })
  return fail(inFileOrder(issues, doc))
}

/**
 * Reads a YAML (`.yaml`, `.yml`) or JSON (`.json`) gateway file, substitutes `${VAR}` / `${VAR:-default}`
 * from `env` (default `process.env`), and validates it against the registered policies. Synchronous: it runs
 * once at start-up. Throws `GW_ERR_CONFIG` whose message is `invalid configuration in <path>:` followed by
 * one `  - path: message` line per problem, and whose `extensions.issues` holds them.
 *
 * @example
 * ```ts
 * const registry = createPolicyRegistry(policies)
 * const { config } = loadConfigFile('gateway.yaml', { registry })
 * const gateway = await createGateway(toGatewayOptions(config, registry))
 * ```
 */
export function loadConfigFile(path: string, options: LoadConfigOptions): LoadedConfig {
  const extension = extname(path).toLowerCase()
  const format: ConfigFormat | undefined =
    extension === '.json' ? 'json' : extension === '.yaml' || extension === '.yml' ? 'yaml' : undefined
  if (format === undefined) {
    throw configError(
      [{ path: '(file)', message: `unsupported extension '${extension}' (use .yaml, .yml or .json)` }],
      path,
    )
  }
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : String(error)
    throw configError([{ path: '(file)', message: `cannot read ${path}: ${reason}` }], path)
  }
  return parseConfig(text, { ...options, format, source: path })
}

function configError(issues: ConfigIssue[], source: string | undefined): GatewayError {
  const where = source === undefined ? '' : ` in ${source}`
  return coreErrors.config.create(`invalid configuration${where}:\n${formatIssues(issues)}`, {
    extensions: { issues, ...(source === undefined ? {} : { file: source }) },
  })
}

function checkJson(text: string, doc: Document): ConfigIssue | undefined {
  try {
    JSON.parse(text)
    return undefined
  } catch (error) {
    const message = (error as Error).message.replace(/, ".*" is not valid JSON$/s, '')
    const position = /at position (\d+)/.exec(message)
    const clean = message.replace(/ in JSON at position \d+.*$/s, '')
    let pos = doc.errors[0]?.linePos?.[0]
    if (position) {
      const before = text.slice(0, Number(position[1]))
      pos = { line: before.split('\n').length, col: before.length - before.lastIndexOf('\n') }
    }
    return { path: '(json)', message: pos ? `line ${pos.line}, column ${pos.col}: ${clean}` : clean }
  }
}

function syntaxIssues(doc: Document, source: string, format: ConfigFormat): ConfigIssue[] {
  const [first, ...rest] = doc.errors
  const shown = first ? [first, ...rest.filter((error) => error.code === 'DUPLICATE_KEY')] : []
  const lines = source.split('\n')
  const issues = shown.map((error) => {
    const pos = error.linePos?.[0]
    const text = pos ? (lines[pos.line - 1] ?? '') : ''
    const hint =
      /\$\{/.test(text) && /[[{]/.test(text) ? ` (quote $\{...} references inside [ ] and { })` : ''
    return { path: `(${format})`, message: syntaxMessage(error.message, pos) + hint }
  })
  const hidden = doc.errors.length - shown.length
  if (hidden > 0)
    issues.push({ path: `(${format})`, message: `${hidden} more syntax error(s) after the first` })
  return issues
}

function syntaxMessage(message: string, pos: { line: number; col: number } | undefined): string {
  const first = (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '')
  return pos ? `line ${pos.line}, column ${pos.col}: ${first}` : first
}

function substituteDocument(
  doc: Document,
  env: EnvSource,
  lines: LineCounter,
): { issues: ConfigIssue[]; wholeValues: Set<string> } {
  const issues: ConfigIssue[] = []
  const wholeValues = new Set<string>()
  const visit = (node: unknown, path: Segment[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
        visit(pair.value, [...path, key])
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        visit(item, [...path, index])
      })
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const expansion = expandEnv(node.value, env)
      node.value = expansion.value
      if (expansion.whole) wholeValues.add(JSON.stringify(path))
      const start = lines.linePos(node.range?.[0] ?? 0).line
      const block = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED' ? 1 : 0
      for (const problem of expansion.problems) {
        const line = start + block + countLines(expansion.value, problem.index)
        issues.push({ path: formatPath(path), message: `${problem.message} (line ${line})` })
      }
    }
  }
  visit(doc.contents, [])
  return { issues, wholeValues }
}

function inFileOrder(issues: ConfigIssue[], doc: Document): ConfigIssue[] {
  const offsetOf = (path: string): number => {
    let segments = parsePath(path)
    for (;;) {
      const node = segments.length === 0 ? doc.contents : doc.getIn(segments, true)
      if (isNode(node) && node.range) return node.range[0]
      if (segments.length === 0) return 0
      segments = segments.slice(0, -1)
    }
  }
  return issues
    .map((issue, index) => ({ issue, index, offset: offsetOf(issue.path) }))
    .sort((a, b) => a.offset - b.offset || a.index - b.index)
    .map(({ issue }) => issue)
}

function parsePath(path: string): Segment[] {
  const segments: Segment[] = []
  const token = /(?:^|\.)([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y
  for (let match = token.exec(path); match; match = token.exec(path)) {
    if (match[1] !== undefined) segments.push(match[1])
    else if (match[2] !== undefined) segments.push(Number(match[2]))
    else if (match[3] !== undefined) segments.push(String(JSON.parse(match[3])))
    if (token.lastIndex === path.length) break
  }
  return segments
}

function countLines(text: string, index: number): number {
  let count = 0
  for (let i = 0; i < index && i < text.length; i++) if (text[i] === '\n') count++
  return count
}

function retypeEnvValues(
  tree: unknown,
  issues: readonly z.core.$ZodIssue[],
  base: readonly PropertyKey[],
  wholeValues: Set<string>,
): boolean {
  let changed = false
  for (const issue of issues) {
    const path = [...base, ...issue.path]
    if (issue.code === 'invalid_union') {
      for (const branch of issue.errors) changed = retypeEnvValues(tree, branch, path, wholeValues) || changed
      continue
    }
    if (issue.code !== 'invalid_type' || !path.every(isSegment)) continue
    const key = JSON.stringify(path)
    if (!wholeValues.has(key)) continue
    const converted = convert(getAt(tree, path), issue.expected)
    if (converted === undefined) continue
    setAt(tree, path, converted)
    wholeValues.delete(key)
    changed = true
  }
  return changed
}

function convert(value: unknown, expected: string): number | boolean | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (
    (expected === 'number' || expected === 'int') &&
    /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)
  ) {
    return Number(text)
  }
  if (expected === 'boolean' && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true'
  return undefined
}

function isSegment(value: PropertyKey): value is Segment {
  return typeof value === 'string' || typeof value === 'number'
}

function getAt(tree: unknown, path: readonly Segment[]): unknown {
  let current = tree
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<Segment, unknown>)[segment]
  }
  return current
}

function setAt(tree: unknown, path: readonly Segment[], value: unknown): void {
  const parent = getAt(tree, path.slice(0, -1))
  const last = path[path.length - 1]
  if (typeof parent === 'object' && parent !== null && last !== undefined) {
    ;(parent as Record<Segment, unknown>)[last] = value
  }
}
