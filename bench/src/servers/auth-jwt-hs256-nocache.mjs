// gw + @gw/auth jwt (HS256, verified-token cache off); see auth-jwt-common.mjs.
import { startJwtCase } from './auth-jwt-common.mjs'

await startJwtCase('HS256', false)
