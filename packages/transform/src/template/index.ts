import { type Exchange, principalKey } from '@gw/core'
import { transformErrors } from '../errors.js'

/**
 * Renders a compiled template for one request; `undefined` when a referenced value is missing and has no default.
 *
 * @example
 * ```ts
 * const render: TemplateFn = compileTemplate('${request.id}')
 * ```
 */
export type TemplateFn = (ex: Exchange) => string | undefined

/**
 * Environment variables as `process.env` holds them.
 *
 * @example
 * ```ts
 * compileTemplate('${env.REGION}', { env: { REGION: 'eu' } satisfies TemplateEnv })
 * ```
 */
export type TemplateEnv = Readonly<Record<string, string | undefined>>

/**
 * Options of {@link compileTemplate}.
 *
 * @example
 * ```ts
 * compileTemplate('/users/${principal.sub}', { encode: encodeURIComponent })
 * ```
 */
export interface CompileTemplateOptions {
  /** Source of `${env.VAR}` references, read once at compile time. Default `process.env`. */
  env?: TemplateEnv
  /** Applied to every substituted value (not to literal text), e.g. `encodeURIComponent` for paths. */
  encode?: (value: string) => string
}

type Getter = (ex: Exchange) => string | undefined

interface Reference {
  path: string[]
  fallback: string | undefined
}

type Part = string | Reference

const ROOTS = 'request.*, route.*, principal.*, env.VAR, time.iso, time.unix, time.ms'

/**
 * Compiles a template such as `user-${principal.sub}` once, at start-up, into a function of the exchange.
 * References: `request.id|method|path|url|host|ip|protocol`, `request.headers.NAME`, `request.query.NAME`,
 * `route.id|pattern|upstream`, `route.params.NAME`, `principal.sub|consumer|method|scopes`,
 * `principal.claims.A.B`, `env.VAR` (read once, here), `time.iso|unix|ms`. `${ref:-default}` supplies a
 * default; `$${` is a literal `${`. Without a default, a missing value makes the whole template render
 * `undefined` (callers then skip the operation). Throws `GW_ERR_TRANSFORM_TEMPLATE` for unknown references.
 *
 * @example
 * ```ts
 * const render = compileTemplate('${principal.sub:-anonymous}@${request.headers.x-tenant}')
 * render(ex) // 'u1@acme'
 * ```
 */
export function compileTemplate(source: string, options: CompileTemplateOptions = {}): TemplateFn {
  const env = options.env ?? process.env
  const encode = options.encode
  const parts = parseTemplate(source)
  const compiled: (string | Getter)[] = []
  for (const part of parts) {
    if (typeof part === 'string') {
      pushLiteral(compiled, part)
      continue
    }
    if (part.path[0] === 'env') {
      const value = env[part.path[1]!] ?? part.fallback
      if (value === undefined)
        throw transformErrors.template.create(
          `template '${source}': environment variable ${part.path[1]} is not set and has no default`,
        )
      pushLiteral(compiled, encode ? encode(value) : value)
      continue
    }
    const getter = resolveGetter(part.path, source)
    const fallback = part.fallback
    const encoded = encode ? encode : undefined
    compiled.push((ex) => {
      const value = getter(ex) ?? fallback
      return value === undefined || encoded === undefined ? value : encoded(value)
    })
  }
  if (compiled.length === 0) return () => ''
  if (compiled.length === 1) {
    const only = compiled[0]!
    if (typeof only === 'string') return () => only
    return only
  }
  if (compiled.length === 2) {
    const [a, b] = compiled as [string | Getter, string | Getter]
    if (typeof a === 'string' && typeof b !== 'string')
      return (ex) => {
        const v = b(ex)
        return v === undefined ? undefined : a + v
      }
    if (typeof a !== 'string' && typeof b === 'string')
      return (ex) => {
        const v = a(ex)
        return v === undefined ? undefined : v + b
      }
  }
  return (ex) => {
    let out = ''
    for (const part of compiled) {
      if (typeof part === 'string') out += part
      else {
        const v = part(ex)
        if (v === undefined) return undefined
        out += v
      }
    }
    return out
  }
}

/**
 * Whether a string contains template references (`${...}`, not counting `$${` literals).
 *
 * @example
 * ```ts
 * isTemplate('id-${request.id}') // true
 * isTemplate('plain') // false
 * ```
 */
export function isTemplate(source: string): boolean {
  return parseTemplate(source).some((p) => typeof p !== 'string')
}

/**
 * Returns the problems of a template (syntax and unknown references) without compiling it; used by the
 * option schemas so that a bad template fails validation with its path.
 *
 * @example
 * ```ts
 * templateProblems('${request.nope}') // ["unknown reference 'request.nope' (use request.*, ...)"]
 * ```
 */
export function templateProblems(source: string): string[] {
  try {
    for (const part of parseTemplate(source))
      if (typeof part !== 'string' && part.path[0] !== 'env') resolveGetter(part.path, source)
    return []
  } catch (error) {
    return [(error as Error).message]
  }
}

function pushLiteral(compiled: (string | Getter)[], text: string): void {
  if (text === '') return
  const last = compiled[compiled.length - 1]
  if (typeof last === 'string') compiled[compiled.length - 1] = last + text
  else compiled.push(text)
}

function parseTemplate(source: string): Part[] {
  const parts: Part[] = []
  let literal = ''
  let i = 0
  while (i < source.length) {
    const dollar = source.indexOf('$', i)
    if (dollar === -1) {
      literal += source.slice(i)
      break
    }
    literal += source.slice(i, dollar)
    if (source.startsWith('$${', dollar)) {
      literal += '${'
      i = dollar + 3
      continue
    }
    if (!source.startsWith('${', dollar)) {
      literal += '$'
      i = dollar + 1
      continue
    }
    const close = source.indexOf('}', dollar + 2)
    if (close === -1)
      throw transformErrors.template.create(
        `template '${source}': unterminated '\${' (write '$\${' for a literal)`,
      )
    const inner = source.slice(dollar + 2, close)
    const sep = inner.indexOf(':-')
    const name = sep === -1 ? inner : inner.slice(0, sep)
    if (!/^[A-Za-z_][\w-]*(\.[\w-]+)*$/.test(name))
      throw transformErrors.template.create(`template '${source}': invalid reference '\${${inner}}'`)
    if (literal !== '') parts.push(literal)
    literal = ''
    parts.push({ path: name.split('.'), fallback: sep === -1 ? undefined : inner.slice(sep + 2) })
    i = close + 1
  }
  if (literal !== '') parts.push(literal)
  return parts
}

function unknown(path: string[], source: string): never {
  throw transformErrors.template.create(
    `template '${source}': unknown reference '${path.join('.')}' (use ${ROOTS})`,
  )
}

function resolveGetter(path: string[], source: string): Getter {
  const [root, field, ...rest] = path
  const arg = rest.join('.')
  switch (root) {
    case 'env':
      if (field === undefined || rest.length > 0) unknown(path, source)
      return () => undefined
    case 'request':
      return requestGetter(field, rest, arg, path, source)
    case 'route':
      if (rest.length === 0) {
        if (field === 'id') return (ex) => ex.route.id
        if (field === 'pattern') return (ex) => ex.route.pattern
        if (field === 'upstream') return (ex) => ex.route.upstream
      }
      if (field === 'params' && rest.length === 1) return (ex) => ex.route.params[arg]
      return unknown(path, source)
    case 'principal':
      return principalGetter(field, rest, path, source)
    case 'time':
      if (rest.length === 0) {
        if (field === 'iso') return (ex) => new Date(ex.now()).toISOString()
        if (field === 'unix') return (ex) => String(Math.floor(ex.now() / 1000))
        if (field === 'ms') return (ex) => String(ex.now())
      }
      return unknown(path, source)
    default:
      return unknown(path, source)
  }
}

function requestGetter(
  field: string | undefined,
  rest: string[],
  arg: string,
  path: string[],
  source: string,
): Getter {
  if (rest.length === 0) {
    switch (field) {
      case 'id':
        return (ex) => ex.id
      case 'method':
        return (ex) => ex.request.method
      case 'path':
        return (ex) => ex.request.path
      case 'url':
        return (ex) => ex.request.url
      case 'host':
        return (ex) => ex.request.host
      case 'ip':
        return (ex) => ex.request.ip
      case 'protocol':
        return (ex) => ex.request.protocol
    }
  }
  if (field === 'headers' && rest.length === 1) {
    const name = arg.toLowerCase()
    return (ex) => {
      const value = ex.request.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    }
  }
  if (field === 'query' && rest.length === 1)
    return (ex) => (ex.request.search === '' ? undefined : (ex.request.query.get(arg) ?? undefined))
  return unknown(path, source)
}

function principalGetter(field: string | undefined, rest: string[], path: string[], source: string): Getter {
  if (rest.length === 0) {
    switch (field) {
      case 'sub':
      case 'subject':
        return (ex) => ex.get(principalKey)?.subject
      case 'consumer':
        return (ex) => ex.get(principalKey)?.consumer
      case 'method':
        return (ex) => ex.get(principalKey)?.method
      case 'scopes':
        return (ex) => ex.get(principalKey)?.scopes.join(' ')
    }
  }
  if (field === 'claims' && rest.length > 0) {
    return (ex) => {
      let value: unknown = ex.get(principalKey)?.claims
      for (const key of rest) {
        if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined
        value = (value as Record<string, unknown>)[key]
      }
      return scalar(value)
    }
  }
  return unknown(path, source)
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number'))
    return value.join(' ')
  return undefined
}
