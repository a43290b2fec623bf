// The chain scenario through gw, verified-token cache off: one HMAC verification per request.
import { startGwChain } from './gw-chain-common.mjs'

await startGwChain(false)
