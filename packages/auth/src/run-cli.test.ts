import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { hashApiKey } from './api-key/hash.js'
import { parseScryptHash, verifyPassword } from './basic/password.js'
import { runAuthCli } from './run-cli.js'

async function run(args: string[]) {
  const lines: string[] = []
  const code = await runAuthCli(args, (line) => lines.push(line))
  return { code, lines }
}

describe('gw-auth CLI', () => {
  it('hash-key prints the SHA-256 the api-key policy expects', async () => {
    expect(await run(['hash-key', 'gw_abc'])).toEqual({ code: 0, lines: [hashApiKey('gw_abc')] })
  })

  it('new-key prints a key and its matching hash', async () => {
    const { code, lines } = await run(['new-key'])
    expect(code).toBe(0)
    const key = lines[0]!.replace('key:    ', '')
    expect(lines[1]).toBe(`sha256: ${hashApiKey(key)}`)
  })

  it('prints usage and fails on an unknown command', async () => {
    const { code, lines } = await run(['nope'])
    expect(code).toBe(1)
    expect(lines[0]).toContain('Usage: gw-auth')
  })

  it('reads the password (and optionally the key) from stdin', async () => {
    const lines: string[] = []
    expect(await runAuthCli(['hash-password'], (l) => lines.push(l), Readable.from(['s3cret\n']))).toBe(0)
    expect(await verifyPassword('s3cret', parseScryptHash(lines[0]!)!)).toBe(true)
    expect(await runAuthCli(['hash-key'], (l) => lines.push(l), Readable.from(['gw_abc\n']))).toBe(0)
    expect(lines[1]).toBe(hashApiKey('gw_abc'))
    expect(await runAuthCli(['hash-password'], (l) => lines.push(l), Readable.from([]))).toBe(1)
  })
})
