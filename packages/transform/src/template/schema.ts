import { z } from '@gw/core'
import { templateProblems } from './index.js'

/**
 * A string option that may hold `${...}` references; validated (syntax, known references) with the options.
 *
 * @example
 * ```ts
 * const schema = z.object({ value: templateString('Header value') })
 * ```
 */
export function templateString(description: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      for (const message of templateProblems(value)) ctx.addIssue({ code: 'custom', message })
    })
    .describe(description)
}
