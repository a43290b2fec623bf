import type { z } from 'zod'

type AnySchema = z.core.$ZodType
interface Def {
  type: string
  innerType?: AnySchema
  defaultValue?: unknown
  shape?: Record<string, AnySchema>
  in?: AnySchema
  options?: AnySchema[]
  element?: AnySchema
  entries?: Record<string, unknown>
  values?: unknown[]
  keyType?: AnySchema
  valueType?: AnySchema
}

interface Described {
  type: string
  defaultValue: unknown
  hasDefault: boolean
  optional: boolean
  description: string | undefined
  object: Record<string, AnySchema> | undefined
}

/**
 * Renders a markdown options table (option, type, default, description) from a zod object schema, descending
 * into nested objects as `parent.child` rows. Package READMEs embed these between
 * `<!-- options:NAME -->` / `<!-- /options:NAME -->` markers, and a test keeps them in sync.
 *
 * @example
 * ```ts
 * console.log(renderOptionsTable(upstreamSchema))
 * ```
 */
export function renderOptionsTable(schema: AnySchema): string {
  const rows: string[] = ['| option | type | default | description |', '| --- | --- | --- | --- |']
  const visit = (shape: Record<string, AnySchema>, prefix: string): void => {
    for (const [name, child] of Object.entries(shape)) {
      const info = describe(child)
      const required = !info.optional && !info.hasDefault
      const shownDefault = info.hasDefault && !info.object ? `\`${JSON.stringify(info.defaultValue)}\`` : ''
      rows.push(
        `| \`${prefix}${name}\`${required ? ' (required)' : ''} | ${info.type} | ${shownDefault} | ${escapeCell(info.description ?? '')} |`,
      )
      if (info.object) visit(info.object, `${prefix}${name}.`)
    }
  }
  const root = describe(schema)
  visit(root.object ?? {}, '')
  return rows.join('\n')
}

function describe(schema: AnySchema): Described {
  const out: Described = {
    type: 'any',
    defaultValue: undefined,
    hasDefault: false,
    optional: false,
    description: undefined,
    object: undefined,
  }
  let current: AnySchema | undefined = schema
  while (current) {
    out.description ??= (current as { description?: string }).description
    const def = current._zod.def as unknown as Def
    if (def.type === 'default' || def.type === 'prefault') {
      if (!out.hasDefault) {
        out.hasDefault = true
        out.defaultValue = def.defaultValue
      }
      current = def.innerType
    } else if (def.type === 'optional' || def.type === 'nullable' || def.type === 'readonly') {
      out.optional = true
      current = def.innerType
    } else if (def.type === 'pipe') {
      current = def.in
    } else {
      out.type = typeName(current)
      if (def.type === 'object') out.object = def.shape
      current = undefined
    }
  }
  return out
}

function typeName(schema: AnySchema): string {
  const def = schema._zod.def as unknown as Def
  switch (def.type) {
    case 'union':
      return [...new Set((def.options ?? []).map((o) => unwrapName(o)))].join(' \\| ')
    case 'array':
      return `${def.element ? unwrapName(def.element) : 'any'}[]`
    case 'enum':
      return Object.values(def.entries ?? {})
        .map((v) => `\`${JSON.stringify(v)}\``)
        .join(' \\| ')
    case 'literal':
      return (def.values ?? []).map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ')
    case 'record':
      return `record<string, ${def.valueType ? unwrapName(def.valueType) : 'any'}>`
    case 'number':
    case 'int':
      return 'number'
    default:
      return def.type
  }
}

function unwrapName(schema: AnySchema): string {
  return describe(schema).type
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

/**
 * Replaces the content between `<!-- options:NAME -->` and `<!-- /options:NAME -->` in a markdown text.
 *
 * @example
 * ```ts
 * const next = injectOptionsTable(readme, 'server', renderOptionsTable(serverSchema))
 * ```
 */
export function injectOptionsTable(markdown: string, name: string, table: string): string {
  const start = `<!-- options:${name} -->`
  const end = `<!-- /options:${name} -->`
  const from = markdown.indexOf(start)
  const to = markdown.indexOf(end)
  if (from === -1 || to === -1 || to < from) throw new Error(`markers for options table '${name}' not found`)
  return markdown.slice(0, from + start.length) + '\n' + table + '\n' + markdown.slice(to)
}
