import { coreErrors } from '../errors.js'

/** Environment variables as `process.env` holds them. */
export type EnvSource = Readonly<Record<string, string | undefined>>

/** A problem found while substituting: where in the text (0-based offset) and what. */
export interface EnvProblem {
  /** Offset of the `${` in the text. */
  index: number
  /** The variable, when the reference was well-formed. */
  variable: string | undefined
  message: string
}

/** The result of {@link expandEnv}. */
export interface EnvExpansion {
  value: string
  /** True when the whole text was a single reference (`${PORT:-3000}`): the value may be re-typed. */
  whole: boolean
  /** Variables referenced, in order. */
  variables: string[]
  problems: EnvProblem[]
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/
/** `${request.id}`, `${principal.sub:-anon}`: dotted names are policy templates, never environment variables. */
const POLICY_TEMPLATE = /^[A-Za-z_]\w*(?:\.[\w-]+)+(?::-[\s\S]*)?$/

/**
 * Expands `${VAR}` and `${VAR:-default}` in a string and reports problems instead of throwing.
 * `${VAR:-default}` uses the default when VAR is unset or empty; `$${` is a literal `${`; a `$` not followed
 * by `{` is kept as is. Dotted references (`${request.id}`, `${principal.sub}`) are policy templates, not
 * variables (environment names have no dots), and are kept verbatim. Defaults are literal text (no nesting) and end at the first `}`.
 *
 * @example
 * ```ts
 * expandEnv('http://${HOST:-localhost}:3001', {}).value // 'http://localhost:3001'
 * ```
 */
export function expandEnv(text: string, env: EnvSource): EnvExpansion {
  let value = ''
  let references = 0
  let literal = false
  const variables: string[] = []
  const problems: EnvProblem[] = []
  let i = 0
  while (i < text.length) {
    const dollar = text.indexOf('$', i)
    if (dollar === -1) {
      value += text.slice(i)
      literal ||= i < text.length
      break
    }
    if (dollar > i) literal = true
    value += text.slice(i, dollar)
    if (text.startsWith('$${', dollar)) {
      value += '${'
      literal = true
      i = dollar + 3
      continue
    }
    if (!text.startsWith('${', dollar)) {
      value += '$'
      literal = true
      i = dollar + 1
      continue
    }
    const close = text.indexOf('}', dollar + 2)
    if (close === -1) {
      problems.push({
        index: dollar,
        variable: undefined,
        message: "unterminated '${' (write '$${' for a literal)",
      })
      value += text.slice(dollar)
      literal = true
      break
    }
    const inner = text.slice(dollar + 2, close)
    i = close + 1
    if (POLICY_TEMPLATE.test(inner)) {
      value += '${' + inner + '}'
      literal = true
      continue
    }
    references++
    const match = REFERENCE.exec(inner)
    if (!match) {
      problems.push({
        index: dollar,
        variable: undefined,
        message: `invalid variable reference '\${${inner}}'`,
      })
      continue
    }
    const name = match[1]!
    const fallback = match[2]
    variables.push(name)
    const current = env[name]
    if (fallback !== undefined && (current === undefined || current === '')) value += fallback
    else if (current !== undefined) value += current
    else {
      problems.push({
        index: dollar,
        variable: name,
        message: `environment variable ${name} is not set and has no default`,
      })
    }
  }
  return { value, whole: references === 1 && !literal, variables, problems }
}

/**
 * Substitutes `${VAR}` / `${VAR:-default}` in a text (`$${` escapes a literal `${`). A reference to an unset
 * variable without a default throws `GW_ERR_CONFIG` naming the variable and its line; `options.line` is the
 * line number of the text's first line (1 unless the text is a fragment of a larger file).
 * `loadConfigFile` applies this to every string value of the parsed file, not to the raw text, so
 * substituted values can never change the document's structure and comments are left alone.
 *
 * @example
 * ```ts
 * substituteEnv('port: ${PORT:-3000}', { PORT: '8080' }) // 'port: 8080'
 * substituteEnv('url: ${USERS_SERVICE_URL}', {}) // throws: line 1: environment variable USERS_SERVICE_URL is not set ...
 * ```
 */
export function substituteEnv(text: string, env: EnvSource, options: { line?: number } = {}): string {
  const result = expandEnv(text, env)
  if (result.problems.length === 0) return result.value
  const first = options.line ?? 1
  const issues = result.problems.map((problem) => ({
    path: `line ${first + lineOffset(text, problem.index)}`,
    message: problem.message,
  }))
  throw coreErrors.config.create(issues.map((issue) => `${issue.path}: ${issue.message}`).join('\n'), {
    extensions: { issues },
  })
}

function lineOffset(text: string, index: number): number {
  let lines = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) lines++
  return lines
}
