/** Attack classes the filter detects. */
export type AttackCategory =
  | 'sqli'
  | 'xss'
  | 'path-traversal'
  | 'command-injection'
  | 'remote-file-inclusion'
  | 'scanner'
  | 'protocol'

/** Where a rule looks: request arguments (path, query, opt-in body), inspected headers, or the User-Agent only. */
export type RuleTarget = 'args' | 'headers' | 'user-agent'

/** One detection rule. Patterns run on normalised text (see `normalize`). */
export interface AttackRule {
  /** Stable id, shown in decision logs and problem documents, usable in `disabledRules`. */
  readonly id: string
  readonly category: AttackCategory
  /** 1 = high-confidence signatures with very few false positives; 2 and 3 detect more and misfire more. */
  readonly paranoia: 1 | 2 | 3
  readonly targets: readonly RuleTarget[]
  readonly description: string
  readonly pattern: RegExp
}

const ARGS: readonly RuleTarget[] = ['args']
const ARGS_HEADERS: readonly RuleTarget[] = ['args', 'headers']
const UA: readonly RuleTarget[] = ['user-agent']

const STRONG_COMMANDS =
  'whoami|uname|wget|curl|nc|ncat|netcat|bash|sh|zsh|ksh|python[23]?|perl|ruby|php|nslookup|powershell|cmd|certutil|busybox|tftp|ifconfig|ipconfig|passwd|telnet|base64|xxd|nohup|crontab|systeminfo|tasklist|net user'
const WEAK_COMMANDS =
  'rm|cat|ls|id|echo|printf|sleep|ping|type|env|dig|kill|chmod|chown|reboot|shutdown|ssh|scp|dir|more|head|tail'

/**
 * The built-in rule set: conservative signatures modelled on the attack classes of the OWASP Core Rule Set,
 * written from scratch. Level 1 rules look for constructs that need SQL, HTML/JS or shell syntax *together*
 * (`' or 1=1`, `<script`, `; cat /etc/passwd`), not for single keywords, so that free text with quotes,
 * apostrophes, ampersands and words like "select" or "union" passes.
 *
 * @example
 * ```ts
 * ATTACK_RULES.filter((r) => r.paranoia === 1).map((r) => r.id)
 * ```
 */
export const ATTACK_RULES: readonly AttackRule[] = [
  // SQL injection
  {
    id: 'sqli-union-select',
    category: 'sqli',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: 'UNION [ALL|DISTINCT] SELECT',
    pattern: /\bunion(?:\s+|\(|\s*\()+(?:all\s+|distinct\s+)?\(?\s*select\b/,
  },
  {
    id: 'sqli-tautology',
    category: 'sqli',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: "Quote break-out followed by a boolean condition: ' or 1=1, \" or \"a\"=\"a, ') or ('x'='x",
    pattern:
      /['"`]\s*\)*\s*(?:or|and|xor|&&|\|\|)\s*\(*\s*(?:['"`]?[\w.@-]*['"`]?\s*(?:=|<=?>?|>=?|!=|<>|\blike\b|\bis\b|\bregexp\b|\brlike\b)|not\b|true\b|false\b|null\b|\d+\s*(?:--|#|;|$)|['"`]\s*(?:--|#|$)|sleep\s*\(|benchmark\s*\(|exists\s*\(|\(\s*select\b)/,
  },
  {
    id: 'sqli-numeric-tautology',
    category: 'sqli',
    paranoia: 1,
    targets: ARGS,
    description: 'Numeric boolean injection ending the value or the statement: 1 or 1=1, 10 or 2>1--',
    pattern: /(?:^|[\s)'"])(?:or|and|xor)\s+\(?\d+\s*(?:=|<>|!=|>|<)\s*\(?\d+\s*(?:--|#|;|\)|$)/,
  },
  {
    id: 'sqli-comment-terminator',
    category: 'sqli',
    paranoia: 1,
    targets: ARGS,
    description: "Quote followed by a comment or statement end: admin'--, admin'#, 1';",
    pattern: /^[\w.@-]*['"`]\)*\s*(?:--|#|;\s*$|;\s*--)/,
  },
  {
    id: 'sqli-stacked-query',
    category: 'sqli',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: 'Stacked query: ; drop table, ; delete from, ; insert into, ; exec xp_',
    pattern:
      /;\s*(?:drop\s+(?:table|database|schema|user)|delete\s+from|insert\s+into|update\s+[\w`"[\].]+\s+set\b|truncate\s+table|alter\s+(?:table|user|database)|create\s+(?:table|user|database|function)|exec(?:ute)?\s+(?:xp_|sp_|master\.)|shutdown\b|declare\s+@|select\s+.{0,60}\bfrom\b|waitfor\s+delay)/,
  },
  {
    id: 'sqli-functions',
    category: 'sqli',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: 'Time-based, error-based and out-of-band SQL functions and catalogs',
    pattern:
      /\b(?:sleep\s*\(\s*\d+\s*\)|pg_sleep\s*\(|benchmark\s*\(\s*\d|waitfor\s+(?:delay|time)\s+['"]|extractvalue\s*\(|updatexml\s*\(|load_file\s*\(|into\s+(?:out|dump)file\b|information_schema\b|xp_cmdshell|sp_executesql|dbms_pipe\.|utl_(?:inaddr|http)\.|sysobjects\b|syscolumns\b|mysql\.user\b|pg_shadow\b|sqlite_master\b|@@version\b|(?:convert|cast)\s*\(.{0,40}\b(?:int|char|varchar)\b.{0,20}\)\s*(?:--|#)|(?:version|database|user|current_user|schema)\s*\(\s*\)\s*(?:--|#|,|\)|$)|group_concat\s*\(|concat(?:_ws)?\s*\(\s*(?:0x|char\s*\(|@@|\(select)|char\s*\(\s*\d+\s*(?:,\s*\d+\s*){2,}\)|name_const\s*\(|exp\s*\(\s*~|(?:ascii|ord|substring|substr|mid)\s*\(\s*\(?\s*select\b)/,
  },
  {
    id: 'sqli-select-probe',
    category: 'sqli',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: 'SELECT with SQL-only operands: select *, select null, select count(, select @@, select 0x',
    pattern:
      /\bselect\s*(?:\(|\s)\s*(?:\*\s+from\b|null\s*(?:,|from\b|--|#|$)|count\s*\(|@@|0x[0-9a-f]+|\d+\s*,\s*\d+|top\s+\d+|distinct\s+[\w.]+\s+from\b|[\w.]+\s*,\s*[\w.]+\s+from\s+[\w.]+\s*(?:where|--|#|$)|[\w.()]+\s+from\s+[\w.]+\s+where\b)/,
  },
  {
    id: 'sqli-order-group-probe',
    category: 'sqli',
    paranoia: 1,
    targets: ARGS,
    description: "Column-count and error probes: ' order by 5--, ' group by 1 having 1=1",
    pattern:
      /(?:['"`)]\s*|\d\s+)(?:order\s+by\s+\d+|group\s+by\s+[\w.]+(?:\s+having\b)?|having\s+\d+\s*=\s*\d+|procedure\s+analyse)/,
  },
  {
    id: 'sqli-keyword-chain',
    category: 'sqli',
    paranoia: 2,
    targets: ARGS_HEADERS,
    description:
      'Generic SQL statement shapes: select ... from, insert into ... values, delete from ... where',
    pattern:
      /\bselect\b.{1,100}\bfrom\b|\binsert\s+into\b.{1,100}\bvalues\b|\bdelete\s+from\b|\bdrop\s+table\b|\bupdate\b.{1,60}\bset\b.{1,60}=/,
  },
  {
    id: 'sqli-quote-keyword',
    category: 'sqli',
    paranoia: 2,
    targets: ARGS,
    description: "A quote directly followed by an SQL operator keyword: ' or , ' and , ' union",
    pattern: /['"`]\s*\)?\s*(?:or|and|union|having|order|group|limit)\b/,
  },
  {
    id: 'sqli-hex-comment',
    category: 'sqli',
    paranoia: 3,
    targets: ARGS,
    description: 'Hex literals and trailing SQL comments',
    pattern: /\b0x[0-9a-f]{6,}\b|(?:--|#)\s*$/,
  },
  // Cross-site scripting
  {
    id: 'xss-script-tag',
    category: 'xss',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: '<script> and </script> tags',
    pattern: /<\s*\/?\s*script\b/,
  },
  {
    id: 'xss-event-handler',
    category: 'xss',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description:
      'An HTML tag (or an attribute break-out) carrying an on* event handler: <img src=x onerror=...>',
    pattern: /(?:<[a-z!?/][^>]*?[\s/"'`]|['"`]\s*\/?\s*)on[a-z]{3,30}\s*=/,
  },
  {
    id: 'xss-dangerous-tag',
    category: 'xss',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description:
      'Tags that run or embed active content: iframe, object, embed, svg, math, base, meta, frameset, applet',
    pattern:
      /<\s*(?:iframe|frame|frameset|object|embed|applet|svg|math|base|meta|link|isindex|xss|xml|x:script|template|portal)\b/,
  },
  {
    id: 'xss-js-uri',
    category: 'xss',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: 'javascript:, vbscript: and data:text/html URIs',
    pattern:
      /(?:^|[\s"'`=(<,;])(?:javascript|vbscript|livescript|mocha)\s*:\s*(?:[\w$.]+\s*[(`=]|\/[/*]|[[{('"`])|data\s*:\s*(?:text\/html|image\/svg\+xml|application\/(?:x-)?javascript)[;,]/,
  },
  {
    id: 'xss-js-sink',
    category: 'xss',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: 'JavaScript probes: alert(1), prompt`1`, document.cookie, String.fromCharCode, eval(atob(',
    pattern:
      /\b(?:alert|prompt|confirm)\s*(?:\(\s*(?:\d|['"`]|document|window|this|\)|\/)|`)|\bdocument\s*\.\s*(?:cookie|domain|write\s*\(|location\s*=)|\bwindow\s*\.\s*location\s*=|\bstring\s*\.\s*fromcharcode\s*\(|\beval\s*\(\s*(?:atob|unescape|string|['"`]|\w+\s*\()|\bnew\s+function\s*\(|\bsettimeout\s*\(\s*['"`]|\bexpression\s*\(|-moz-binding\s*:|\bimport\s*\(\s*['"`]/,
  },
  {
    id: 'xss-html-tag',
    category: 'xss',
    paranoia: 2,
    targets: ARGS,
    description: 'Any HTML tag with attributes, or a formatting-free tag in a parameter',
    pattern:
      /<\s*[a-z][a-z0-9-]*\s+[a-z-]+\s*=|<\s*(?:img|body|input|video|audio|details|marquee|style|form|button|textarea|select|a)\b/,
  },
  {
    id: 'xss-angle-brackets',
    category: 'xss',
    paranoia: 3,
    targets: ARGS,
    description: 'Angle brackets around letters',
    pattern: /<[a-z/!?]/,
  },
  // Path traversal and local file inclusion
  {
    id: 'lfi-dot-dot-slash',
    category: 'path-traversal',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: 'Parent-directory segments after decoding: ../, ..\\, %2e%2e%2f, ..%c0%af',
    pattern: /(?:^|[/=:])\.{2,};?\/(?!\s)|\/\.{2,}(?:$|[/;?#])|^\.\.$/,
  },
  {
    id: 'lfi-sensitive-file',
    category: 'path-traversal',
    paranoia: 1,
    targets: ARGS,
    description:
      'Well-known sensitive files and directories: /etc/passwd, /proc/self/, .git/, .env, web.config, win.ini',
    pattern:
      /\/etc\/(?:passwd|shadow|group|gshadow|crontab|sudoers|ssh\/|mysql\/|nginx\/|apache2\/)|\/proc\/(?:self|\d+)\/|(?:^|\/)\.(?:env(?:\.\w+)?|git|svn|hg|htaccess|htpasswd|ds_store|aws|ssh|bash_history|npmrc|dockerenv|docker)(?:$|[/?#])|(?:^|\/)(?:wp-config\.php|web\.config|boot\.ini|win\.ini|system\.ini|id_rsa|id_dsa|phpinfo\.php|server-status|config\.php\.bak)(?:$|[/?#])|\b(?:c:|%systemroot%)\/windows\/|\/windows\/system32\/|\/var\/log\/|\/usr\/local\/etc\//,
  },
  {
    id: 'lfi-absolute-path',
    category: 'path-traversal',
    paranoia: 2,
    targets: ARGS,
    description: 'Absolute file-system paths in parameters: /etc/, /var/, /usr/, c:/',
    pattern: /^(?:\/(?:etc|var|usr|root|home|proc|sys|opt|tmp|bin|dev)\/|[a-z]:\/)/,
  },
  // Command injection
  {
    id: 'cmdi-separator-command',
    category: 'command-injection',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description:
      'Shell separator or substitution followed by a command: ; cat /etc/passwd, | id, && whoami, $(uname), `ls -la`',
    pattern: new RegExp(
      `(?:[;|\\n]|&&|\\$\\(|\`)\\s*(?:\\/(?:usr\\/)?s?bin\\/)?(?:(?:${STRONG_COMMANDS})(?:$|[\\s;|&\`)<>]|\\.exe\\b)|(?:${WEAK_COMMANDS})(?:\\s*$|\\s*[;|&\`)]|\\s+[-\\/.$'"\\d~]))`,
    ),
  },
  {
    id: 'cmdi-shell-path',
    category: 'command-injection',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: 'Shell binaries and interpreters by path: /bin/sh, /usr/bin/id, cmd.exe /c, powershell -e',
    pattern:
      /\/(?:usr\/)?(?:local\/)?s?bin\/(?:ba|z|k|c|tc|da|a)?sh\b|\/(?:usr\/)?s?bin\/(?:id|cat|nc|wget|curl|python\d?|perl|whoami|uname)\b|\bcmd(?:\.exe)?\s+\/[ck]\b|\bpowershell(?:\.exe)?\s+-(?:e|enc|encodedcommand|c|command|nop|w)\b/,
  },
  {
    id: 'cmdi-substitution-tricks',
    category: 'command-injection',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description: 'Shell evasion: $IFS (braced or not), $IFS$9, {cat,/etc/passwd}, and Shellshock () { :; };',
    pattern:
      /\$\{?ifs\}?|\$\{\s*(?:path|home|shell)\s*:|\{\s*(?:cat|ls|id|echo|wget|curl|nc|bash|sh),|\(\s*\)\s*\{\s*:?\s*;?\s*\}\s*;/,
  },
  {
    id: 'cmdi-jndi-lookup',
    category: 'command-injection',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description:
      'Log4Shell-style lookups: $' + '{jndi:ldap://...}, nested $' + '{lower:j} tricks, $' + '{env:...}',
    pattern:
      /\$\{\s*(?:jndi|\$\{|lower\s*:|upper\s*:|env\s*:|sys\s*:|java\s*:|::-|date\s*:|base64\s*:|main\s*:)/,
  },
  {
    id: 'cmdi-code-eval',
    category: 'command-injection',
    paranoia: 1,
    targets: ARGS_HEADERS,
    description:
      "Server-side code execution probes: system(, passthru(, shell_exec(, Runtime.getRuntime, __import__('os')",
    pattern:
      /\b(?:system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec|assert|create_function|call_user_func)\s*\(\s*['"`$]|\bruntime\s*\.\s*getruntime\s*\(|\b__import__\s*\(\s*['"]os|\bos\s*\.\s*(?:system|popen)\s*\(|\bsubprocess\s*\.|\bchild_process\b|\brequire\s*\(\s*['"]child_process|<\?php|\{\{\s*(?:\d+\s*\*\s*\d+|config|self\.|request\.|''\.__class__|\[\]\.__class__)|\$\{\s*\d+\s*\*\s*\d+\s*\}|#\{\s*\d+\s*\*\s*\d+\s*\}/,
  },
  {
    id: 'cmdi-separator-generic',
    category: 'command-injection',
    paranoia: 2,
    targets: ARGS,
    description: 'Any shell separator followed by a word',
    pattern: /(?:;|\||&&|\$\(|`)\s*[a-z]{2,}\b/,
  },
  // Remote file inclusion and SSRF probes
  {
    id: 'rfi-wrapper',
    category: 'remote-file-inclusion',
    paranoia: 1,
    targets: ARGS,
    description:
      'PHP and other stream wrappers: php://filter, php://input, expect://, data://, phar://, zip://, gopher://, dict://, file://',
    pattern:
      /(?:^|[\s=])(?:php|expect|phar|zip|compress\.zlib|glob|gopher|dict|ldap|jar|file|data|netdoc|tftp)\s*:\/\//,
  },
  {
    id: 'rfi-remote-include',
    category: 'remote-file-inclusion',
    paranoia: 1,
    targets: ARGS,
    description: 'A remote URL ending in ? or %00 (classic include), or pointing at a script/text payload',
    pattern: /^(?:https?|ftps?):\/\/[^\s]+(?:\?+$|\.(?:txt|php\d?|phtml|sh|pl|py|jsp|asp|aspx|cgi)\?|\.txt$)/,
  },
  {
    id: 'rfi-metadata-endpoint',
    category: 'remote-file-inclusion',
    paranoia: 1,
    targets: ARGS,
    description:
      'Cloud metadata and loopback targets in URL parameters (SSRF): 169.254.169.254, metadata.google.internal, 127.0.0.1',
    pattern:
      /(?:^|[\s=@/])(?:https?|ftp|gopher|dict):\/\/(?:[^\s/@]*@)?(?:169\.254\.169\.254|\[?fd00:ec2::254\]?|metadata\.google\.internal|metadata\.azure\.com|100\.100\.100\.200|0\.0\.0\.0|0x7f[0-9a-f.]*|2130706433|017700000001)(?:[:/?#]|$)/,
  },
  {
    id: 'rfi-loopback-url',
    category: 'remote-file-inclusion',
    paranoia: 2,
    targets: ARGS,
    description:
      'Loopback URLs in parameters (SSRF): http://localhost, http://127.0.0.1, http://[::1] (misfires on OAuth redirect_uri in development)',
    pattern:
      /(?:^|[\s=@/])(?:https?|ftp):\/\/(?:[^\s/@]*@)?(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])(?:[:/?#]|$)/,
  },
  {
    id: 'rfi-url-parameter',
    category: 'remote-file-inclusion',
    paranoia: 3,
    targets: ARGS,
    description: 'Any absolute URL in a parameter',
    pattern: /^(?:https?|ftps?):\/\//,
  },
  // Protocol anomalies
  {
    id: 'protocol-crlf-injection',
    category: 'protocol',
    paranoia: 1,
    targets: ARGS,
    description: 'CR/LF followed by a header line (response splitting): %0d%0aSet-Cookie:',
    pattern: /[\r\n]\s*(?:set-cookie|location|content-(?:type|length)|x-[\w-]+|http\/1\.[01])\s*:?/,
  },
  // Scanners
  {
    id: 'scanner-user-agent',
    category: 'scanner',
    paranoia: 1,
    targets: UA,
    description:
      'User agents of vulnerability scanners and attack tools (sqlmap, nikto, nuclei, nmap, zgrab, ...)',
    pattern:
      /sqlmap|nikto|\bnmap\b|masscan|zgrab|nuclei|acunetix|netsparker|wpscan|dirbuster|gobuster|feroxbuster|\bffuf\b|w3af|burp\s?(?:suite|collaborator)|owasp[\s_-]?zap|zaproxy|havij|arachni|appscan|nessus|openvas|whatweb|jaeles|commix|skipfish|wfuzz|\bdirb\b|xsser|\bparos\b|webinspect|fimap|morfeus|zmeu|jorgee|censysinspect|l9explore|l9tcpid|projectdiscovery|interactsh|metasploit|joomscan|droopescan|cmsmap|wapiti|bsqlbf|sqlninja|struts-?pwn|fuzz faster u fool|exploit/,
  },
]
