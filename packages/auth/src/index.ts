export { authErrors } from './errors.js'
export * from './jwt/index.js'
