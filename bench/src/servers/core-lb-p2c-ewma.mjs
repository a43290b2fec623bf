// gw, three targets (one 50 ms slower), balancer: p2c-ewma. See core-lb-common.mjs.
import { runBalancerCase } from './core-lb-common.mjs'

await runBalancerCase('p2c-ewma')
