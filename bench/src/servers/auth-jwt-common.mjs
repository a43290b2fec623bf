// Shared by the auth-jwt-* benchmark cases: gw + @gw/auth jwt on one catch-all route, every request carrying
// the same valid bearer token. With the verified-token cache on, a run measures a cache hit (SHA-256 + LRU
// lookup) per request; with it off, a full signature verification per request.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

/** Starts the case for `alg` ('HS256' or 'ES256') with the verified-token cache on or off. */
export async function startJwtCase(alg, cacheEnabled) {
  installWatchdog()
  const { port, host, upstream } = serverEnv()
  const { createGateway } = await importOrExit('@gw/core')
  const { jwt } = await importOrExit(new URL('../../../packages/auth/dist/index.js', import.meta.url).href)

  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg, typ: 'JWT' })}.${b64({ sub: 'bench-user', scope: 'read', iat: now, exp: now + 86_400 })}`
  let keyOptions
  let signature
  if (alg === 'HS256') {
    const secret = 'bench-secret-0123456789-0123456789-0123456789'
    keyOptions = { secret }
    signature = createHmac('sha256', secret).update(input).digest('base64url')
  } else {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    keyOptions = { publicKey: publicKey.export({ type: 'spki', format: 'pem' }) }
    signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString(
      'base64url',
    )
  }
  const token = `${input}.${signature}`

  try {
    const gw = await createGateway({
      server: { port, host },
      upstreams: { up: { url: upstream } },
      policies: [
        jwt({ algorithms: [alg], ...keyOptions, audit: 'failures', cache: { enabled: cacheEnabled } }),
      ],
      routes: [{ path: '/*', upstream: 'up' }],
    })
    const address = await gw.listen()
    announceReady(address.port, { headers: { authorization: `Bearer ${token}` } })
  } catch (err) {
    startFailed(err)
  }
}
