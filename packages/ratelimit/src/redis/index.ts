import './resource.js'

export {
  createRedisConcurrencyStore,
  createRedisStore,
  type RedisClient,
  type RedisStoreOptions,
} from './store.js'
