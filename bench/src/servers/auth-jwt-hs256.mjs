// gw + @gw/auth jwt (HS256, verified-token cache on); see auth-jwt-common.mjs.
import { startJwtCase } from './auth-jwt-common.mjs'

await startJwtCase('HS256', true)
