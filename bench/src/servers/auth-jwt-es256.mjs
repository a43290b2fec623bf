// gw + @gw/auth jwt (ES256, verified-token cache on); see auth-jwt-common.mjs.
import { startJwtCase } from './auth-jwt-common.mjs'

await startJwtCase('ES256', true)
