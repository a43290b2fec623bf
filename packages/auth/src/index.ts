export * from './api-key/index.js'
export { authErrors } from './errors.js'
export * from './jwt/index.js'
