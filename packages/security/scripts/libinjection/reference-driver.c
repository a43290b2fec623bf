/*
 * Test driver for the reference libinjection: the C library as ModSecurity ships it (libmodsecurity.so.3
 * exports libinjection's API). Loaded with dlopen so that nothing links against ModSecurity at build time.
 *
 * Build: cc -O2 -o reference-driver reference-driver.c -ldl
 * Run:   reference-driver [path/to/libmodsecurity.so.3] < records > lines
 *
 * Input: records of [op: 1 byte][arg: 1 byte][length: 4 bytes little-endian][bytes]. Each input is copied
 * into a NUL-terminated buffer, as ModSecurity's std::string::c_str() hands it over.
 * Output: one line per record:
 *   'S' libinjection_sqli:           "<issqli> <fingerprint>"
 *   'P' sqli fingerprint, flags=arg: "<fingerprint> <check> <tokens>"
 *   'T' sqli tokenize, flags=arg:    "<tokens> | <stats_tokens> <ddx> <hash>"
 *   'F' sqli fold, flags=arg:        "<tokens> | <stats_tokens> <ddx> <hash>"
 *   'X' libinjection_xss:            "<isxss> <is_xss per context 0..4>"
 *   'H' html5 tokens, context=arg:   "<type>:<start>:<len> ..."
 *   'W' keyword lookup:              "<type code>"
 *   'B' benchmark, arg 0 = libinjection_sqli, 1 = libinjection_xss: "<nanoseconds per call>"
 * where a token is "<type>,<str_open>,<str_close>,<count>,<pos>,<len>,<hex of val>" (chars as decimal codes).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct token {
  size_t pos;
  size_t len;
  int count;
  char type;
  char str_open;
  char str_close;
  char val[32];
};

struct state {
  const char *s;
  size_t slen;
  void *lookup;
  void *userdata;
  int flags;
  size_t pos;
  struct token tokenvec[8];
  struct token *current;
  char fingerprint[8];
  int reason;
  int stats_comment_ddw;
  int stats_comment_ddx;
  int stats_comment_c;
  int stats_comment_hash;
  int stats_folds;
  int stats_tokens;
};

struct h5 {
  const char *s;
  size_t len;
  size_t pos;
  int is_close;
  void *state;
  const char *token_start;
  size_t token_len;
  int token_type;
};

static int (*li_sqli)(const char *, size_t, char *);
static int (*li_xss)(const char *, size_t);
static int (*li_is_xss)(const char *, size_t, int);
static void (*li_sqli_init)(struct state *, const char *, size_t, int);
static int (*li_tokenize)(struct state *);
static int (*li_fold)(struct state *);
static const char *(*li_fingerprint)(struct state *, int);
static int (*li_check)(struct state *);
static char (*li_lookup)(struct state *, int, const char *, size_t);
static void (*li_h5_init)(struct h5 *, const char *, size_t, int);
static int (*li_h5_next)(struct h5 *);

static void *need(void *lib, const char *name) {
  void *sym = dlsym(lib, name);
  if (!sym) {
    fprintf(stderr, "reference-driver: %s not found\n", name);
    exit(2);
  }
  return sym;
}

static void print_token(const struct token *t) {
  printf("%d,%d,%d,%d,%zu,%zu,", (unsigned char)t->type, (unsigned char)t->str_open,
         (unsigned char)t->str_close, t->count, t->pos, t->len);
  for (size_t i = 0; i < sizeof(t->val) && t->val[i] != 0; i++) printf("%02x", (unsigned char)t->val[i]);
  printf(" ");
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Calls one detector on the input in 5 rounds of 60 ms of CPU time (after a warm-up); returns the fastest
 * round's CPU ns per call (the least disturbed by other processes). */
static double bench(int which, const char *buf, size_t len) {
  char fp[8];
  volatile int sink = 0;
  double best = 0;
  for (int i = 0; i < 1000; i++) sink += which ? li_xss(buf, len) : li_sqli(buf, len, fp);
  for (int round = 0; round < 5; round++) {
    long iterations = 0;
    double start = now_ns();
    double elapsed = 0;
    while (elapsed < 6e7) {
      for (int i = 0; i < 100; i++) sink += which ? li_xss(buf, len) : li_sqli(buf, len, fp);
      iterations += 100;
      elapsed = now_ns() - start;
    }
    double per = elapsed / (double)iterations;
    if (round == 0 || per < best) best = per;
  }
  (void)sink;
  return best;
}

static void print_stats(const struct state *st) {
  printf("| %d %d %d", st->stats_tokens, st->stats_comment_ddx, st->stats_comment_hash);
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "libmodsecurity.so.3";
  void *lib = dlopen(path, RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "reference-driver: %s\n", dlerror());
    return 2;
  }
  li_sqli = need(lib, "libinjection_sqli");
  li_xss = need(lib, "libinjection_xss");
  li_is_xss = need(lib, "libinjection_is_xss");
  li_sqli_init = need(lib, "libinjection_sqli_init");
  li_tokenize = need(lib, "libinjection_sqli_tokenize");
  li_fold = need(lib, "libinjection_sqli_fold");
  li_fingerprint = need(lib, "libinjection_sqli_fingerprint");
  li_check = need(lib, "libinjection_sqli_check_fingerprint");
  li_lookup = need(lib, "libinjection_sqli_lookup_word");
  li_h5_init = need(lib, "libinjection_h5_init");
  li_h5_next = need(lib, "libinjection_h5_next");

  unsigned char head[6];
  while (fread(head, 1, 6, stdin) == 6) {
    int op = head[0];
    int arg = head[1];
    size_t len = (size_t)head[2] | (size_t)head[3] << 8 | (size_t)head[4] << 16 | (size_t)head[5] << 24;
    char *buf = malloc(len + 1);
    if (!buf || fread(buf, 1, len, stdin) != len) return 3;
    buf[len] = 0;
    struct state st;
    struct h5 hs;
    char fp[8];
    switch (op) {
      case 'S': {
        int r = li_sqli(buf, len, fp);
        printf("%d %s", r, r ? fp : "");
        break;
      }
      case 'P': {
        li_sqli_init(&st, buf, len, 0);
        const char *f = li_fingerprint(&st, arg);
        int check = li_check(&st);
        printf("%s %d ", f, check);
        for (size_t i = 0; i < strlen(st.fingerprint); i++) print_token(&st.tokenvec[i]);
        break;
      }
      case 'T': {
        li_sqli_init(&st, buf, len, arg);
        while (li_tokenize(&st)) print_token(st.current);
        print_stats(&st);
        break;
      }
      case 'F': {
        li_sqli_init(&st, buf, len, arg);
        int n = li_fold(&st);
        for (int i = 0; i < n; i++) print_token(&st.tokenvec[i]);
        print_stats(&st);
        break;
      }
      case 'X': {
        printf("%d ", li_xss(buf, len));
        for (int ctx = 0; ctx < 5; ctx++) printf("%d", li_is_xss(buf, len, ctx));
        break;
      }
      case 'H': {
        li_h5_init(&hs, buf, len, arg);
        while (li_h5_next(&hs)) printf("%d:%zu:%zu ", hs.token_type, (size_t)(hs.token_start - buf), hs.token_len);
        break;
      }
      case 'W': {
        li_sqli_init(&st, buf, len, 0);
        printf("%d", (unsigned char)li_lookup(&st, 1, buf, len));
        break;
      }
      case 'B': {
        printf("%.1f", bench(arg, buf, len));
        break;
      }
      default:
        fprintf(stderr, "reference-driver: unknown op %d\n", op);
        return 2;
    }
    printf("\n");
    free(buf);
  }
  return 0;
}
