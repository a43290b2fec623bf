import type { z } from 'zod'

/**
 * The zod error map used for gateway config files: short, lowercase messages that read well after a path,
 * e.g. `routes[2].policies[0].options.limit: expected number, received string`. Issues it does not know keep
 * zod's own message; messages set by a schema (refinements, custom errors) always win.
 *
 * @example
 * ```ts
 * const result = schema.safeParse(input, { error: configErrorMap })
 * ```
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'integer' : issue.expected
      if (issue.input === undefined) return `required (expected ${expected})`
      if (expected === 'integer' && typeof issue.input === 'number')
        return `expected integer, received ${issue.input}`
      return `expected ${expected}, received ${typeName(issue.input)}`
    }
    case 'invalid_value': {
      const expected = issue.values.map(show).join(' | ')
      return `expected ${expected}, received ${show(issue.input)}`
    }
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small'
      const bound = small ? issue.minimum : issue.maximum
      const op = issue.exact ? '' : small ? (issue.inclusive ? '>= ' : '> ') : issue.inclusive ? '<= ' : '< '
      const unit = SIZED[issue.origin]
      if (unit) {
        const word = issue.exact ? 'exactly' : small ? 'at least' : 'at most'
        return `expected ${word} ${String(bound)} ${bound === 1 ? unit[0] : unit[1]}`
      }
      const received = typeof issue.input === 'number' ? `, received ${issue.input}` : ''
      return `expected ${issue.origin === 'int' ? 'integer' : 'number'} ${op}${String(bound)}${received}`
    }
    case 'invalid_format': {
      if (issue.format === 'starts_with') return `must start with '${String(issue.prefix)}'`
      if (issue.format === 'ends_with') return `must end with '${String(issue.suffix)}'`
      if (issue.format === 'includes') return `must include '${String(issue.includes)}'`
      if (issue.format === 'regex') return `must match ${String(issue.pattern)}`
      return `expected a valid ${issue.format === 'url' ? 'URL' : issue.format}`
    }
    case 'invalid_union': {
      if (issue.errors.length === 0) return undefined
      const expected = issue.errors.map((branch) => {
        const only = branch.length === 1 ? branch[0] : undefined
        return only?.code === 'invalid_type' && only.path.length === 0 ? only.expected : undefined
      })
      if (expected.some((e) => e === undefined)) return undefined
      return `expected ${[...new Set(expected)].join(' | ')}, received ${typeName(issue.input)}`
    }
    case 'invalid_key':
      return issue.issues.length > 0 ? issue.issues.map((nested) => nested.message).join('; ') : undefined
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`
    default:
      return undefined
  }
}

const SIZED: Record<string, readonly [string, string]> = {
  string: ['character', 'characters'],
  array: ['item', 'items'],
  set: ['item', 'items'],
  map: ['entry', 'entries'],
  file: ['byte', 'bytes'],
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN'
  return typeof value
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'bigint') return `${value}n`
  if (value === undefined || value === null || typeof value !== 'object') return String(value)
  return typeName(value)
}
