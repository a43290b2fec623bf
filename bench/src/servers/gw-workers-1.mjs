// gw in 1 node:cluster worker (the primary hands connections to it): the cluster overhead against gw.mjs.
import { startWorkersGateway } from './gw-workers-common.mjs'

await startWorkersGateway(1)
