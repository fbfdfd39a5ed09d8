/* source.c: files, locations and text for the lowering.
 *
 * A file is classified once (the project's own, a system header, a CPython
 * header) and its text is read from libclang once, when it is first needed
 * (clang_getFileContents looks the file up by a linear search of the unit's
 * source entries: in a unit that includes many files or expands many macros,
 * one call costs more than parsing a function). Lines and columns are
 * computed from that text as clang computes them (a line ends at \n, \r or
 * \r\n; a column counts bytes), so that the lowering asks libclang only for
 * file offsets.
 *
 * The small lexer below reads tokens the way clang's raw lexer spells them
 * (identifiers, pp-numbers, string and character literals, punctuators with
 * the longest match, comments as tokens of their own), for the few places
 * that need the spelling of an operator, the parts of a for statement, or a
 * macro's definition. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lower_int.h"
#include "xalloc.h"

const char *cx_str(lower *L, CXString s) {
  const char *c = clang_getCString(s);
  const char *r = arena_strdup(L->A, c ? c : "");
  clang_disposeString(s);
  return r;
}

static bool is_abs(const char *p) { return p && p[0] == '/'; }

/* Does directory PATH[0, DL) hold Python.h? Asked once per directory. */
static bool holds_python_h(lower *L, const char *path, size_t dl) {
  char buf[PATH_MAX];
  if (dl + 10 >= sizeof buf) return false;
  memcpy(buf, path, dl);
  buf[dl] = 0;
  void **slot = strmap_at(&L->dirs, buf);
  if (!*slot) {
    struct stat st;
    strcpy(buf + dl, "/Python.h");
    *slot = (void *)(intptr_t)(stat(buf, &st) == 0 ? 1 : 2);
  }
  return (intptr_t)*slot == 1;
}

/* Is SL itself a location in the file text (not a macro's), at OFF of F? */
static bool is_file_location(CXSourceLocation sl, CXFile f, unsigned off) {
  CXFile ef = NULL, sf = NULL;
  unsigned eo = 0, so = 0;
  clang_getExpansionLocation(sl, &ef, NULL, NULL, &eo);
  clang_getSpellingLocation(sl, &sf, NULL, NULL, &so);
  return ef == f && sf == f && eo == off && so == off;
}

/* A system header, by clang's rules (-isystem, the default directories). At
 * a location of the file's text when one is at hand: asked for a location
 * made from the file alone, libclang searches the whole unit for it. */
static bool in_system_header(lower *L, CXFile f, const CXSourceLocation *at, unsigned at_off) {
  if (at && is_file_location(*at, f, at_off)) return clang_Location_isInSystemHeader(*at);
  return clang_Location_isInSystemHeader(clang_getLocationForOffset(L->tu, f, 0));
}

static file_info *file_at(lower *L, CXFile f, const CXSourceLocation *at, unsigned at_off) {
  if (!f) return NULL;
  if (f == L->last_file) return L->last_info;
  void **s = pairmap_at(&L->files, (uintptr_t)f, 0);
  if (*s) {
    L->last_file = f;
    L->last_info = *s;
    return *s;
  }
  file_info *fi = arena_alloc(L->A, sizeof *fi);
  fi->file = f;
  CXString name = clang_getFileName(f);
  const char *n = clang_getCString(name);
  if (!n) n = "";
  if (!is_abs(n) && L->workdir && strcmp(L->workdir, ".") != 0)
    fi->path = arena_printf(L->A, "%s/%s", L->workdir, n);
  else
    fi->path = arena_strdup(L->A, n);
  clang_disposeString(name);
  /* A CPython header lives in a directory holding Python.h (or one below it:
   * cpython/, internal/). */
  fi->cls = FC_PROJECT;
  const char *slash = strrchr(fi->path, '/');
  if (slash) {
    size_t dl = (size_t)(slash - fi->path);
    for (int up = 0; up < PY_HEADER_DEPTH && dl > 0; up++) {
      if (holds_python_h(L, fi->path, dl)) { fi->cls = FC_PYTHON; break; }
      while (dl > 0 && fi->path[dl - 1] != '/') dl--;
      if (dl > 0) dl--;
    }
  }
  if (fi->cls == FC_PROJECT && in_system_header(L, f, at, at_off)) fi->cls = FC_SYSTEM;
  *s = fi;
  return fi;
}

file_info *file_of(lower *L, CXFile f) { return file_at(L, f, NULL, 0); }

bool file_text(lower *L, file_info *fi, const char **text, size_t *size) {
  if (!fi) return false;
  if (!fi->have_text) {
    fi->have_text = true;
    fi->text = clang_getFileContents(L->tu, fi->file, &fi->size);
  }
  *text = fi->text;
  *size = fi->size;
  return fi->text != NULL;
}

/* The offsets where the file's lines start, as clang counts them. */
static void build_lines(lower *L, file_info *fi) {
  fi->have_lines = true;
  const char *t;
  size_t n;
  if (!file_text(L, fi, &t, &n)) return;
  VEC(unsigned) v = {0};
  vec_push(L->A, v, 0u);
  if (!memchr(t, '\r', n)) {
    for (const char *p = t; (p = memchr(p, '\n', n - (size_t)(p - t))) != NULL; p++)
      vec_push(L->A, v, (unsigned)(p - t + 1));
  } else {
    for (size_t i = 0; i < n; i++) {
      if (t[i] == '\n') vec_push(L->A, v, (unsigned)(i + 1));
      else if (t[i] == '\r') {
        if (i + 1 < n && t[i + 1] == '\n') i++;
        vec_push(L->A, v, (unsigned)(i + 1));
      }
    }
  }
  fi->lines = v.v;
  fi->nlines = (unsigned)v.n;
}

gc_loc loc_at(lower *L, file_info *fi, unsigned off) {
  gc_loc g = {0};
  if (!fi) return g;
  g.file = fi->path;
  if (!fi->have_lines) build_lines(L, fi);
  if (!fi->lines) return g;
  unsigned lo = fi->last_line;   /* the last line start <= off: often the line found last, or the next */
  if (!(fi->lines[lo] <= off && (lo + 1 >= fi->nlines || fi->lines[lo + 1] > off))) {
    if (lo + 2 < fi->nlines && fi->lines[lo + 1] <= off && fi->lines[lo + 2] > off) {
      lo++;
    } else {
      unsigned hi = fi->nlines;
      lo = 0;
      while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        if (fi->lines[mid] <= off) lo = mid; else hi = mid;
      }
    }
  }
  fi->last_line = lo;
  g.line = lo + 1;
  /* clang's column of the last byte of a line that ends in \r\n or \n\r
   * is that of the byte before it */
  unsigned next = lo + 1 < fi->nlines ? fi->lines[lo + 1] : (unsigned)fi->size + 1;
  if (off + 1 == next && off > fi->lines[lo] && (fi->text[off - 1] == '\r' || fi->text[off - 1] == '\n')) off--;
  g.col = off - fi->lines[lo] + 1;
  return g;
}

file_info *offset_of(lower *L, CXSourceLocation sl, unsigned *off) {
  CXFile f = NULL;
  unsigned o = 0;
  clang_getFileLocation(sl, &f, NULL, NULL, &o);
  *off = o;
  return file_at(L, f, &sl, o);
}

file_info *spelling_of(lower *L, CXSourceLocation sl, unsigned *off) {
  CXFile f = NULL;
  unsigned o = 0;
  clang_getSpellingLocation(sl, &f, NULL, NULL, &o);
  *off = o;
  return file_of(L, f);
}

gc_loc loc_of(lower *L, CXSourceLocation sl) {
  unsigned off;
  file_info *fi = offset_of(L, sl, &off);
  return fi ? loc_at(L, fi, off) : (gc_loc){0};
}

const char *text_between(lower *L, file_info *fi, unsigned s, unsigned e) {
  const char *t;
  size_t n;
  if (!file_text(L, fi, &t, &n) || e > n || s > e) return NULL;
  return arena_strndup(L->A, t + s, e - s);
}

/* ---------- the lexer ---------- */

enum { TK_EOF, TK_COMMENT, TK_IDENT, TK_NUMBER, TK_STRING, TK_PUNCT, TK_OTHER };

typedef struct token { unsigned start, end; int kind; } token;

static bool ident_start(unsigned char c) {
  return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
static bool ident_char(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* A backslash-newline at P (line splice): its length, else 0. */
static unsigned splice_at(const char *t, size_t n, unsigned p) {
  if (p + 1 >= n || t[p] != '\\') return 0;
  if (t[p + 1] == '\n') return 2;
  if (t[p + 1] == '\r') return p + 2 < n && t[p + 2] == '\n' ? 3 : 2;
  return 0;
}

static unsigned skip_space(const char *t, size_t n, unsigned p) {
  while (p < n) {
    char c = t[p];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') { p++; continue; }
    unsigned s = splice_at(t, n, p);
    if (!s) break;
    p += s;
  }
  return p;
}

static unsigned quoted_end(const char *t, size_t n, unsigned p, char q) {
  p++;
  while (p < n && t[p] != q && t[p] != '\n' && t[p] != '\r') p += t[p] == '\\' && p + 1 < n ? 2 : 1;
  return p < n && t[p] == q ? p + 1 : p;
}

/* The length of the punctuator at P (longest match, digraphs included), or
 * 0 when no punctuator starts there. */
static unsigned punct_len(const char *t, size_t n, unsigned p) {
  char c = t[p], d = p + 1 < n ? t[p + 1] : 0, e = p + 2 < n ? t[p + 2] : 0;
  switch (c) {
  case '.': return d == '.' && e == '.' ? 3 : 1;
  case '<':
    if (d == '<') return e == '=' ? 3 : 2;
    return d == '=' || d == ':' || d == '%' ? 2 : 1;
  case '>':
    if (d == '>') return e == '=' ? 3 : 2;
    return d == '=' ? 2 : 1;
  case '-': return d == '>' || d == '-' || d == '=' ? 2 : 1;
  case '+': return d == '+' || d == '=' ? 2 : 1;
  case '&': return d == '&' || d == '=' ? 2 : 1;
  case '|': return d == '|' || d == '=' ? 2 : 1;
  case '=': case '!': case '*': case '/': case '^': return d == '=' ? 2 : 1;
  case '%':
    if (d == ':') return e == '%' && p + 3 < n && t[p + 3] == ':' ? 4 : 2;
    return d == '=' || d == '>' ? 2 : 1;
  case ':': return d == '>' ? 2 : 1;
  case '#': return d == '#' ? 2 : 1;
  case '[': case ']': case '(': case ')': case '{': case '}': case '~': case '?': case ';': case ',': case '@':
    return 1;
  default: return 0;
  }
}

/* The token (or comment) that starts at P, which is not whitespace. */
static token lex(const char *t, size_t n, unsigned p) {
  token k = {p, p, TK_EOF};
  if (p >= n) return k;
  unsigned char c = (unsigned char)t[p];
  if (c == '/' && p + 1 < n && t[p + 1] == '/') {
    unsigned q = p + 2;
    while (q < n && t[q] != '\n' && t[q] != '\r') q += splice_at(t, n, q) ? splice_at(t, n, q) : 1;
    k.end = q;
    k.kind = TK_COMMENT;
    return k;
  }
  if (c == '/' && p + 1 < n && t[p + 1] == '*') {
    const char *e = NULL;
    for (unsigned q = p + 2; q + 1 < n; q++)
      if (t[q] == '*' && t[q + 1] == '/') { e = t + q + 2; break; }
    k.end = e ? (unsigned)(e - t) : (unsigned)n;
    k.kind = TK_COMMENT;
    return k;
  }
  if (ident_start(c)) {
    unsigned q = p;
    while (q < n && ident_char((unsigned char)t[q])) q++;
    /* an encoding prefix: L"..", u8'..' */
    if (q < n && (t[q] == '"' || t[q] == '\'')) {
      size_t len = q - p;
      if ((len == 1 && (c == 'L' || c == 'u' || c == 'U')) || (len == 2 && c == 'u' && t[p + 1] == '8')) {
        k.end = quoted_end(t, n, q, t[q]);
        k.kind = TK_STRING;
        return k;
      }
    }
    k.end = q;
    k.kind = TK_IDENT;
    return k;
  }
  if (is_digit(c) || (c == '.' && p + 1 < n && is_digit((unsigned char)t[p + 1]))) {
    unsigned q = p + 1;
    while (q < n) {
      unsigned char d = (unsigned char)t[q];
      unsigned char prev = (unsigned char)t[q - 1];
      if ((d == '+' || d == '-') && (prev == 'e' || prev == 'E' || prev == 'p' || prev == 'P')) q++;
      else if (ident_char(d) || d == '.') q++;
      else break;
    }
    k.end = q;
    k.kind = TK_NUMBER;
    return k;
  }
  if (c == '"' || c == '\'') {
    k.end = quoted_end(t, n, p, (char)c);
    k.kind = TK_STRING;
    return k;
  }
  unsigned len = punct_len(t, n, p);
  k.kind = len ? TK_PUNCT : TK_OTHER;
  k.end = p + (len ? len : 1);
  return k;
}

/* The token's spelling without line splices. */
static void spell(const char *t, token k, char *out, size_t outsz) {
  size_t w = 0;
  for (unsigned p = k.start; p < k.end && w + 1 < outsz;) {
    unsigned s = splice_at(t, k.end, p);
    if (s) { p += s; continue; }
    out[w++] = t[p++];
  }
  out[w] = 0;
}

bool token_span_after(lower *L, file_info *fi, unsigned off, unsigned limit, char *out, size_t outsz,
                      unsigned *start, unsigned *stop) {
  const char *text;
  size_t size;
  if (!file_text(L, fi, &text, &size) || off >= size) return false;
  unsigned end = off + limit < size ? off + limit : (unsigned)size;
  unsigned p = off;
  for (;;) {
    p = skip_space(text, size, p);
    if (p >= size) return false;
    token k = lex(text, size, p);
    if (k.kind == TK_COMMENT) {
      p = k.end;
      if (p >= end) return false;
      continue;
    }
    spell(text, k, out, outsz);
    if (start) *start = k.start;
    if (stop) *stop = k.end;
    return true;
  }
}

bool token_after(lower *L, file_info *fi, unsigned off, unsigned limit, char *out, size_t outsz) {
  return token_span_after(L, fi, off, limit, out, outsz, NULL, NULL);
}

void tokens_in(lower *L, file_info *fi, unsigned s, unsigned e, token_fn *fn, void *ctx) {
  const char *text;
  size_t size;
  if (!file_text(L, fi, &text, &size) || s > size) return;
  unsigned p = s;
  char buf[256];
  do {
    p = skip_space(text, size, p);
    if (p >= size) return;
    token k = lex(text, size, p);
    if (k.kind == TK_COMMENT) buf[0] = 0;   /* a comment is a token, and matches none asked for */
    else spell(text, k, buf, sizeof buf);
    if (!fn(ctx, buf, p, k.kind == TK_IDENT)) return;
    p = k.end;
  } while (p < e);
}

/* Whitespace and comments. */
static unsigned skip_blank(const char *t, size_t n, unsigned p) {
  for (;;) {
    p = skip_space(t, n, p);
    if (p + 1 < n && t[p] == '/' && (t[p + 1] == '/' || t[p + 1] == '*')) { p = lex(t, n, p).end; continue; }
    return p;
  }
}

unsigned token_end(lower *L, file_info *fi, unsigned off) {
  const char *t;
  size_t n;
  if (!file_text(L, fi, &t, &n) || off >= n) return off;
  token k = lex(t, n, off);
  return k.end > off ? k.end : off + 1;
}

/* The token after OFF, if it is SPELLING: where it ends; else 0. */
unsigned token_next_is(lower *L, file_info *fi, unsigned off, const char *spelling) {
  const char *t;
  size_t n;
  if (!file_text(L, fi, &t, &n)) return 0;
  unsigned p = skip_blank(t, n, off);
  if (p >= n) return 0;
  token k = lex(t, n, p);
  size_t len = strlen(spelling);
  return k.end - k.start == len && !memcmp(t + k.start, spelling, len) ? k.end : 0;
}

static int bracket(const char *t, token k);

unsigned group_end(lower *L, file_info *fi, unsigned open_end) {
  const char *t;
  size_t n;
  if (!file_text(L, fi, &t, &n)) return open_end;
  int depth = 1;
  unsigned p = open_end;
  while (depth > 0) {
    p = skip_blank(t, n, p);
    if (p >= n) return open_end;
    token k = lex(t, n, p);
    depth += bracket(t, k);
    p = k.end;
  }
  return p;
}

static int bracket(const char *t, token k) {
  if (k.kind != TK_PUNCT || k.end != k.start + 1) return 0;
  char c = t[k.start];
  return c == '(' || c == '[' || c == '{' ? 1 : c == ')' || c == ']' || c == '}' ? -1 : 0;
}

unsigned balance_end(lower *L, file_info *fi, unsigned s, unsigned e) {
  const char *t;
  size_t n;
  if (!file_text(L, fi, &t, &n)) return e;
  int depth = 0;
  for (unsigned p = skip_blank(t, n, s); p < e && p < n; p = skip_blank(t, n, p)) {
    token k = lex(t, n, p);
    depth += bracket(t, k);
    p = k.end;
  }
  while (depth > 0) {
    unsigned p = skip_blank(t, n, e);
    if (p >= n) break;
    token k = lex(t, n, p);
    if (bracket(t, k) >= 0) break;
    depth--;
    e = k.end;
  }
  return e;
}

const char *normalized_text(lower *L, file_info *fi, unsigned s, unsigned e) {
  const char *t;
  size_t n;
  if (!file_text(L, fi, &t, &n) || s >= e || e > n) return NULL;
  char buf[COND_TEXT_MAX + 8];   /* the text, a space and "..." */
  size_t w = 0;
  unsigned prev_end = s;
  for (unsigned p = skip_blank(t, n, s); p < e; p = skip_blank(t, n, p)) {
    token k = lex(t, n, p);
    if (k.end <= p) break;
    char tok[COND_TEXT_MAX + 1];
    spell(t, k, tok, sizeof tok);
    size_t tl = strlen(tok);
    bool space = w > 0 && p > prev_end;
    if (w + (space ? 1 : 0) + tl > COND_TEXT_MAX) {   /* cut after the last whole token */
      if (space) buf[w++] = ' ';
      memcpy(buf + w, "...", 3);
      w += 3;
      break;
    }
    if (space) buf[w++] = ' ';
    memcpy(buf + w, tok, tl);
    w += tl;
    prev_end = k.end;
    p = k.end;
  }
  if (w == 0) return NULL;
  return arena_strndup(L->A, buf, w);
}

bool has_identifier(lower *L, file_info *fi, unsigned s, unsigned e) {
  const char *t;
  size_t n;
  if (!file_text(L, fi, &t, &n) || e > n) return true;
  for (unsigned p = s; p < e;) {
    unsigned char c = (unsigned char)t[p];
    if (is_digit(c) || (c == '.' && p + 1 < n && is_digit((unsigned char)t[p + 1]))) {
      p = lex(t, n, p).end;                 /* a number: 0x1F, 1e5, 10u */
    } else if (ident_start(c) || c == '\\') {
      if (!splice_at(t, n, p)) return true;  /* a name, or a character no token starts with */
      p += splice_at(t, n, p);
    } else if (c == '"' || c == '\'' || (c == '/' && p + 1 < n && (t[p + 1] == '/' || t[p + 1] == '*'))) {
      p = lex(t, n, p).end;                 /* a literal, a comment */
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || punct_len(t, n, p)) {
      p++;
    } else {
      return true;
    }
  }
  return false;
}
