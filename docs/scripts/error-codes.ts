import { POLICY_PACKAGES } from '@gw/cli'
import { coreErrors } from '@gw/core'

interface Spec {
  code: string
  status: number
  title: string
}

const isSpec = (value: unknown): value is Spec =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Spec).code === 'string' &&
  (value as Spec).code.startsWith('GW_ERR_') &&
  typeof (value as Spec).status === 'number'

/** The entries of an error catalogue made by `defineErrors`. */
function entries(catalogue: object): Spec[] {
  return Object.values(catalogue).filter(isSpec)
}

/**
 * Renders the table of every `GW_ERR_*` code of @gw/core and of each gw package's error catalogue (the
 * `*Errors` export of its `errors.ts`): code, HTTP status, title, package. Codes with a status of 500 or more
 * that only occur at start-up are still listed: the gateway refuses to start with them.
 *
 * @example
 * ```ts
 * injectOptionsTable(markdown, 'error-codes', await renderErrorCodesTable())
 * ```
 */
export async function renderErrorCodesTable(): Promise<string> {
  const rows: string[] = ['| code | status | title | package |', '| --- | --- | --- | --- |']
  const add = (pkg: string, specs: Spec[]): void => {
    for (const spec of specs) rows.push(`| \`${spec.code}\` | ${spec.status} | ${spec.title} | ${pkg} |`)
  }
  add('@gw/core', entries(coreErrors))
  for (const pkg of POLICY_PACKAGES) {
    const mod = (await import(pkg)) as Record<string, unknown>
    const catalogue = Object.entries(mod).find(
      ([name, value]) => name.endsWith('Errors') && typeof value === 'object',
    )
    if (catalogue === undefined) throw new Error(`${pkg} exports no *Errors catalogue`)
    add(pkg, entries(catalogue[1] as object))
  }
  return rows.join('\n')
}
