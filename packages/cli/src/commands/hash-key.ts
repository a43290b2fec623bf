import { importInstalled } from '../discover-policies.js'
import type { CliContext } from '../run-cli.js'

/**
 * `gw hash-key [key]`: prints the SHA-256 (lowercase hex) under which @gw/auth's `api-key` policy is
 * configured with a key, computed by @gw/auth's own `hashApiKey`. Reads the key from stdin when it is not an
 * argument (preferred: an argument lands in the shell history); one trailing newline is ignored. Exit 1 when
 * @gw/auth is not installed or the key is empty.
 *
 * @example
 * ```ts
 * const code = await runHashKey(undefined, { io, plugins: [] }, process.stdin)
 * ```
 */
export async function runHashKey(
  key: string | undefined,
  ctx: CliContext,
  stdin: AsyncIterable<unknown>,
): Promise<number> {
  const auth = await importInstalled<{ hashApiKey?: (key: string) => string }>('@gw/auth', ctx.io.cwd)
  if (typeof auth?.hashApiKey !== 'function') {
    ctx.io.stderr('gw: install @gw/auth to hash API keys\n')
    return 1
  }
  const value = key ?? (await readKey(stdin))
  if (value === '') {
    ctx.io.stderr('gw: empty key (pass it on stdin: gw hash-key < key.txt)\n')
    return 1
  }
  ctx.io.stdout(`${auth.hashApiKey(value)}\n`)
  return 0
}

async function readKey(input: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}
