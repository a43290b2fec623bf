import { generateApiKey, hashApiKey } from './api-key/hash.js'
import { hashPassword } from './basic/password.js'

const USAGE = `Usage: gw-auth <command>

  new-key           generate a random API key and print it with its SHA-256 hash
  hash-key [key]    print the SHA-256 hash of an API key (read from stdin when omitted)
  hash-password     print the scrypt hash of a password read from stdin (for the basic policy)

Put hashes in the gateway config; give keys and passwords only to their owners.
`

async function readAll(input: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of input) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/**
 * Runs the `gw-auth` command line and returns the exit code.
 *
 * @example
 * ```ts
 * await runAuthCli(['hash-key', 'gw_abc'], (line) => console.log(line))
 * ```
 */
export async function runAuthCli(
  args: readonly string[],
  print: (line: string) => void,
  stdin: AsyncIterable<unknown> = process.stdin,
): Promise<number> {
  const [command, value] = args
  if (command === 'new-key') {
    const { key, sha256 } = generateApiKey()
    print(`key:    ${key}`)
    print(`sha256: ${sha256}`)
    return 0
  }
  if (command === 'hash-key') {
    const key = value ?? (await readAll(stdin))
    if (key === '') {
      print('gw-auth: empty key')
      return 1
    }
    print(hashApiKey(key))
    return 0
  }
  if (command === 'hash-password') {
    const password = await readAll(stdin)
    if (password === '') {
      print('gw-auth: empty password')
      return 1
    }
    print(await hashPassword(password))
    return 0
  }
  print(USAGE)
  return command === undefined || command === 'help' || command === '--help' ? 0 : 1
}
