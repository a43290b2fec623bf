import { compress } from './compress/index.js'
import { requestHeaders, responseHeaders } from './headers/index.js'
import { jsonBody } from './json-body/index.js'
import { rewrite } from './rewrite/index.js'

export * from './compress/index.js'
export { transformErrors } from './errors.js'
export * from './headers/index.js'
export * from './json-body/index.js'
export * from './rewrite/index.js'
export {
  type CompileTemplateOptions,
  compileTemplate,
  isTemplate,
  type TemplateEnv,
  type TemplateFn,
  templateProblems,
} from './template/index.js'
export { templateString } from './template/schema.js'

/**
 * Every policy of @gw/transform, for config-file registries and the `gw` CLI.
 *
 * @example
 * ```ts
 * const registry = createPolicyRegistry([...policies])
 * ```
 */
export const policies = [requestHeaders, responseHeaders, rewrite, jsonBody, compress]
