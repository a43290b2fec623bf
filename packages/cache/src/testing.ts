export { cacheStoreContract } from './store/contract.js'
