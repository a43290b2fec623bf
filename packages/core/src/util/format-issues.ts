import type { z } from 'zod'

/** One configuration problem: where (`routes[2].policies[0].options.limit`) and what. */
export interface ConfigIssue {
  path: string
  message: string
}

/**
 * Renders a zod path the way users write it: `routes[2].policies[0].options.limit`.
 *
 * @example
 * ```ts
 * formatPath(['routes', 2, 'policies', 0, 'options', 'limit']) // 'routes[2].policies[0].options.limit'
 * ```
 */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$-]*$/.test(segment))
      out += out ? `.${segment}` : segment
    else out += `[${JSON.stringify(String(segment))}]`
  }
  return out || '(root)'
}

/**
 * Flattens a zod error into path/message pairs, descending into union branches so that a bad option of a
 * policy entry is reported at its own path rather than as "invalid input".
 *
 * @example
 * ```ts
 * const r = schema.safeParse(input)
 * if (!r.success) for (const i of collectIssues(r.error)) console.error(`${i.path}: ${i.message}`)
 * ```
 */
export function collectIssues(error: z.ZodError, prefix = ''): ConfigIssue[] {
  const out: ConfigIssue[] = []
  const visit = (issues: readonly z.core.$ZodIssue[], base: readonly PropertyKey[]): void => {
    for (const issue of issues) {
      const path = [...base, ...issue.path]
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        const best = pickUnionBranch(issue.errors)
        if (best) {
          visit(best, path)
          continue
        }
      }
      out.push({ path: formatPath(path, prefix), message: issue.message })
    }
  }
  visit(error.issues, [])
  return out
}

function pickUnionBranch(
  branches: readonly (readonly z.core.$ZodIssue[])[],
): readonly z.core.$ZodIssue[] | undefined {
  let best: readonly z.core.$ZodIssue[] | undefined
  let bestDepth = -1
  for (const branch of branches) {
    const depth = Math.max(...branch.map((i) => i.path.length))
    if (depth > bestDepth) {
      best = branch
      bestDepth = depth
    }
  }
  return bestDepth > 0 ? best : undefined
}

/**
 * Formats issues as the lines the gateway prints before refusing to start.
 *
 * @example
 * ```ts
 * formatIssues([{ path: 'server.port', message: 'expected number' }]) // '  - server.port: expected number'
 * ```
 */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')
}
