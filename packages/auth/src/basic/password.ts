import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * A parsed scrypt password hash.
 *
 * @example
 * ```ts
 * const parsed: ScryptHash | undefined = parseScryptHash(stored)
 * ```
 */
export interface ScryptHash {
  readonly cost: number
  readonly blockSize: number
  readonly parallelization: number
  readonly salt: Buffer
  readonly hash: Buffer
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/

/**
 * Parses a scrypt hash in PHC string format (`$scrypt$ln=15,r=8,p=1$<salt>$<hash>`, base64); undefined when
 * it is not one or its parameters are unsafe (cost below 2^14, salt under 16 bytes, hash under 32 bytes).
 *
 * @example
 * ```ts
 * parseScryptHash(await hashPassword('s3cret'))?.cost // 32768
 * ```
 */
export function parseScryptHash(value: string): ScryptHash | undefined {
  const match = PHC.exec(value)
  if (!match) return undefined
  const ln = Number(match[1])
  const parsed: ScryptHash = {
    cost: 2 ** ln,
    blockSize: Number(match[2]),
    parallelization: Number(match[3]),
    salt: Buffer.from(match[4]!, 'base64'),
    hash: Buffer.from(match[5]!, 'base64'),
  }
  if (ln < 14 || ln > 22 || parsed.salt.length < 16 || parsed.hash.length < 32) return undefined
  return parsed
}

/**
 * Hashes a password with scrypt (node:crypto) into a PHC string for the `basic` policy's `users`.
 * From a shell: `npx gw-auth hash-password` (reads the password from stdin).
 *
 * @example
 * ```ts
 * const passwordHash = await hashPassword('correct horse battery staple')
 * // '$scrypt$ln=15,r=8,p=1$...$...'
 * ```
 */
export async function hashPassword(password: string, options: { log2Cost?: number } = {}): Promise<string> {
  const ln = options.log2Cost ?? 15
  const salt = randomBytes(16)
  const hash = await derive(password, {
    cost: 2 ** ln,
    blockSize: 8,
    parallelization: 1,
    salt,
    hash: Buffer.alloc(32),
  })
  return `$scrypt$ln=${ln},r=8,p=1$${salt.toString('base64')}$${hash.toString('base64')}`
}

/**
 * Checks a password against a parsed hash in constant time (the comparison; scrypt itself dominates).
 *
 * @example
 * ```ts
 * await verifyPassword('s3cret', parseScryptHash(stored)!) // true
 * ```
 */
export async function verifyPassword(password: string, stored: ScryptHash): Promise<boolean> {
  const derived = await derive(password, stored)
  return timingSafeEqual(derived, stored.hash)
}

function derive(password: string, params: ScryptHash): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.cost,
    r: params.blockSize,
    p: params.parallelization,
    maxmem: 256 * params.cost * params.blockSize + 1024 * 1024,
  }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), params.salt, params.hash.length, options, (error, key) =>
      error ? reject(error) : resolve(key),
    )
  })
}
