// JSON: one unit generates a ~24 KiB document (nested objects and arrays, integers, strings
// with escapes, literals), parses it into a node tree (recursive descent, static arena),
// serializes the tree back to canonical text and checks it equals the input, then walks the
// tree for the checksum.
#include "bench_common.h"

#define DOC_TARGET (24 * 1024)
#define BUF_CAP (DOC_TARGET + 64 * 1024)
#define MAX_NODES 32768
#define MAX_DEPTH 32

enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct {
  uint8_t type;
  int32_t first_child, next;  // -1 = none
  uint32_t key_off, key_len;  // into pool (object members only)
  uint32_t str_off, str_len;  // into pool (strings)
  int64_t num;
} Node;

static char doc[BUF_CAP], out[BUF_CAP], pool[BUF_CAP];
static Node nodes[MAX_NODES];
static size_t doc_len, out_len, pool_len;
static int32_t node_count;
static uint64_t rng;

// --- generator (writes canonical JSON) -------------------------------------------------------
static void put(char* buf, size_t* len, char c) {
  if (*len >= BUF_CAP) bench_fail("json", "buffer overflow");
  buf[(*len)++] = c;
}

static void put_lit(char* buf, size_t* len, const char* s) {
  while (*s) put(buf, len, *s++);
}

static void put_str(char* buf, size_t* len, const char* s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  put(buf, len, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      put(buf, len, '\\');
      put(buf, len, (char)c);
    } else if (c == '\n') {
      put(buf, len, '\\');
      put(buf, len, 'n');
    } else if (c < 0x20) {
      put(buf, len, '\\');
      put(buf, len, 'u');
      put(buf, len, '0');
      put(buf, len, '0');
      put(buf, len, hex[c >> 4]);
      put(buf, len, hex[c & 15]);
    } else {
      put(buf, len, (char)c);
    }
  }
  put(buf, len, '"');
}

static void put_int(char* buf, size_t* len, int64_t v) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) put(buf, len, '-');
  while (n) put(buf, len, tmp[--n]);
}

static void gen_string(void) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789_-\"\\\n\t\x01";
  char s[24];
  size_t n = 1 + bench_rand(&rng) % 20;
  for (size_t i = 0; i < n; i++) s[i] = alphabet[bench_rand(&rng) % (sizeof alphabet - 1)];
  put_str(doc, &doc_len, s, n);
}

static void gen_value(int depth) {
  uint64_t r = bench_rand(&rng) % 10;
  if (depth >= 5 || r < 4) {
    switch (bench_rand(&rng) % 6) {
      case 0: put_lit(doc, &doc_len, "null"); break;
      case 1: put_lit(doc, &doc_len, "true"); break;
      case 2: put_lit(doc, &doc_len, "false"); break;
      case 3: gen_string(); break;
      default: put_int(doc, &doc_len, (int64_t)(bench_rand(&rng) % 2000000000000ULL) - 1000000000000LL);
    }
    return;
  }
  int members = 1 + (int)(bench_rand(&rng) % 6);
  int is_obj = r < 7;
  put(doc, &doc_len, is_obj ? '{' : '[');
  for (int i = 0; i < members; i++) {
    if (i) put(doc, &doc_len, ',');
    if (is_obj) {
      static const char* keys[] = {"id", "name", "value", "items", "meta", "x", "y", "tags"};
      const char* k = keys[bench_rand(&rng) % 8];
      put_str(doc, &doc_len, k, strlen(k));
      put(doc, &doc_len, ':');
    }
    gen_value(depth + 1);
  }
  put(doc, &doc_len, is_obj ? '}' : ']');
}

// --- parser ----------------------------------------------------------------------------------
static size_t pos;

static void skip_ws(void) {
  while (pos < doc_len && (doc[pos] == ' ' || doc[pos] == '\n' || doc[pos] == '\t' || doc[pos] == '\r')) pos++;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  bench_fail("json", "bad \\u escape");
  return 0;
}

// Parses a string at pos into the pool; returns its offset, sets *len.
static uint32_t parse_string(uint32_t* len) {
  if (doc[pos] != '"') bench_fail("json", "expected string");
  pos++;
  uint32_t off = (uint32_t)pool_len;
  for (;;) {
    if (pos >= doc_len) bench_fail("json", "unterminated string");
    char c = doc[pos++];
    if (c == '"') break;
    if (c == '\\') {
      if (pos >= doc_len) bench_fail("json", "unterminated escape");
      char e = doc[pos++];
      switch (e) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case '/': case '\\': case '"': c = e; break;
        case 'u':
          if (pos + 4 > doc_len) bench_fail("json", "short \\u escape");
          c = (char)(hexval(doc[pos]) << 12 | hexval(doc[pos + 1]) << 8 | hexval(doc[pos + 2]) << 4 | hexval(doc[pos + 3]));
          pos += 4;
          break;
        default: bench_fail("json", "bad escape");
      }
    }
    put(pool, &pool_len, c);
  }
  *len = (uint32_t)pool_len - off;
  return off;
}

static int32_t new_node(uint8_t type) {
  if (node_count >= MAX_NODES) bench_fail("json", "too many nodes");
  Node* n = &nodes[node_count];
  memset(n, 0, sizeof *n);
  n->type = type;
  n->first_child = n->next = -1;
  return node_count++;
}

static int32_t parse_value(int depth) {
  if (depth > MAX_DEPTH) bench_fail("json", "nesting too deep");
  skip_ws();
  if (pos >= doc_len) bench_fail("json", "unexpected end");
  char c = doc[pos];
  if (c == '{' || c == '[') {
    int is_obj = c == '{';
    int32_t self = new_node(is_obj ? J_OBJ : J_ARR);
    pos++;
    skip_ws();
    int32_t prev = -1;
    if (pos < doc_len && doc[pos] == (is_obj ? '}' : ']')) {
      pos++;
      return self;
    }
    for (;;) {
      uint32_t koff = 0, klen = 0;
      if (is_obj) {
        skip_ws();
        koff = parse_string(&klen);
        skip_ws();
        if (pos >= doc_len || doc[pos] != ':') bench_fail("json", "expected ':'");
        pos++;
      }
      int32_t child = parse_value(depth + 1);
      nodes[child].key_off = koff;
      nodes[child].key_len = klen;
      if (prev < 0) nodes[self].first_child = child;
      else nodes[prev].next = child;
      prev = child;
      skip_ws();
      if (pos >= doc_len) bench_fail("json", "unterminated container");
      if (doc[pos] == ',') {
        pos++;
        continue;
      }
      if (doc[pos] != (is_obj ? '}' : ']')) bench_fail("json", "expected ',' or close");
      pos++;
      return self;
    }
  }
  if (c == '"') {
    int32_t self = new_node(J_STR);
    uint32_t len;
    uint32_t off = parse_string(&len);
    nodes[self].str_off = off;
    nodes[self].str_len = len;
    return self;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    int32_t self = new_node(J_NUM);
    int neg = c == '-';
    if (neg) pos++;
    uint64_t v = 0;
    if (pos >= doc_len || doc[pos] < '0' || doc[pos] > '9') bench_fail("json", "bad number");
    while (pos < doc_len && doc[pos] >= '0' && doc[pos] <= '9') v = v * 10 + (uint64_t)(doc[pos++] - '0');
    nodes[self].num = neg ? -(int64_t)v : (int64_t)v;
    return self;
  }
  if (doc_len - pos >= 4 && memcmp(doc + pos, "null", 4) == 0) { pos += 4; return new_node(J_NULL); }
  if (doc_len - pos >= 4 && memcmp(doc + pos, "true", 4) == 0) { pos += 4; return new_node(J_TRUE); }
  if (doc_len - pos >= 5 && memcmp(doc + pos, "false", 5) == 0) { pos += 5; return new_node(J_FALSE); }
  bench_fail("json", "unexpected character");
  return -1;
}

// --- serializer and walk ---------------------------------------------------------------------
static void serialize(int32_t i, int in_obj) {
  const Node* n = &nodes[i];
  if (in_obj) {
    put_str(out, &out_len, pool + n->key_off, n->key_len);
    put(out, &out_len, ':');
  }
  switch (n->type) {
    case J_NULL: put_lit(out, &out_len, "null"); break;
    case J_TRUE: put_lit(out, &out_len, "true"); break;
    case J_FALSE: put_lit(out, &out_len, "false"); break;
    case J_NUM: put_int(out, &out_len, n->num); break;
    case J_STR: put_str(out, &out_len, pool + n->str_off, n->str_len); break;
    default: {
      put(out, &out_len, n->type == J_OBJ ? '{' : '[');
      for (int32_t c = n->first_child; c >= 0; c = nodes[c].next) {
        if (c != n->first_child) put(out, &out_len, ',');
        serialize(c, n->type == J_OBJ);
      }
      put(out, &out_len, n->type == J_OBJ ? '}' : ']');
    }
  }
}

static uint64_t walk(int32_t i, uint64_t h) {
  const Node* n = &nodes[i];
  h = bench_mix(h, n->type);
  if (n->key_len) h = bench_mix_bytes(h, pool + n->key_off, n->key_len);
  if (n->type == J_NUM) h = bench_mix(h, (uint64_t)n->num);
  if (n->type == J_STR) h = bench_mix_bytes(h, pool + n->str_off, n->str_len);
  for (int32_t c = n->first_child; c >= 0; c = nodes[c].next) h = walk(c, h);
  return h;
}

int main(int argc, char** argv) {
  int64_t scale = bench_scale(argc, argv);
  uint64_t sum = 0;
  rng = 2024;
  for (int64_t unit = 0; unit < scale; unit++) {
    doc_len = 0;
    put(doc, &doc_len, '[');
    while (doc_len < DOC_TARGET) {
      if (doc_len > 1) put(doc, &doc_len, ',');
      gen_value(1);
    }
    put(doc, &doc_len, ']');
    pos = 0;
    pool_len = 0;
    node_count = 0;
    int32_t root = parse_value(0);
    skip_ws();
    if (pos != doc_len) bench_fail("json", "trailing data");
    out_len = 0;
    serialize(root, 0);
    if (out_len != doc_len || memcmp(out, doc, doc_len) != 0) bench_fail("json", "round trip differs");
    sum = bench_mix(sum, (uint64_t)node_count);
    sum = walk(root, sum);
  }
  return bench_report("json", scale, sum);
}
