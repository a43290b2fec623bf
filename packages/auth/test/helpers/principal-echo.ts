import { type Exchange, type GwResponse, localResponse, principalKey } from '@gw/core'

/** A test upstream that answers with the principal and the headers it would receive. */
export function principalEcho(ex: Exchange): GwResponse {
  return localResponse(200, {
    principal: ex.get(principalKey) ?? null,
    headers: ex.request.headers,
    upstreamPath: ex.upstreamPath,
  })
}

export interface EchoBody {
  principal: {
    subject: string
    consumer?: string
    scopes: string[]
    claims: Record<string, unknown>
    method: string
  } | null
  headers: Record<string, string>
  upstreamPath: string
}
