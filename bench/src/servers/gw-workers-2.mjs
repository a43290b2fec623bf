// gw in 2 node:cluster workers sharing the port; compare with gw-workers-1.mjs and gw.mjs.
import { startWorkersGateway } from './gw-workers-common.mjs'

await startWorkersGateway(2)
