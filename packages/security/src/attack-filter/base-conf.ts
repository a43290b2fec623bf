/**
 * gw's engine set-up, loaded before `crs-setup.conf` and the CRS rules. It is what ModSecurity's
 * `modsecurity.conf-recommended` (and Coraza's `coraza.conf-recommended`) provide around CRS: the engine and
 * body access switched on, the JSON and XML body processors chosen by Content-Type (URL-encoded and
 * multipart are chosen by the engine itself), and requests whose body cannot be parsed refused, so a
 * malformed body cannot be used to skip inspection.
 */
export const BASE_CONF = `
SecRuleEngine On
SecRequestBodyAccess On
SecResponseBodyAccess Off
SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\\+|/)|text/)xml" \\
  "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/(?:json|[a-z0-9.-]+\\+json)(?:[\\s;]|$)" \\
  "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" \\
  "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \\
  "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation',severity:2"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" \\
  "id:200004,phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.',severity:2"
`
