export { RedisCacheStore, type RedisCacheStoreOptions } from './store.js'
