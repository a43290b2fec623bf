// gw + @gw/auth jwt (HS256, verified-token cache on): one catch-all route; every request carries
// the same valid bearer token, so the run measures a cache hit (SHA-256 + LRU lookup) per request.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { createGateway } = await importOrExit('@gw/core')
const { jwt } = await importOrExit(new URL('../../../packages/auth/dist/index.js', import.meta.url).href)

const ALG = 'HS256'
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const now = Math.floor(Date.now() / 1000)
const input = `${b64({ alg: ALG, typ: 'JWT' })}.${b64({ sub: 'bench-user', scope: 'read', iat: now, exp: now + 86_400 })}`
let keyOptions
let signature
if (ALG === 'HS256') {
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
    policies: [jwt({ algorithms: [ALG], ...keyOptions, audit: 'failures', cache: { enabled: true } })],
    routes: [{ path: '/*', upstream: 'up' }],
  })
  const address = await gw.listen()
  announceReady(address.port, { headers: { authorization: `Bearer ${token}` } })
} catch (err) {
  startFailed(err)
}
