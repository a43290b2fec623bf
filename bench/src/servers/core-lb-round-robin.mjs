// gw, three targets (one 50 ms slower), balancer: round-robin. See core-lb-common.mjs.
import { runBalancerCase } from './core-lb-common.mjs'

await runBalancerCase('round-robin')
