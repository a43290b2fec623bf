# Generates benign.jsonl: realistic API traffic written for this corpus (not copied from any source).
import json, urllib.parse as u
out = []
def add(url, method='GET', headers=None, body=None, ct=None):
    e = {'method': method, 'url': url}
    h = dict(headers or {})
    if body is not None:
        e['body'] = body; h['content-type'] = ct
    if h: e['headers'] = h
    out.append(e)
def q(params, path='/api/products/search'):
    add(path + '?' + u.urlencode(params))

searches = [
 "O'Reilly", "Tom & Jerry", "rock 'n' roll", "children's books", "50% off", "C++ programming", "c# 12 in a nutshell", "node.js streams",
 "what's new in 2024?", "select the best laptop", "union station chicago", "drop-down menu", "order by price", "delete my account",
 "how to update my address", "\"exact phrase\" search", "a < b and c > d", "1+1=2", "x = y + 3", "price >= 100", "rating: 4.5/5",
 "email me at jane.doe@example.com", "São Paulo", "Zürich café", "東京 ラーメン", "🙂 emoji", "naïve résumé", "Ελληνικά", "العربية",
 "script writing course", "alert system for seniors", "javascript: the good parts", "java script tutorial", "on sale now", "one=1",
 "bread & butter", "salt & pepper", "cats | dogs", "either/or", "and/or", "yes; no", "id card holder", "cat toys", "ls 400 lexus",
 "sleep mask", "ping pong table", "echo dot", "type c cable", "env variables guide", "shell necklace", "sh*t happens mug", "bash party",
 "curl hair products", "perl jam", "ruby ring", "python book", "php developer jobs", "wget vs curl", "who am i", "system of a down",
 "exec chair", "from select few", "insert coin", "update: shipping delays", "table for two", "users guide", "information schema design book",
 "D'Angelo", "L'Oréal", "Ma'am", "it's fine", "don't stop", "I said 'yes' and left", "the \"best\" deal", "a 'quoted' word or two",
 "5' 11\"", "12\" pizza", "6'2\" tall", "3' x 5' rug", "1/2 price", "../ in paths explained", "...and more", "wait...", "etc etc",
 "/etc folder", "passwd manager", "null pointer exception", "true or false quiz", "not found", "is null", "like new", "count of monte cristo",
 "sleep(8 hours)", "benchmark results 2024", "char broil grill", "concat strings in excel", "version 2.0", "user manual", "database course",
 "1 or 2 items", "2 and 3 bedrooms", "or best offer", "and more", "select", "union", "drop", "alert", "prompt engineering", "confirm order",
 "document management", "window cleaner", "cookie jar", "eval board", "<3 love", "a <b> tag", "x<y", "html & css", "C:/Users guide",
 "https://example.com/product/123", "www.example.org", "#hashtag", "@mention", "$100 bill", "100% cotton", "~tilde", "back\\slash",
 "semi;colon", "pipe | char", "it's 9:30 am", "tab\there", "Q&A", "R&D", "AT&T", "H&M", "M&Ms", "B&B hotels", "P&G brands",
]
for i, s in enumerate(searches):
    q({'q': s, 'page': str(i % 5 + 1)})
for s in searches[:60]:
    add('/api/products/search?q=' + u.quote(s, safe=''))

for path in ['/api/users/123', '/api/users/8f14e45f-ceea-467a-9575-3f2a1b2c3d4e', '/api/products/abc-def_01', '/api/orders/2024/11/26',
             '/static/app.9f8e7d.js', '/static/css/main.min.css', '/.well-known/openid-configuration', '/.well-known/jwks.json',
             '/api/v1/orders', '/api/files/report%202024.pdf', '/api/files/r%C3%A9sum%C3%A9.docx', '/api/tags/c%2B%2B', '/api/tags/node.js',
             '/api/users/jane.doe%40example.com', '/health', '/ready', '/metrics', '/favicon.ico', '/robots.txt', '/api/search/select',
             '/api/products/union-jack-flag', '/api/blog/how-to-drop-a-table-cloth', '/api/docs/etc', '/api/v2/items/~user',
             '/api/items/1,2,3', '/api/geo/48.8566,2.3522', '/api/branch/feature%2Flogin', '/api/cms/pages/about-us', '/images/2024/11/photo_01.JPG']:
    add(path)

params = [
 {'sort': '-created_at', 'page': '2', 'limit': '50'}, {'fields': 'id,name,price', 'include': 'variants'}, {'filter[status]': 'active'},
 {'from': '2024-01-01T00:00:00Z', 'to': '2024-12-31T23:59:59+01:00'}, {'redirect_uri': 'https://app.example.com/callback?x=1'},
 {'redirect_uri': 'http://localhost:3000/auth/callback'}, {'returnTo': '/dashboard?tab=settings'}, {'next': '/orders/42'},
 {'url': 'https://images.example.com/a.png'}, {'callback': 'jsonp_12345'}, {'token': 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-def_ghi'},
 {'state': 'af0ifjsldkj', 'code': 'SplxlOBeZQQYbYS6WxSbIA', 'scope': 'openid profile email'}, {'q': 'name:"John Smith" AND age:[20 TO 30]'},
 {'query': '{ user(id: 1) { name email } }'}, {'json': '{"a":1,"b":[1,2]}'}, {'expr': '(a+b)*c'}, {'regex': '^[a-z]+$'}, {'path': 'docs/guide/intro.md'},
 {'file': 'invoice-2024-11.pdf'}, {'template': 'welcome_email'}, {'lang': 'en-US'}, {'tz': 'Europe/Paris'}, {'currency': 'EUR'},
 {'email': 'first.last+tag@sub.example.co.uk'}, {'phone': '+1 (555) 123-4567'}, {'address': '221B Baker St., London NW1 6XE'},
 {'coupon': 'SAVE-20%'}, {'color': '#ff00aa'}, {'size': "10' x 12'"}, {'note': "Leave at the back door; ring twice"},
 {'comment': 'Great product!!! Would buy again :)'}, {'comment': 'Works with Windows 11 & macOS; not with Linux (yet)'},
 {'comment': "Didn't fit - returned it. Size chart says 'M' = 38-40"}, {'msg': 'Meet at 5pm? Or 6 -- whichever works'},
 {'title': 'Using SELECT ... FROM in SQL: a beginner guide'}, {'title': 'Why <b> tags are deprecated'}, {'q': 'cat /etc/hosts explained'},
 {'desc': 'Scripts & automation for DevOps teams'}, {'ua': 'Mozilla/5.0'}, {'version': '>=1.2.3 <2.0.0'}, {'semver': '^4.17.21'},
 {'cron': '*/5 * * * *'}, {'ids[]': '1'}, {'a': ''}, {'empty': ''}, {'b64': 'SGVsbG8gV29ybGQ='}, {'hash': 'sha256-abc123+/='},
]
for p in params:
    q(p, path='/api/items')

uas = [
 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0', 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
 'curl/8.5.0', 'python-requests/2.32.3', 'axios/1.7.7', 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', 'undici', 'Go-http-client/2.0',
 'okhttp/4.12.0', 'PostmanRuntime/7.42.0', 'kube-probe/1.31', 'ELB-HealthChecker/2.0', 'Googlebot/2.1 (+http://www.google.com/bot.html)',
 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 'Prometheus/2.54.1', 'Apache-HttpClient/4.5.14 (Java/17.0.9)',
 'Dart/3.5 (dart:io)', 'MyApp/3.2.1 (iOS 18.1; iPhone15,2; Scale/3.00)', 'k6/0.54.0 (https://k6.io/)', 'Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)',
]
for ua in uas:
    add('/api/products?page=1', headers={'user-agent': ua})

cookies = ['_ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000', 'session=eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjF9.sig_-; theme=dark',
           'csrftoken=AbC123xYz; lang=fr-FR', 'cart=%7B%22items%22%3A%5B1%2C2%5D%7D', 'prefs=a%3D1%26b%3D2', 'consent=yes; tz=America%2FNew_York',
           'sid=s%3Aabc123.def456%2Bghi%2F789', 'name="quoted value"; other=1']
for c in cookies:
    add('/api/cart', headers={'cookie': c})
for ref in ['https://www.google.com/', 'https://app.example.com/products?q=shoes&sort=price', 'https://example.com/search?q=O%27Reilly+books',
            'https://shop.example.com/cart?coupon=SAVE-20%25', 'android-app://com.google.android.gm/']:
    add('/api/products', headers={'referer': ref})

bodies = [
 {'name': "Jane O'Neil", 'email': 'jane@example.com', 'bio': 'I love rock & roll; also jazz.'},
 {'title': 'Meeting notes', 'text': 'We will select a vendor from the shortlist and update the table by Friday.'},
 {'comment': 'The "drop" feature is great -- but the union of both sets is missing.'},
 {'query': 'SELECT is a keyword I teach in class', 'tags': ['sql', 'education']},
 {'password': "p@ss'w0rd\"!;--x", 'username': 'jdoe'}, {'address': {'line1': '1 Main St; Apt 2', 'city': "Coeur d'Alene"}},
 {'items': [{'sku': 'A-1', 'qty': 2}, {'sku': 'B/2', 'qty': 1}], 'note': 'Gift wrap please :)'},
 {'markdown': '# Title\n\nSome *bold* text and a [link](https://example.com).\n\n- item 1\n- item 2'},
 {'code': 'for (let i = 0; i < n; i++) { sum += i }'}, {'html_free': 'Use 2 < 3 and 5 > 4 in math'},
 {'url': 'https://hooks.example.com/services/T000/B000/XXXX', 'events': ['push', 'pull_request']},
 {'filter': {'price': {'$gte': 10, '$lte': 100}}}, {'message': "Hi! I'm available Mon-Fri, 9-5. Let's talk."},
 {'review': 'Five stars. Would recommend to anyone who wants an easy setup & great support.'},
]
for b in bodies:
    add('/api/comments', method='POST', body=json.dumps(b, ensure_ascii=False), ct='application/json')
for f in ['name=Jane+Doe&email=jane%40example.com&message=Hello%2C+I%27d+like+a+quote.', 'q=rock+%26+roll&page=1',
          'title=Q%26A+session&body=What%27s+the+plan%3F', 'comment=Price+is+%2410+%28incl.+tax%29']:
    add('/api/forms', method='POST', body=f, ct='application/x-www-form-urlencoded')

with open('benign.jsonl', 'w') as fh:
    for e in out: fh.write(json.dumps(e, ensure_ascii=False) + '\n')
print(len(out))
