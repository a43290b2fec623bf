// biome-ignore-all lint/suspicious/noTemplateCurlyInString: gw's own ${VAR} syntax in the generated text
import { POLICY_PACKAGES } from '@gw/cli'
import type { PolicyDefinition } from '@gw/core'
import { buildConfigSchema, createPolicyRegistry, isPolicyLike, renderOptionsTable } from '@gw/core/config'
import { prometheusTelemetrySchema } from '@gw/metrics'

type AnySchema = Parameters<typeof renderOptionsTable>[0]
interface Def {
  type: string
  innerType?: AnySchema
  shape?: Record<string, AnySchema>
  element?: AnySchema
  valueType?: AnySchema
  options?: AnySchema[]
}

const def = (schema: AnySchema): Def => schema._zod.def as unknown as Def
const described = (schema: AnySchema): string => (schema as { description?: string }).description ?? ''

function unwrap(schema: AnySchema): AnySchema {
  let current = schema
  for (
    let d = def(current);
    d.innerType && ['optional', 'default', 'prefault'].includes(d.type);
    d = def(current)
  )
    current = d.innerType
  return current
}

/** The policy definitions each installed gw package exports as `policies`, in POLICY_PACKAGES order. */
async function packagePolicies(): Promise<{ pkg: string; definitions: PolicyDefinition[] }[]> {
  const out: { pkg: string; definitions: PolicyDefinition[] }[] = []
  for (const pkg of POLICY_PACKAGES) {
    const mod = (await import(pkg)) as { policies: readonly unknown[] }
    const definitions = mod.policies.filter(isPolicyLike).map((p) => ('definition' in p ? p.definition : p))
    out.push({ pkg, definitions: definitions as PolicyDefinition[] })
  }
  return out
}

/**
 * Renders docs/configuration-reference.md from the zod schemas: the root gateway-file schema (every top-level
 * section, so new ones appear on regeneration), the Prometheus telemetry options of `resources.metrics`, and
 * the options of every policy of every gw package.
 *
 * @example
 * ```ts
 * writeFileSync('docs/configuration-reference.md', await renderConfigurationReference())
 * ```
 */
export async function renderConfigurationReference(): Promise<string> {
  const packages = await packagePolicies()
  const registry = createPolicyRegistry(packages.flatMap((p) => p.definitions))
  const root = def(buildConfigSchema(registry) as unknown as AnySchema).shape ?? {}
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from the zod schemas by docs/scripts/configuration-reference.ts. Do not edit by hand. -->',
    '',
    'Every option of a gw gateway file (YAML or JSON) and of every policy of the gw packages, generated from the',
    'same zod schemas that validate them. [configuration.md](configuration.md) explains the file format,',
    '`${VAR}` substitution and loading files from code; each package README has examples.',
    '',
    'Regenerate after changing a schema: `pnpm --filter @gw/docs docs` (CI runs `docs/test/configuration-reference.test.ts`,',
    'which fails when this file differs from what the schemas produce).',
    '',
    'Durations accept milliseconds or `250ms`, `5s`, `15m`, `1h`, `1d`. Numbers and booleans may be a whole',
    '`${VAR}` / `${VAR:-default}` reference.',
    '',
    '## Top level',
    '',
    '| key | type | description |',
    '| --- | --- | --- |',
  ]
  for (const [key, schema] of Object.entries(root)) {
    const inner = unwrap(schema)
    const type = def(inner).type
    const required = def(schema).type !== 'optional' ? ' (required)' : ''
    out.push(`| \`${key}\`${required} | ${type} | ${described(schema) || described(inner)} |`)
  }
  const section = (title: string, text: string, schema: AnySchema): void => {
    out.push('', `## ${title}`, '', ...(text ? [text, ''] : []), renderOptionsTable(schema))
  }
  for (const [key, schema] of Object.entries(root)) {
    const inner = unwrap(schema)
    const d = def(inner)
    if (d.type === 'object') {
      section(`\`${key}\``, described(schema) || described(inner), inner)
    } else if (d.type === 'record' && d.valueType) {
      section(`\`${key}.<name>\``, described(schema), d.valueType)
    } else if (d.type === 'array' && d.element && key === 'routes') {
      section(`\`${key}[]\``, described(schema), d.element)
    }
  }
  out.push(
    '',
    '## Policy entries',
    '',
    'An item of `policies` (gateway level) or `routes[].policies` (route level):',
    '',
    entryTable(root),
    '',
    '## `resources.metrics` options (@gw/metrics)',
    '',
    "`resources.metrics` may be `true`, `false`, or these options of @gw/metrics' `createPrometheusTelemetry`.",
    '',
    renderOptionsTable(prometheusTelemetrySchema),
    '',
    '## Policies',
    '',
    'Each policy is used as `{ policy: <name>, options: {...} }`; a package must be installed for its policies to',
    'be known (`gw` then names it: "install @gw/cache to use policy \'cache\'").',
  )
  for (const { pkg, definitions } of packages) {
    out.push('', `### ${pkg}`)
    for (const definition of definitions) {
      out.push(
        '',
        `#### \`${definition.name}\``,
        '',
        `${definition.description ?? ''} Stage \`${definition.stage}\`.`.trim(),
        '',
        renderOptionsTable(definition.schema),
      )
    }
  }
  return `${out.join('\n')}\n`
}

function entryTable(root: Record<string, AnySchema>): string {
  const policies = root.policies
  const element = policies ? def(unwrap(policies)).element : undefined
  const branch = element ? def(element).options?.[0] : undefined
  const table = branch ? renderOptionsTable(branch) : ''
  return table
    .split('\n')
    .map((row) =>
      row.startsWith('| `policy`')
        ? '| `policy` (required) | string | Name of an installed policy (see [Policies](#policies)). |'
        : row.startsWith('| `options`')
          ? "| `options` | object | The policy's options (below); may be omitted when all have defaults. |"
          : row,
    )
    .join('\n')
}
