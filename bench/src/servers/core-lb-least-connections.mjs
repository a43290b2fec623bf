// gw, three targets (one 50 ms slower), balancer: least-connections. See core-lb-common.mjs.
import { runBalancerCase } from './core-lb-common.mjs'

await runBalancerCase('least-connections')
