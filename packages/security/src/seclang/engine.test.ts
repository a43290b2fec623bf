import { describe, expect, it } from 'vitest'
import { type CompileOptions, compileRuleSet, type RequestInfo, SecLangError, Transaction } from './index.js'

const options: CompileOptions = {
  readFile: (name) => {
    if (name === 'words.data') return '# comment\nselect\n\nunion all\n'
    throw new Error(`no file ${name}`)
  },
  detectors: {
    detectSqli: (s) => ({ sqli: s.includes("' or 1=1"), fingerprint: 's&1' }),
    detectXss: (s) => s.includes('<script'),
  },
}

const rules = (text: string) => compileRuleSet([{ name: 'test.conf', text }], options)
const BODY = 'SecRequestBodyAccess On\n'

function run(text: string, req: Partial<RequestInfo> = {}, body?: string) {
  const tx = new Transaction(rules(text))
  tx.processRequestHeaders({
    method: 'GET',
    uri: '/',
    protocol: 'HTTP/1.1',
    headers: [['Host', 'example.com']],
    remoteAddr: '127.0.0.1',
    ...req,
  })
  tx.processRequestBody(body)
  return tx
}

const ids = (tx: Transaction) => tx.matched.map((m) => m.id)

describe('SecLang engine', () => {
  it('evaluates @rx over ARGS with transformations, logs msg/logdata with macros, and denies in On mode', () => {
    const tx = run(
      `SecRule ARGS "@rx <script" "id:1,phase:2,deny,status:403,t:none,t:urlDecodeUni,t:lowercase,msg:'XSS in %{MATCHED_VAR_NAME}',logdata:'Matched Data: %{MATCHED_VAR}'"`,
      { uri: '/?q=%253CSCRIPT%253E' },
    )
    expect(ids(tx)).toEqual([1])
    expect(tx.matched[0]).toMatchObject({
      message: 'XSS in ARGS:q',
      data: 'Matched Data: <script>',
      target: 'ARGS:q',
    })
    expect(tx.interruption).toEqual({ ruleId: 1, status: 403, action: 'deny' })
  })

  it('chains: the starter stores captures, the chained rule reads them through macros', () => {
    const conf = `SecRule ARGS "@rx ^(\\w+)=(\\w+)$" "id:2,phase:2,pass,capture,chain"
  SecRule TX:1 "@streq %{TX.2}" "setvar:tx.score=+5"`
    expect(ids(run(conf, { uri: '/?a=x%3Dx' }))).toEqual([2])
    expect(run(conf, { uri: '/?a=x%3Dx' }).tx.get('score')).toBe('5')
    expect(ids(run(conf, { uri: '/?a=x%3Dy' }))).toEqual([])
  })

  it('skipAfter jumps to the marker; SecDefaultAction turns block into the phase default', () => {
    const conf = `SecDefaultAction "phase:2,log,pass"
SecRule ARGS:skip "@eq 1" "id:10,phase:2,nolog,pass,skipAfter:END"
SecRule ARGS "@rx ." "id:11,phase:2,block"
SecMarker END
SecRule ARGS "@rx ." "id:12,phase:2,block"`
    expect(ids(run(conf, { uri: '/?skip=1' }))).toEqual([12])
    const tx = run(conf, { uri: '/?skip=0' })
    expect(ids(tx)).toEqual([11, 12])
    expect(tx.interruption).toBeUndefined()
  })

  it('counts (&), excludes (!), selects keys by regex, and is case-insensitive for keys', () => {
    const conf = `SecRule &ARGS "@eq 3" "id:20,phase:2,pass"
SecRule ARGS|!ARGS:safe "@rx bad" "id:21,phase:2,pass"
SecRule ARGS:/^id_/ "@rx ^\\d+$" "id:22,phase:2,pass"
SecRule &REQUEST_HEADERS:HOST "@eq 1" "id:23,phase:1,pass"`
    expect(ids(run(conf, { uri: '/?safe=bad&id_x=12&ID_Y=a' }))).toEqual([23, 20, 22])
    expect(ids(run(conf, { uri: '/?other=bad' }))).toEqual([23, 21])
  })

  it('ctl:ruleRemoveById, ctl:ruleRemoveTargetById and ctl:ruleEngine apply to the rest of the transaction', () => {
    const conf = `SecRule REQUEST_URI "@beginsWith /a" "id:30,phase:1,pass,nolog,ctl:ruleRemoveById=31"
SecRule REQUEST_URI "@beginsWith /b" "id:32,phase:1,pass,nolog,ctl:ruleRemoveTargetById=31;ARGS:q"
SecRule REQUEST_URI "@beginsWith /c" "id:33,phase:1,pass,nolog,ctl:ruleEngine=DetectionOnly"
SecRule ARGS "@rx x" "id:31,phase:2,deny"`
    expect(ids(run(conf, { uri: '/a?q=x' }))).toEqual([])
    expect(ids(run(conf, { uri: '/b?q=x' }))).toEqual([])
    expect(ids(run(conf, { uri: '/b?r=x' }))).toEqual([31])
    const detection = run(conf, { uri: '/c?q=x' })
    expect(ids(detection)).toEqual([31])
    expect(detection.interruption).toBeUndefined()
  })

  it('multiMatch checks the value after each transformation that changed it', () => {
    const conf = `SecRule ARGS "@rx ^a b$" "id:40,phase:2,pass,multiMatch,t:none,t:urlDecode,t:removeWhitespace"`
    expect(ids(run(conf, { uri: '/?q=a%20b' }))).toEqual([40])
    const plain = `SecRule ARGS "@rx ^a b$" "id:41,phase:2,pass,t:none,t:urlDecode,t:removeWhitespace"`
    expect(ids(run(plain, { uri: '/?q=a%20b' }))).toEqual([])
  })

  it('@pm / @pmFromFile (case-insensitive phrases), @within with macros, @detectSQLi / @detectXSS', () => {
    const conf = `SecAction "id:50,phase:1,pass,nolog,setvar:tx.allowed=|GET| |POST|"
SecRule ARGS "@pmFromFile words.data" "id:51,phase:2,pass,capture,logdata:'%{TX.0}'"
SecRule REQUEST_METHOD "!@within %{tx.allowed}" "id:52,phase:1,pass"
SecRule ARGS "@detectSQLi" "id:53,phase:2,pass"
SecRule ARGS "@detectXSS" "id:54,phase:2,pass"`
    const tx = run(conf, { uri: '/?q=UNION%20ALL%20x&s=%27%20or%201=1&x=%3Cscript', method: 'PUT' })
    expect(ids(tx)).toEqual([52, 51, 53, 54])
    expect(tx.matched.find((m) => m.id === 51)?.data).toBe('union all')
  })

  it('parses URL-encoded, JSON, multipart and XML bodies into ARGS / FILES / XML', () => {
    const json = run(
      `${BODY}SecRule ARGS:json.user.name "@streq bob" "id:60,phase:2,pass"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" "id:61,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"`,
      { method: 'POST', headers: [['Content-Type', 'application/json']] },
      '{"user":{"name":"bob"}}',
    )
    expect(ids(json)).toEqual([60])
    const multipart = run(
      `${BODY}SecRule FILES "@rx \\.php$" "id:62,phase:2,pass"
SecRule ARGS:a "@streq 1" "id:63,phase:2,pass"
SecRule MULTIPART_PART_HEADERS "@rx ^Content-Type: image" "id:64,phase:2,pass"`,
      { method: 'POST', headers: [['Content-Type', 'multipart/form-data; boundary=XX']] },
      '--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XX\r\nContent-Disposition: form-data; name="f"; filename="x.php"\r\nContent-Type: image/png\r\n\r\n<?php\r\n--XX--\r\n',
    )
    expect(ids(multipart)).toEqual([62, 63, 64])
    const xml = run(
      `${BODY}SecRule REQUEST_HEADERS:Content-Type "@rx xml" "id:65,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule XML:/* "@rx select" "id:66,phase:2,pass"
SecRule XML://@* "@rx evil" "id:67,phase:2,pass"
SecRule REQBODY_ERROR "!@eq 0" "id:68,phase:2,pass"`,
      { method: 'POST', headers: [['Content-Type', 'text/xml']] },
      '<a x="evil"><b>select 1</b></a>',
    )
    expect(ids(xml)).toEqual([66, 67])
  })

  it('flags malformed bodies with REQBODY_ERROR', () => {
    const conf = `${BODY}SecRule REQUEST_HEADERS:Content-Type "@rx json" "id:70,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:71,phase:2,deny,status:400"`
    const tx = run(conf, { method: 'POST', headers: [['Content-Type', 'application/json']] }, '{"a":')
    expect(tx.interruption).toMatchObject({ ruleId: 71, status: 400 })
  })

  it('rejects unsupported directives, operators, transformations, actions and variables with file:line', () => {
    const bad = [
      ['SecFooBar On', /test\.conf:1: unsupported directive SecFooBar/],
      ['\n\nSecRule ARGS "@nope x" "id:1"', /test\.conf:3: unsupported operator @nope/],
      ['SecRule ARGS "@rx x" "id:1,t:rot13"', /test\.conf:1: unsupported transformation t:rot13/],
      ['SecRule ARGS "@rx x" "id:1,exec:/bin/sh"', /test\.conf:1: unsupported action exec/],
      ['SecRule NOPE "@rx x" "id:1"', /test\.conf:1: unsupported variable NOPE/],
      ['SecRule ARGS "@rx a++" "id:1"', /test\.conf:1: @rx: possessive quantifiers are not supported/],
      ['SecRule ARGS "@rx x" "phase:2"', /test\.conf:1: rule has no id/],
      ['SecRule ARGS "@rx x" "id:1,chain"', /test\.conf:1: .*chain/],
    ] as const
    for (const [text, message] of bad) {
      expect(() => rules(text)).toThrow(SecLangError)
      expect(() => rules(text)).toThrow(message)
    }
  })
})
