/**
 * Macro expansion (`%{TX.score}`, `%{MATCHED_VAR}`, `%{REQUEST_HEADERS.host}`): strings with macros are split
 * into literal and variable parts once, at start-up; expansion only looks values up.
 */

/** Where macros read their values (the transaction). */
export interface MacroHost {
  /** The first value of `collection` (upper-case) at `key` (as written), or '' when there is none. */
  macroValue(collection: string, key: string | undefined): string
}

/** A string that may contain macros, compiled. */
export interface Macro {
  /** The text as written. */
  readonly text: string
  /** True when the text has no macro (then `expand` returns `text`). */
  readonly constant: boolean
  expand(host: MacroHost): string
}

type Part = string | { collection: string; key: string | undefined }

const MACRO = /%\{([^}]+)\}/g

/**
 * Compiles a string with `%{...}` macros.
 *
 * @example
 * ```ts
 * compileMacro('score=%{tx.anomaly_score}').expand({ macroValue: () => '5' }) // 'score=5'
 * ```
 */
export function compileMacro(text: string): Macro {
  if (text.indexOf('%{') === -1) return { text, constant: true, expand: () => text }
  const parts: Part[] = []
  let last = 0
  for (const m of text.matchAll(MACRO)) {
    if (m.index > last) parts.push(text.slice(last, m.index))
    const ref = m[1]!.trim()
    const dot = ref.search(/[.:]/)
    parts.push(
      dot === -1
        ? { collection: ref.toUpperCase(), key: undefined }
        : { collection: ref.slice(0, dot).toUpperCase(), key: ref.slice(dot + 1) },
    )
    last = m.index + m[0].length
  }
  if (last < text.length) parts.push(text.slice(last))
  if (parts.length === 1 && typeof parts[0] !== 'string') {
    const only = parts[0]!
    return { text, constant: false, expand: (host) => host.macroValue(only.collection, only.key) }
  }
  return {
    text,
    constant: false,
    expand(host) {
      let out = ''
      for (const part of parts)
        out += typeof part === 'string' ? part : host.macroValue(part.collection, part.key)
      return out
    },
  }
}
