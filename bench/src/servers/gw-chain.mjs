// The chain scenario through gw, verified-token cache on (the default).
import { startGwChain } from './gw-chain-common.mjs'

await startGwChain(true)
