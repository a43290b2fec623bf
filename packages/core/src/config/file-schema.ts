import { z } from 'zod'
import { type AdminConfig, type AdminInput, adminSchema } from '../admin/schema.js'
import { workersSchema } from '../cluster/schema.js'
import type { PolicyDefinition, PolicyMode } from '../policy/types.js'
import { type RouteBaseInput, routeBaseSchema } from '../router/schema.js'
import { type ServerConfig, type ServerInput, serverSchema } from '../server/schema.js'
import { type UpstreamConfig, upstreamSchema } from '../upstream/schema.js'
import { duration } from '../util/duration.js'
import { configErrorMap } from '../util/error-map.js'
import type { PolicyRegistry } from './registry.js'

/**
 * A policy entry as written in a file. `options` are kept exactly as written (after `${VAR}` substitution):
 * the file schema validates them against the policy's schema, and `toGatewayOptions` parses them once more
 * with `createEntry`, so transforms in a policy schema never run twice on their own output.
 */
export interface FilePolicyEntry {
  policy: string
  options?: unknown
  mode?: PolicyMode
  allowOutOfOrder?: boolean
}

/** A route as written in a file: the route fields of code configs plus policy entries; never a handler. */
export interface FileRouteInput extends RouteBaseInput {
  policies?: FilePolicyEntry[]
}

/** A route after validation. */
export type FileRoute = z.output<typeof routeBaseSchema> & { policies?: FilePolicyEntry[] }

/** A gateway file as written (YAML or JSON, after `${VAR}` substitution). */
export interface FileConfigInput {
  /** Editor hint (`./gw.schema.json`); ignored by gw. */
  $schema?: string
  server?: ServerInput
  /** The admin listener (operator endpoints). */
  admin?: AdminInput
  /** node:cluster workers for `gw start` (a count or `auto`). */
  workers?: number | 'auto'
  upstreams?: Record<string, z.input<typeof upstreamSchema>>
  policies?: FilePolicyEntry[]
  routes: FileRouteInput[]
  resources?: ResourcesInput
}

/** A gateway file after validation: server and upstream defaults applied, policy options as written. */
export interface FileConfig {
  $schema?: string
  server?: ServerConfig
  admin?: AdminConfig
  workers?: number | 'auto'
  upstreams?: Record<string, UpstreamConfig>
  policies?: FilePolicyEntry[]
  routes: FileRoute[]
  resources?: ResourcesConfig
}

const redisNodeSchema = z.union([
  z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, "expected 'host:port'")
    .describe("A node as 'host:port'."),
  z.strictObject({
    host: z.string().min(1).describe('Node host name or address.'),
    port: z.number().int().min(1).max(65_535).default(6379).describe('Node port.'),
  }),
])

/**
 * The `resources.redis` section of a gateway file: one Redis client (standalone, or a Cluster with `cluster`)
 * that the app (`gw start`) creates with ioredis and passes to `createGateway({ resources: { redis } })` for
 * the policies that use a Redis store. Commands fail fast while Redis is unreachable (no offline queue, no
 * per-command retries), so each policy follows its `onStoreError` setting instead of queueing.
 *
 * @example
 * ```ts
 * redisResourceSchema.parse({ url: 'redis://127.0.0.1:6379/0' }).connectTimeout // 10000
 * ```
 */
export const redisResourceSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^rediss?:\/\//, "expected a 'redis://' or 'rediss://' URL")
      .optional()
      .describe(
        'Connection URL `redis[s]://[user:password@]host:port[/db]` (`rediss` is TLS). Instead of host/port/username/password/db.',
      ),
    host: z.string().min(1).optional().describe('Redis host. Default `127.0.0.1`.'),
    port: z.number().int().min(1).max(65_535).optional().describe('Redis port. Default 6379.'),
    username: z.string().optional().describe('ACL user name.'),
    password: z
      .string()
      .optional()
      .describe('Password; substitute it from an environment variable rather than writing it in the file.'),
    db: z.number().int().min(0).optional().describe('Database number (standalone only). Default 0.'),
    tls: z.boolean().default(false).describe('Connect with TLS (system CAs, server name checked).'),
    cluster: z
      .array(redisNodeSchema)
      .nonempty()
      .optional()
      .describe('Redis Cluster seed nodes; username, password and tls apply to every node.'),
    connectTimeout: duration().default(10_000).describe('Time allowed to open a connection.'),
  })
  .superRefine((value, ctx) => {
    const clash = (key: string, message: string): void => {
      ctx.addIssue({ code: 'custom', path: [key], message, input: value })
    }
    if (value.url !== undefined) {
      for (const key of ['host', 'port', 'username', 'password', 'db'] as const)
        if (value[key] !== undefined) clash(key, `set either url or ${key}, not both`)
      if (value.cluster !== undefined) clash('cluster', 'set either url or cluster, not both')
    }
    if (value.cluster !== undefined) {
      for (const key of ['host', 'port', 'db'] as const)
        if (value[key] !== undefined) clash(key, `a cluster takes its nodes from cluster, not ${key}`)
    }
  })
  .describe('A shared Redis client for the Redis stores of rate-limit, concurrency-limit, cache and api-key.')

/**
 * The `resources` section of a gateway file: the shared, app-owned resources a file-configured gateway
 * gets (code configs pass them to `createGateway({ resources, telemetry })` directly). `toGatewayOptions`
 * leaves them out; the app (`gw start`) builds them.
 *
 * @example
 * ```ts
 * resourcesSchema.parse({ redis: { host: 'redis' }, metrics: { prefix: 'edge_' } })
 * ```
 */
export const resourcesSchema = z
  .strictObject({
    redis: redisResourceSchema.optional(),
    metrics: z
      .union([z.boolean(), z.record(z.string(), z.unknown())])
      .optional()
      .describe(
        "Prometheus telemetry from @gw/metrics: true, false, or createPrometheusTelemetry's options. Default: on when the file uses the 'metrics' policy.",
      ),
  })
  .describe('Shared resources that gw start creates: a Redis client and the Prometheus telemetry.')

/** The `resources` section as written. */
export type ResourcesInput = z.input<typeof resourcesSchema>
/** The `resources` section after validation. */
export type ResourcesConfig = z.output<typeof resourcesSchema>

type Target = 'validate' | 'document'

/**
 * Builds the root zod schema of a gateway file from the registered policies. Policy entries are
 * discriminated by `policy`; unknown keys are errors everywhere; cross-field rules (routes name a defined
 * upstream, route ids are unique) are checked even when other parts of the file are invalid, so one run
 * reports every problem. Parse with {@link configErrorMap} for the short messages gw prints.
 *
 * @example
 * ```ts
 * const schema = buildConfigSchema(createPolicyRegistry([rateLimit]))
 * const result = schema.safeParse(yaml.parse(text), { error: configErrorMap })
 * if (!result.success) console.error(formatIssues(collectIssues(result.error)))
 * ```
 */
export function buildConfigSchema(registry: PolicyRegistry): z.ZodType<FileConfig, FileConfigInput> {
  return buildSchema(registry, 'validate')
}

/**
 * The JSON Schema (draft 2020-12) of gateway files, for editors (`yaml-language-server`, VS Code `json.schemas`).
 * It describes the input side (defaults never make a field required) and keeps every `.describe()` text,
 * policy options included. Numbers and booleans also accept a whole `${VAR}` / `${VAR:-default}` string,
 * since gw converts those after substitution. Types JSON Schema cannot express become `{}`.
 *
 * @example
 * ```ts
 * writeFileSync('gw.schema.json', JSON.stringify(configJsonSchema(registry), null, 2))
 * ```
 */
export function configJsonSchema(registry: PolicyRegistry): z.core.JSONSchema.BaseSchema {
  const schema = z.toJSONSchema(buildSchema(registry, 'document'), {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    override: ({ jsonSchema }) => allowEnvReference(jsonSchema),
  })
  simplify(schema)
  return schema
}

/**
 * Matches a string value that is exactly one `${VAR}` / `${VAR:-default}` reference; the JSON Schema accepts
 * such strings wherever a number or boolean is expected.
 *
 * @example
 * ```ts
 * new RegExp(ENV_REFERENCE_PATTERN).test('${PORT:-3000}') // true
 * ```
 */
export const ENV_REFERENCE_PATTERN = '^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$'

function allowEnvReference(schema: z.core.JSONSchema.BaseSchema): void {
  if (schema.type !== 'number' && schema.type !== 'integer' && schema.type !== 'boolean') return
  const { description, title, default: fallback, examples, ...typed } = schema
  for (const key of Object.keys(typed)) delete schema[key]
  schema.anyOf = [
    typed,
    { type: 'string', pattern: ENV_REFERENCE_PATTERN, description: 'An environment variable reference.' },
  ]
  if (description !== undefined) schema.description = description
  if (title !== undefined) schema.title = title
  if (fallback !== undefined) schema.default = fallback
  if (examples !== undefined) schema.examples = examples
}

function simplify(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) simplify(item)
    return
  }
  if (typeof node !== 'object' || node === null) return
  const schema = node as z.core.JSONSchema.BaseSchema
  for (const value of Object.values(schema)) simplify(value)
  if (!Array.isArray(schema.anyOf)) return
  let branches = schema.anyOf.flatMap((branch) =>
    typeof branch === 'object' && Object.keys(branch).length === 1 && Array.isArray(branch.anyOf)
      ? branch.anyOf
      : [branch],
  )
  const anyString = branches.some(
    (b) => typeof b === 'object' && b.type === 'string' && Object.keys(b).length === 1,
  )
  if (anyString)
    branches = branches.filter((b) => typeof b !== 'object' || b.pattern !== ENV_REFERENCE_PATTERN)
  if (branches.length === 1 && typeof branches[0] === 'object') {
    delete schema.anyOf
    for (const [key, value] of Object.entries(branches[0])) if (!(key in schema)) schema[key] = value
  } else schema.anyOf = branches
}

function buildSchema(registry: PolicyRegistry, target: Target): z.ZodType<FileConfig, FileConfigInput> {
  const entry = entrySchema(registry, target)
  const entries = (description: string) => z.array(entry).optional().describe(description)
  const route = routeBaseSchema.extend({
    policies: entries('Route-level policies, run after the gateway-level ones, in this order.'),
  })
  const root = z
    .strictObject({
      $schema: z.string().optional().describe('JSON Schema of this file, for editors; ignored by gw.'),
      server: serverSchema.optional(),
      admin: adminSchema.optional(),
      workers: workersSchema.optional(),
      upstreams: z
        .record(
          z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'upstream names are letters, digits, _ . and -'),
          upstreamSchema,
        )
        .optional()
        .describe('Upstream services by name; routes refer to them with `upstream: <name>`.'),
      policies: entries('Gateway-level policies, run first on every route (and on unmatched requests).'),
      routes: z.array(route).describe('Routes, matched by path, method and host.'),
      resources: resourcesSchema.optional(),
    })
    .superRefine(checkReferences, { when: () => true })
  return target === 'document'
    ? root.meta({
        title: 'gw gateway configuration',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: gw's own ${VAR} syntax, not a template
        description: 'A gw gateway file (YAML or JSON). Strings may use ${VAR} and ${VAR:-default}.',
      })
    : root
}

function entrySchema(registry: PolicyRegistry, target: Target): z.ZodType<FilePolicyEntry, FilePolicyEntry> {
  const known = registry.size > 0 ? [...registry.keys()].join(', ') : ''
  const message = (input: unknown): string => {
    const policy = isRecord(input) ? input.policy : undefined
    const list = known ? `known: ${known}` : 'no policies are registered'
    if (policy === undefined) return `required (${list})`
    if (typeof policy !== 'string') return `expected a policy name, received ${typeof policy}`
    return `unknown policy '${policy}' (${list})`
  }
  const branches = [...registry.values()].map((definition) => entryBranch(definition, target))
  const [first, ...rest] = branches
  if (first === undefined) {
    return z
      .looseObject({ policy: z.string().describe('Name of a registered policy.') })
      .superRefine((value, ctx) => {
        ctx.addIssue({ code: 'custom', path: ['policy'], message: message(value), input: value })
      }) as z.ZodType<FilePolicyEntry, FilePolicyEntry>
  }
  return z.discriminatedUnion('policy', [first, ...rest], {
    error: (issue) => (issue.code === 'invalid_union' ? message(issue.input) : undefined),
  })
}

function entryBranch(definition: PolicyDefinition, target: Target) {
  return z
    .strictObject({
      policy: z.literal(definition.name).describe('Name of the policy.'),
      options: target === 'document' ? definition.schema.optional() : optionsOf(definition),
      mode: z
        .enum(['enforce', 'report'])
        .optional()
        .describe(
          "'report' logs and counts what the policy would deny and lets the request through. Default 'enforce'.",
        ),
      allowOutOfOrder: z
        .boolean()
        .optional()
        .describe('Skip the start-up order checks for this entry (logged as a warning). Default false.'),
    })
    .describe(definition.description ?? `The '${definition.name}' policy (stage ${definition.stage}).`)
}

function optionsOf(definition: PolicyDefinition) {
  return z
    .unknown()
    .default({})
    .superRefine((value, ctx) => {
      const result = definition.schema.safeParse(value ?? {}, { error: configErrorMap })
      if (result.success) return
      for (const issue of result.error.issues) ctx.addIssue({ ...issue })
    })
}

function checkReferences(value: unknown, ctx: z.RefinementCtx<unknown>): void {
  for (const { path, message } of referenceProblems(value))
    ctx.addIssue({ code: 'custom', path, message, input: value })
}

/**
 * The cross-field rules of a gateway file, on any (possibly invalid) value: every route names an upstream
 * (or a split), the upstreams it names (split and mirror included) are defined, explicit route ids are unique. zod skips root refinements once a nested value was
 * rejected outright (an `.int()` check, say), so the loader also runs this on the raw file to report these
 * problems in the same pass.
 *
 * @example
 * ```ts
 * referenceProblems({ upstreams: {}, routes: [{ path: '/', upstream: 'users' }] })
 * // [{ path: ['routes', 0, 'upstream'], message: "unknown upstream 'users' (defined: none)" }]
 * ```
 */
export function referenceProblems(value: unknown): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = []
  if (!isRecord(value) || !Array.isArray(value.routes)) return problems
  const defined = isRecord(value.upstreams) ? Object.keys(value.upstreams) : []
  const ids = new Map<string, number>()
  value.routes.forEach((route: unknown, index) => {
    if (!isRecord(route)) return
    const { upstream, id, split, mirror } = route
    const unknown = (name: unknown, path: (string | number)[]): void => {
      if (typeof name === 'string' && !defined.includes(name))
        problems.push({
          path,
          message: `unknown upstream '${name}' (defined: ${defined.length > 0 ? defined.join(', ') : 'none'})`,
        })
    }
    if (upstream === undefined && split === undefined) {
      problems.push({
        path: ['routes', index, 'upstream'],
        message:
          'required: a route in a config file must name an upstream (local handlers can only be defined in code)',
      })
    } else if (upstream !== undefined && split !== undefined) {
      problems.push({
        path: ['routes', index, 'split'],
        message: 'a route has either an upstream or a split',
      })
    }
    unknown(upstream, ['routes', index, 'upstream'])
    if (Array.isArray(split))
      split.forEach((branch: unknown, b) => {
        if (isRecord(branch)) unknown(branch.upstream, ['routes', index, 'split', b, 'upstream'])
      })
    if (isRecord(mirror)) unknown(mirror.upstream, ['routes', index, 'mirror', 'upstream'])
    if (typeof id !== 'string') return
    const previous = ids.get(id)
    if (previous === undefined) ids.set(id, index)
    else
      problems.push({
        path: ['routes', index, 'id'],
        message: `duplicate route id '${id}' (also used by routes[${previous}])`,
      })
  })
  return problems
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
