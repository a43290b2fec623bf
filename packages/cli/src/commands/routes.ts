import { resolve } from 'node:path'
import { type FileConfig, type FileRoute, loadConfigFile } from '@gw/core/config'
import type { CliContext } from '../run-cli.js'
import { loadRegistry } from './load-registry.js'

/** One row of `gw routes`: a route as the gateway will match and serve it. */
export interface RouteRow {
  /** The route id used in logs and metric labels (`id`, else `METHODS path@host`). */
  id: string
  /** Methods served; `undefined` means every method but TRACE. */
  methods: string[] | undefined
  host: string | undefined
  path: string
  /** The upstream, or `undefined` with a split. */
  upstream: string | undefined
  split: { upstream: string; weight: number }[] | undefined
  mirror: { upstream: string; percent: number } | undefined
  /** Route-level policies in run order (after the gateway-level ones), `name (report)` for report mode. */
  policies: string[]
}

/** What `gw routes --json` prints. */
export interface RouteTable {
  file: string
  /** Gateway-level policies, run first on every route. */
  policies: string[]
  routes: RouteRow[]
}

/**
 * `gw routes <file> [--json]`: loads and validates the file like `gw validate`, then prints the route table
 * (id, methods, host, path, upstream or split, policies) as aligned text, or as JSON with `--json`.
 *
 * @example
 * ```ts
 * const code = await runRoutes('gateway.yaml', { io, plugins: [] }, { json: true })
 * ```
 */
export async function runRoutes(file: string, ctx: CliContext, options: { json: boolean }): Promise<number> {
  const registry = await loadRegistry(ctx)
  const { config } = loadConfigFile(resolve(ctx.io.cwd, file), { registry, env: ctx.io.env })
  const table = routeTable(file, config)
  ctx.io.stdout(options.json ? `${JSON.stringify(table, null, 2)}\n` : renderRouteTable(table))
  return 0
}

/**
 * The route table of a validated gateway file.
 *
 * @example
 * ```ts
 * routeTable('gw.yaml', config).routes[0]?.id // 'users'
 * ```
 */
export function routeTable(file: string, config: FileConfig): RouteTable {
  return {
    file,
    policies: (config.policies ?? []).map(entryLabel),
    routes: config.routes.map(toRow),
  }
}

/**
 * Renders a route table as aligned text columns, with the gateway-level policies on the first line.
 *
 * @example
 * ```ts
 * process.stdout.write(renderRouteTable(routeTable('gw.yaml', config)))
 * ```
 */
export function renderRouteTable(table: RouteTable): string {
  const header = ['ID', 'METHODS', 'HOST', 'PATH', 'UPSTREAM', 'POLICIES']
  const rows = table.routes.map((route) => [
    route.id,
    route.methods?.join(',') ?? '*',
    route.host ?? '*',
    route.path,
    target(route),
    route.policies.join(', ') || '-',
  ])
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd()
  const gateway = table.policies.length > 0 ? table.policies.join(', ') : 'none'
  const count = `${table.routes.length} ${table.routes.length === 1 ? 'route' : 'routes'}`
  return `${table.file}: ${count}; gateway policies: ${gateway}\n${[header, ...rows].map(line).join('\n')}\n`
}

function target(route: RouteRow): string {
  const main =
    route.split?.map((branch) => `${branch.upstream}:${branch.weight}`).join(' ') ?? route.upstream ?? '-'
  return route.mirror === undefined
    ? main
    : `${main} (mirror ${route.mirror.upstream} ${route.mirror.percent}%)`
}

function entryLabel(entry: { policy: string; mode?: string }): string {
  return entry.mode === 'report' ? `${entry.policy} (report)` : entry.policy
}

function toRow(route: FileRoute): RouteRow {
  const methods = route.methods === undefined ? undefined : [...route.methods]
  return {
    id:
      route.id ??
      (methods ? `${methods.join(',')} ${route.path}` : route.path) + (route.host ? `@${route.host}` : ''),
    methods,
    host: route.host,
    path: route.path,
    upstream: route.upstream,
    split: route.split?.map(({ upstream, weight }) => ({ upstream, weight })),
    mirror:
      route.mirror === undefined
        ? undefined
        : { upstream: route.mirror.upstream, percent: route.mirror.percent },
    policies: (route.policies ?? []).map(entryLabel),
  }
}
