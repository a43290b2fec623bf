export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  type CircuitTicket,
} from './circuit-breaker.js'
