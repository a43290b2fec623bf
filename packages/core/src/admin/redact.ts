/**
 * The replacement for redacted values.
 *
 * @example
 * ```ts
 * redactConfig({ token: 't' }) // { token: REDACTED }
 * ```
 */
export const REDACTED = '[redacted]'

const SECRET_NAME =
  /(secret|secrets|password|passwordhash|passwd|passphrase|token|tokens|credential|credentials|authorization|cookie|apikey|apikeys|key|keys|pfx)$/

/**
 * Whether a config key names a secret: it ends in secret, password, passphrase, token, credential,
 * authorization, cookie or key (api key, private key, TLS `key`), or is `pfx`. Case, `-` and `_` are ignored
 * (`x-api-key`, `API_KEY`, `jwtSecret` all match; `keyBy`, `tokenFrom` do not).
 *
 * @example
 * ```ts
 * isSecretName('apiKey') // true
 * isSecretName('keyBy') // false
 * ```
 */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name.toLowerCase().replaceAll(/[-_]/g, ''))
}

/**
 * A JSON-safe copy of a config with secret values (strings, byte arrays and lists under a secret name; not
 * flags or numbers such as `credentials: true`) replaced by `[redacted]`: functions show as `[function]`,
 * buffers as `[binary]`, policy entries as `{ policy, mode, options }`, ready upstream objects as
 * `[custom upstream]`. Cycles are cut.
 *
 * @example
 * ```ts
 * redactConfig({ admin: { port: 9901, apiKey: 'k' } }) // { admin: { port: 9901, apiKey: '[redacted]' } }
 * ```
 */
export function redactConfig(value: unknown): unknown {
  return walk(value, new WeakSet())
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'function') return '[function]'
  if (typeof value === 'bigint') return value.toString()
  if (value === null || typeof value !== 'object') return value
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return '[binary]'
  if (value instanceof RegExp) return value.toString()
  if (value instanceof URL) return value.href
  if (seen.has(value)) return '[circular]'
  seen.add(value)
  if (Array.isArray(value)) return value.map((item) => walk(item, seen))
  const record = value as Record<string, unknown>
  const definition = record.definition as { name?: unknown } | undefined
  if (definition !== undefined && typeof definition.name === 'string' && 'options' in record) {
    return { policy: definition.name, mode: record.mode, options: walk(record.options, seen) }
  }
  if (typeof record.forward === 'function') return '[custom upstream]'
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(record)) {
    if (item === undefined) continue
    out[key] = isSecretName(key) && isSecretValue(item) ? REDACTED : walk(item, seen)
  }
  return out
}

/** Strings, byte arrays and lists can hold secrets; flags, numbers and nested objects (walked instead) cannot. */
function isSecretValue(value: unknown): boolean {
  if (typeof value === 'string') return value !== ''
  return Array.isArray(value) || Buffer.isBuffer(value) || ArrayBuffer.isView(value)
}
