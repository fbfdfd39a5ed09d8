/* lsp.c: `gilcheck --lsp`, a Language Server over stdio (JSON-RPC 2.0 with
 * Content-Length framing), so that editors show gilcheck's findings as
 * diagnostics.
 *
 * What it offers: full-text document sync (didOpen, didChange, didSave
 * without text, didClose) and nothing else. A document is checked when it is
 * opened and when it is saved: its flags come from the compilation database
 * above it (or -p, or initializationOptions.compilationDatabasePath), else
 * from the Python include directories, as on the command line; its
 * .gilcheck.yml and NOLINT comments apply as on the command line too. Each
 * open document keeps a libclang unit with a precompiled preamble
 * (clang_session.c), so a re-check on save reparses only the file's body.
 * The findings in the document are published as diagnostics (code = rule id,
 * codeDescription = the rule's page, notes as relatedInformation); parse
 * errors are published as errors (code clang-diagnostic-error), those in an
 * included file at the top of the document.
 *
 * Protocol errors are answered, never fatal: a body that is not JSON gets
 * ParseError (-32700), a message that is not a JSON-RPC request
 * InvalidRequest (-32600), an unknown request MethodNotFound (-32601), bad
 * params InvalidParams (-32602), a request before initialize
 * ServerNotInitialized (-32002). Unknown notifications are ignored, and so
 * are responses. The exit notification ends the server with status 0 after
 * shutdown, else 1; so does the end of input. */
#define _GNU_SOURCE
#include "lsp.h"
#include "log.h"
#include "xalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "cdb.h"
#include "config.h"
#include "output.h"
#include "rules.h"
#include "session.h"
#include "suppress.h"

#ifndef GILCHECK_VERSION
#define GILCHECK_VERSION "unknown"
#endif

enum {
  RPC_PARSE_ERROR = -32700,
  RPC_INVALID_REQUEST = -32600,
  RPC_METHOD_NOT_FOUND = -32601,
  RPC_INVALID_PARAMS = -32602,
  LSP_SERVER_NOT_INITIALIZED = -32002,
};

enum { LSP_ERROR = 1, LSP_WARNING = 2, LSP_INFORMATION = 3 };

/* A body larger than this is skipped, not read into memory. */
#define MAX_BODY (256u << 20)

/* ---- small helpers ---- */




static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A file's identity for comparisons: its real path when it exists, else
 * its absolute path cleaned lexically. Malloc'd. */
static char *identity(const char *path) {
  char real[PATH_MAX];
  if (realpath(path, real)) return xstrdup(real);
  return cdb_absolute_path(path, NULL);
}

/* ---- URIs ---- */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The path of a file:// URI (percent-decoded), or NULL for any other URI
 * or one that decodes to a NUL byte. */
static char *uri_to_path(const char *uri) {
  if (strncasecmp(uri, "file://", 7) != 0) return NULL;
  const char *p = strchr(uri + 7, '/');     /* skip an authority ("localhost") */
  if (!p) return NULL;
  size_t n = strcspn(p, "?#");
  char *out = xmalloc(n + 1);
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    int hi, lo;
    if (p[i] == '%' && i + 2 < n + 1 && (hi = hexval((unsigned char)p[i + 1])) >= 0 &&
        (lo = hexval((unsigned char)p[i + 2])) >= 0) {
      out[w] = (char)(hi * 16 + lo);
      if (!out[w]) { free(out); return NULL; }
      w++;
      i += 2;
    } else {
      out[w++] = p[i];
    }
  }
  out[w] = 0;
  return out;
}

static char *path_to_uri(const char *path) {
  char *enc = output_uri_encode(path);
  char *uri = xasprintf("file://%s", enc);
  free(enc);
  return uri;
}

/* ---- positions: 1-based lines and byte columns to LSP positions ---- */

/* The start and length (without the newline) of 1-based LINE in TEXT;
 * false when TEXT has fewer lines. */
static bool line_span(const char *text, size_t len, unsigned line, size_t *start, size_t *n) {
  if (!text || line == 0) return false;
  size_t off = 0;
  for (unsigned l = 1; l < line; l++) {
    const char *nl = memchr(text + off, '\n', len - off);
    if (!nl) return false;
    off = (size_t)(nl - text) + 1;
  }
  const char *nl = memchr(text + off, '\n', len - off);
  size_t end = nl ? (size_t)(nl - text) : len;
  if (end > off && text[end - 1] == '\r') end--;
  *start = off;
  *n = end - off;
  return true;
}

/* How many position units the first N bytes of S take: bytes when the
 * client agreed to utf-8, else UTF-16 code units. */
static unsigned units(const char *s, size_t n, bool utf8) {
  if (utf8) return (unsigned)n;
  unsigned u = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c & 0xC0) == 0x80) continue;     /* continuation byte */
    u += c >= 0xF0 ? 2 : 1;               /* outside the BMP: a surrogate pair */
  }
  return u;
}

/* The byte offset in TEXT of LSP position (LINE 0-based, CH in units),
 * clamped to the line and the text. */
static size_t offset_of(const char *text, size_t len, long long line, long long ch, bool utf8) {
  size_t start, n;
  if (line < 0) return 0;
  if (line >= UINT_MAX || !line_span(text, len, (unsigned)line + 1, &start, &n)) return len;
  size_t i = 0;
  long long u = 0;
  while (i < n && u < ch) {
    unsigned char c = (unsigned char)text[start + i];
    u += !utf8 && c >= 0xF0 ? 2 : 1;
    i++;
    if (!utf8)                               /* the rest of the character */
      while (i < n && ((unsigned char)text[start + i] & 0xC0) == 0x80) i++;
  }
  return start + i;
}

static bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static json_t *position(unsigned line, unsigned ch) {
  json_t *p = json_object();
  json_object_set_new(p, "line", json_integer(line));
  json_object_set_new(p, "character", json_integer(ch));
  return p;
}

/* The range of a finding at 1-based LINE and byte column COL in TEXT: the
 * identifier that starts there (the macro or function the user wrote), or
 * one character. Line 0 ("no location") is the start of the file. */
static json_t *range_at(const char *text, size_t len, unsigned line, unsigned col, bool utf8) {
  unsigned l = line ? line - 1 : 0, c0 = 0, c1 = 0;
  size_t start, n;
  if (line && line_span(text, len, line, &start, &n)) {
    size_t b = col ? col - 1 : 0;
    if (b > n) b = n;
    size_t e = b;
    while (e < n && ident_char(text[start + e])) e++;
    if (e == b && e < n) {                  /* one character, whole */
      e++;
      while (e < n && ((unsigned char)text[start + e] & 0xC0) == 0x80) e++;
    }
    c0 = units(text + start, b, utf8);
    c1 = units(text + start, e, utf8);
  } else if (line) {
    c0 = c1 = col ? col - 1 : 0;
  }
  json_t *r = json_object();
  json_object_set_new(r, "start", position(l, c0));
  json_object_set_new(r, "end", position(l, c1));
  return r;
}

/* ---- documents and the server ---- */

typedef struct doc {
  char *uri;
  char *path;             /* NULL for a URI that is not file:// */
  char *id;               /* identity(path) */
  char *text;
  size_t len;
  json_int_t version;
  gc_session *session;    /* made on the first check */
  struct doc *next;
} doc;

typedef struct server {
  FILE *in, *out;
  bool initialized, shut_down, utf8;
  char *root;             /* the workspace's directory, or NULL */
  char *cdb_dir;          /* -p, or initializationOptions.compilationDatabasePath */
  bool cdb_from_cmdline;
  char **fallback;        /* Python include flags */
  int nfallback;
  bool fallback_tried;
  char **api_applied;     /* configurations whose api facts were handed over */
  int napi_applied;
  doc *docs;
} server;

static doc *doc_find(server *S, const char *uri) {
  for (doc *d = S->docs; d; d = d->next)
    if (strcmp(d->uri, uri) == 0) return d;
  return NULL;
}

static doc *doc_by_id(server *S, const char *id) {
  for (doc *d = S->docs; d; d = d->next)
    if (d->id && strcmp(d->id, id) == 0) return d;
  return NULL;
}

static void doc_free(doc *d) {
  session_close(d->session);
  free(d->uri);
  free(d->path);
  free(d->id);
  free(d->text);
  free(d);
}

/* ---- writing messages ---- */

static bool send(server *S, json_t *msg) {
  char *body = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(msg);
  if (!body) {
    log_info("internal error: a message could not be encoded");
    return false;
  }
  size_t n = strlen(body);
  fprintf(S->out, "Content-Length: %zu\r\n\r\n", n);
  fwrite(body, 1, n, S->out);
  free(body);
  if (fflush(S->out) != 0 || ferror(S->out)) {
    log_info("cannot write to the client: %s", strerror(errno));
    return false;
  }
  return true;
}

static json_t *message(void) {
  json_t *m = json_object();
  json_object_set_new(m, "jsonrpc", json_string("2.0"));
  return m;
}

static void reply(server *S, json_t *id, json_t *result) {
  json_t *m = message();
  json_object_set(m, "id", id ? id : json_null());
  json_object_set_new(m, "result", result ? result : json_null());
  send(S, m);
}

static void reply_error(server *S, json_t *id, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void reply_error(server *S, json_t *id, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = xvasprintf(fmt, ap);
  va_end(ap);
  log_verbose("error %d: %s", code, text);
  json_t *err = json_object();
  json_object_set_new(err, "code", json_integer(code));
  json_object_set_new(err, "message", output_json_string(text));
  free(text);
  json_t *m = message();
  json_object_set(m, "id", id ? id : json_null());
  json_object_set_new(m, "error", err);
  send(S, m);
}

static void notify(server *S, const char *method, json_t *params) {
  json_t *m = message();
  json_object_set_new(m, "method", json_string(method));
  json_object_set_new(m, "params", params);
  send(S, m);
}

/* window/logMessage, for what the user should be able to find. */
static void log_message(server *S, int type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void log_message(server *S, int type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = xvasprintf(fmt, ap);
  va_end(ap);
  log_info("%s", text);
  json_t *p = json_object();
  json_object_set_new(p, "type", json_integer(type));
  json_object_set_new(p, "message", output_json_string(text));
  free(text);
  notify(S, "window/logMessage", p);
}

/* ---- reading messages ---- */

/* Reads one message. Returns 1 with *BODY (malloc'd) and *LEN, 0 at the end
 * of input, -1 after a framing error (logged; reading goes on). */
static int read_message(FILE *in, char **body, size_t *len) {
  char line[1024];
  long long clen = -1;
  bool any = false, bad = false;
  for (;;) {
    if (!fgets(line, sizeof line, in)) return 0;
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n') {   /* a header longer than any we know */
      int c;
      while ((c = fgetc(in)) != EOF && c != '\n') {}
      if (c == EOF) return 0;
      any = bad = true;
      continue;
    }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (n == 0) {
      if (!any) continue;                    /* blank lines between messages */
      break;
    }
    any = true;
    if (strncasecmp(line, "Content-Length:", 15) == 0) {
      const char *v = line + 15;
      while (*v == ' ' || *v == '\t') v++;
      char *end;
      errno = 0;
      long long x = strtoll(v, &end, 10);
      while (*end == ' ' || *end == '\t') end++;
      if (errno || *end || end == v || x < 0) bad = true;
      else clen = x;
    }
  }
  if (clen < 0) {
    log_info("a message header without a valid Content-Length%s; skipped", bad ? " (or a malformed header)" : "");
    return -1;
  }
  if ((unsigned long long)clen > MAX_BODY) {
    log_info("a message of %lld bytes is too large; skipped", clen);
    for (long long i = 0; i < clen; i++)
      if (fgetc(in) == EOF) return 0;
    return -1;
  }
  char *b = xmalloc((size_t)clen + 1);
  if (fread(b, 1, (size_t)clen, in) != (size_t)clen) {
    free(b);
    return 0;
  }
  b[clen] = 0;
  *body = b;
  *len = (size_t)clen;
  return 1;
}

/* ---- flags for a document ---- */

static bool find_entry(const char *dbdir, const char *id, gc_job *out) {
  gc_job *jobs = NULL;
  int njobs = 0;
  char *err = NULL;
  if (cdb_load(dbdir, &jobs, &njobs, &err) != 0) {
    log_info("%s; ignoring it", err);
    free(err);
    return false;
  }
  bool found = false;
  for (int i = 0; i < njobs && !found; i++) {
    char *jid = identity(jobs[i].file);
    if (strcmp(jid, id) == 0) {
      found = true;
      *out = jobs[i];
      memset(&jobs[i], 0, sizeof jobs[i]);   /* taken over */
    }
    free(jid);
  }
  cdb_free_jobs(jobs, njobs);
  return found;
}

/* The job for a document, as the command line would make it for the file
 * (its compilation database entry, else the Python include flags). */
static void job_for(server *S, const doc *d, gc_job *job) {
  memset(job, 0, sizeof *job);
  char *dbdir = S->cdb_dir ? xstrdup(S->cdb_dir) : cdb_find_for_file(d->path);
  if (!dbdir && S->root) {
    char *cand[2] = {xasprintf("%s/compile_commands.json", S->root),
                     xasprintf("%s/build/compile_commands.json", S->root)};
    for (int i = 0; i < 2 && !dbdir; i++)
      if (access(cand[i], R_OK) == 0) {
        *strrchr(cand[i], '/') = 0;
        dbdir = xstrdup(cand[i]);
      }
    free(cand[0]);
    free(cand[1]);
  }
  if (dbdir && find_entry(dbdir, d->id, job)) {
    log_verbose("%s: flags from %s/compile_commands.json", d->path, dbdir);
    free(dbdir);
    return;
  }
  if (dbdir) log_verbose("%s: no entry in %s/compile_commands.json", d->path, dbdir);
  else log_verbose("%s: no compile_commands.json above it", d->path);
  free(dbdir);
  if (!S->fallback_tried) {
    S->fallback_tried = true;
    char *explain = NULL;
    if (cdb_fallback_args(&S->fallback, &S->nfallback, &explain) != 0) {
      log_message(S, LSP_WARNING, "gilcheck: %s; analysing without Python include flags", explain);
      S->fallback = NULL;
      S->nfallback = 0;
    } else {
      log_verbose("files without a compilation database get %s", explain);
    }
    free(explain);
  }
  job->file = xstrdup(d->path);
  job->nargs = S->nfallback;
  job->args = xmalloc(sizeof(char *) * ((size_t)S->nfallback + 1));
  for (int i = 0; i < S->nfallback; i++) job->args[i] = xstrdup(S->fallback[i]);
}

static void job_free(gc_job *j) {
  free(j->file);
  free(j->dir);
  for (int i = 0; i < j->nargs; i++) free(j->args[i]);
  free(j->args);
}

/* ---- checking a document ---- */

/* Texts of the files that findings and notes point into: the open
 * documents as the editor has them, other files from disk. */
typedef struct text_cache {
  struct { char *id; char *text; size_t len; bool owned; } v[8];
  int n;
} text_cache;

static void text_of(server *S, text_cache *tc, const char *id, const char **text, size_t *len) {
  for (int i = 0; i < tc->n; i++)
    if (strcmp(tc->v[i].id, id) == 0) { *text = tc->v[i].text; *len = tc->v[i].len; return; }
  char *t = NULL;
  size_t n = 0;
  bool owned = false;
  doc *d = doc_by_id(S, id);
  if (d) {
    t = d->text;
    n = d->len;
  } else {
    FILE *f = fopen(id, "rb");
    if (f) {
      size_t cap = 0;
      char buf[65536];
      size_t got;
      while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (n + got > cap) {
          cap = (n + got) * 2;
          char *nt = xrealloc(t, cap);
          t = nt;
        }
        memcpy(t + n, buf, got);
        n += got;
      }
      fclose(f);
      owned = true;
    }
  }
  *text = t;
  *len = n;
  if (tc->n == 8) {                         /* forget the oldest */
    free(tc->v[0].id);
    if (tc->v[0].owned) free(tc->v[0].text);
    memmove(&tc->v[0], &tc->v[1], sizeof tc->v[0] * 7);
    tc->n = 7;
  }
  tc->v[tc->n].id = xstrdup(id);
  tc->v[tc->n].text = t;
  tc->v[tc->n].len = n;
  tc->v[tc->n].owned = owned;
  tc->n++;
}

static void text_cache_free(text_cache *tc) {
  for (int i = 0; i < tc->n; i++) {
    free(tc->v[i].id);
    if (tc->v[i].owned) free(tc->v[i].text);
  }
  tc->n = 0;
}

static json_t *location(server *S, text_cache *tc, const gc_loc *loc, const char *id) {
  const char *text;
  size_t len;
  text_of(S, tc, id, &text, &len);
  doc *d = doc_by_id(S, id);
  char *uri = d ? xstrdup(d->uri) : path_to_uri(id);
  json_t *l = json_object();
  json_object_set_new(l, "uri", output_json_string(uri));
  json_object_set_new(l, "range", range_at(text, len, loc->line, loc->col, S->utf8));
  free(uri);
  return l;
}

static json_t *diagnostic(server *S, text_cache *tc, doc *d, const gc_finding *f, bool elsewhere) {
  json_t *g = json_object();
  if (elsewhere) {
    json_object_set_new(g, "range", range_at(NULL, 0, 0, 0, S->utf8));
  } else {
    json_object_set_new(g, "range", range_at(d->text, d->len, f->loc.line, f->loc.col, S->utf8));
  }
  int sev = f->severity == GC_SEV_ERROR ? LSP_ERROR : f->severity == GC_SEV_WARNING ? LSP_WARNING : LSP_INFORMATION;
  json_object_set_new(g, "severity", json_integer(sev));
  json_object_set_new(g, "code", output_json_string(f->rule));
  if (strcmp(f->rule, RULE_CLANG_ERROR) != 0) {
    char *href = xasprintf("%s%s.md", DOCS_RULES_URI, f->rule);
    json_t *cd = json_object();
    json_object_set_new(cd, "href", output_json_string(href));
    json_object_set_new(g, "codeDescription", cd);
    free(href);
  }
  json_object_set_new(g, "source", json_string("gilcheck"));
  if (elsewhere) {
    char *where = S->root ? path_below(f->loc.file, S->root) : NULL;
    char *msg = f->loc.line ? xasprintf("in included file %s:%u:%u: %s", where ? where : f->loc.file, f->loc.line,
                                        f->loc.col, f->msg)
                            : xasprintf("%s", f->msg);
    json_object_set_new(g, "message", output_json_string(msg));
    free(msg);
    free(where);
  } else {
    json_object_set_new(g, "message", output_json_string(f->msg));
  }
  if (f->nnotes) {
    json_t *rel = json_array();
    for (int k = 0; k < f->nnotes; k++) {
      const gc_note *n = &f->notes[k];
      char *id = n->loc.file && n->loc.file[0] ? identity(n->loc.file) : xstrdup(d->id);
      json_t *ri = json_object();
      json_object_set_new(ri, "location", location(S, tc, &n->loc, id));
      json_object_set_new(ri, "message", output_json_string(n->msg));
      json_array_append_new(rel, ri);
      free(id);
    }
    json_object_set_new(g, "relatedInformation", rel);
  }
  return g;
}

static void publish(server *S, doc *d, json_t *diagnostics) {
  json_t *p = json_object();
  json_object_set_new(p, "uri", json_string(d->uri));
  if (diagnostics) json_object_set_new(p, "version", json_integer(d->version));
  json_object_set_new(p, "diagnostics", diagnostics ? diagnostics : json_array());
  notify(S, "textDocument/publishDiagnostics", p);
}

static bool rule_on(void *ctx, const char *file, const char *rule) {
  const bool *rules = ctx;
  int r = rule_by_id(rule);
  return r < 0 || rules[r];
}

/* Should this document be analysed at all? C sources and headers. */
static bool analysable(const doc *d) {
  if (!d->path) return false;
  return ends_with(d->path, ".c") || ends_with(d->path, ".h");
}

static void check(server *S, doc *d) {
  if (!analysable(d)) {
    log_verbose("%s: not a C file; not analysed", d->path ? d->path : d->uri);
    return;
  }
  /* The configuration, read afresh so that edits to it apply at once. */
  config_set *cs = config_set_new(NULL);
  char *err = NULL;
  const gc_config *c = config_for(cs, d->path, &err);
  if (err) {
    log_message(S, LSP_WARNING, "%s", err);
    free(err);
  }
  if (c && config_excludes(c, d->path)) {
    log_verbose("%s: excluded by %s", d->path, c->path);
    publish(S, d, json_array());
    config_set_free(cs);
    return;
  }
  gc_program_opts opts;
  memset(&opts, 0, sizeof opts);
  config_rules(c, NULL, opts.rules);
  if (c) {
    bool applied = false;
    for (int i = 0; i < S->napi_applied && !applied; i++) applied = strcmp(S->api_applied[i], c->path) == 0;
    if (!applied) {
      config_apply_api(c);
      S->api_applied = xrealloc(S->api_applied, sizeof(char *) * (size_t)(S->napi_applied + 1));
      S->api_applied[S->napi_applied++] = xstrdup(c->path);
    }
  }

  if (!d->session) {
    gc_job job;
    job_for(S, d, &job);
    d->session = session_open(&job);
    job_free(&job);
  }
  gc_findings all = {0}, found = {0};
  int rc = session_check(d->session, d->text, d->len, &opts, &found, &all);
  diag_move_all(&all, &found);

  /* NOLINT comments, then the configuration, as on the command line. The
   * comments are read from disk: checks run on open and save, when the
   * file holds what the editor shows. */
  const gc_job *job = session_job(d->session);
  char *files[1] = {job->file};
  source_cache_free();
  suppress_opts so = {false, rule_on, opts.rules};
  suppress_apply(&all, files, 1, &so);
  source_cache_free();

  text_cache tc = {0};
  json_t *diags = json_array();
  int shown = 0;
  for (int i = 0; i < all.n; i++) {
    gc_finding *f = &all.v[i];
    bool is_error = strcmp(f->rule, RULE_CLANG_ERROR) == 0;
    if (!is_error) {
      int r = rule_by_id(f->rule);
      if (r >= 0 && !opts.rules[r]) continue;
      f->severity = config_severity(c, f->rule, f->severity);
    }
    char *fid = f->loc.file && f->loc.file[0] ? identity(f->loc.file) : xstrdup(d->id);
    bool here = strcmp(fid, d->id) == 0;
    free(fid);
    if (!here && !is_error) continue;       /* a header's finding: shown when it is opened */
    json_array_append_new(diags, diagnostic(S, &tc, d, f, !here));
    shown++;
  }
  text_cache_free(&tc);
  diag_free(&all);
  config_set_free(cs);

  const gc_session_stats *st = session_stats(d->session);
  log_verbose("checked %s (version %lld): %s%s %.1f ms, lower %.1f ms, analyse %.1f ms; %d diagnostic%s%s", d->path,
      (long long)d->version, st->reparsed ? "reparse" : "parse", st->all_decls ? " (all declarations)" : "", st->parse_ms, st->lower_ms, st->analyse_ms, shown,
      shown == 1 ? "" : "s", rc ? " (not analysed: errors)" : "");
  publish(S, d, diags);
}

/* ---- methods ---- */

static const char *str_at(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static void on_initialize(server *S, json_t *id, json_t *params) {
  if (!json_is_object(params)) {
    reply_error(S, id, RPC_INVALID_PARAMS, "initialize: params must be an object");
    return;
  }
  const char *root_uri = str_at(params, "rootUri");
  char *root = root_uri ? uri_to_path(root_uri) : NULL;
  if (!root && str_at(params, "rootPath")) root = xstrdup(str_at(params, "rootPath"));
  json_t *folders = json_object_get(params, "workspaceFolders");
  if (!root && json_is_array(folders) && json_array_size(folders) > 0) {
    const char *u = str_at(json_array_get(folders, 0), "uri");
    if (u) root = uri_to_path(u);
  }
  if (root) {
    S->root = cdb_absolute_path(root, NULL);
    free(root);
  }
  json_t *opts = json_object_get(params, "initializationOptions");
  const char *cdb = json_is_object(opts) ? str_at(opts, "compilationDatabasePath") : NULL;
  if (cdb && !S->cdb_from_cmdline) {
    free(S->cdb_dir);
    S->cdb_dir = cdb_absolute_path(cdb, S->root);
  }
  json_t *encs = json_object_get(json_object_get(json_object_get(params, "capabilities"), "general"),
                                 "positionEncodings");
  size_t i;
  json_t *e;
  json_array_foreach(encs, i, e) if (json_is_string(e) && strcmp(json_string_value(e), "utf-8") == 0) S->utf8 = true;
  log_verbose("initialize: root %s, compilation database %s, positions in %s", S->root ? S->root : "(none)",
      S->cdb_dir ? S->cdb_dir : "(found per file)", S->utf8 ? "utf-8" : "utf-16");

  json_t *sync = json_object();
  json_object_set_new(sync, "openClose", json_true());
  json_object_set_new(sync, "change", json_integer(1));      /* Full */
  json_t *save = json_object();
  json_object_set_new(save, "includeText", json_false());
  json_object_set_new(sync, "save", save);
  json_t *caps = json_object();
  if (S->utf8) json_object_set_new(caps, "positionEncoding", json_string("utf-8"));
  json_object_set_new(caps, "textDocumentSync", sync);
  json_t *info = json_object();
  json_object_set_new(info, "name", json_string("gilcheck"));
  json_object_set_new(info, "version", json_string(GILCHECK_VERSION));
  json_t *res = json_object();
  json_object_set_new(res, "capabilities", caps);
  json_object_set_new(res, "serverInfo", info);
  S->initialized = true;
  reply(S, id, res);
}

/* params.textDocument.uri, or NULL after logging. */
static const char *doc_uri(const char *method, json_t *params) {
  const char *uri = str_at(json_object_get(params, "textDocument"), "uri");
  if (!uri) log_info("%s: params.textDocument.uri is missing; ignored", method);
  return uri;
}

static void on_did_open(server *S, json_t *params) {
  json_t *td = json_object_get(params, "textDocument");
  const char *uri = str_at(td, "uri");
  json_t *text = json_object_get(td, "text");
  if (!uri || !json_is_string(text)) {
    log_info("textDocument/didOpen: params.textDocument needs uri and text; ignored");
    return;
  }
  doc *d = doc_find(S, uri);
  if (!d) {
    d = xcalloc(1, sizeof *d);
    d->uri = xstrdup(uri);
    d->path = uri_to_path(uri);
    d->id = d->path ? identity(d->path) : NULL;
    d->next = S->docs;
    S->docs = d;
  }
  free(d->text);
  d->len = json_string_length(text);
  d->text = xmalloc(d->len + 1);
  memcpy(d->text, json_string_value(text), d->len + 1);
  json_t *v = json_object_get(td, "version");
  d->version = json_is_integer(v) ? json_integer_value(v) : 0;
  check(S, d);
}

/* Replaces bytes [A, B) of the document with REPL. */
static void replace_text(doc *d, size_t a, size_t b, const char *repl, size_t n) {
  if (b < a) { size_t t = a; a = b; b = t; }
  size_t len = d->len - (b - a) + n;
  char *t = xmalloc(len + 1);
  memcpy(t, d->text, a);
  memcpy(t + a, repl, n);
  memcpy(t + a + n, d->text + b, d->len - b);
  t[len] = 0;
  free(d->text);
  d->text = t;
  d->len = len;
}

static void on_did_change(server *S, json_t *params) {
  const char *uri = doc_uri("textDocument/didChange", params);
  if (!uri) return;
  doc *d = doc_find(S, uri);
  json_t *changes = json_object_get(params, "contentChanges");
  if (!d || !json_is_array(changes)) {
    log_info("textDocument/didChange: %s; ignored", d ? "no contentChanges" : "the document is not open");
    return;
  }
  size_t i;
  json_t *ch;
  json_array_foreach(changes, i, ch) {
    json_t *text = json_object_get(ch, "text");
    if (!json_is_string(text)) continue;
    json_t *range = json_object_get(ch, "range");
    if (json_is_object(range)) {          /* an incremental change, though we asked for full text */
      json_t *s = json_object_get(range, "start"), *e = json_object_get(range, "end");
      size_t a = offset_of(d->text, d->len, json_integer_value(json_object_get(s, "line")),
                           json_integer_value(json_object_get(s, "character")), S->utf8);
      size_t b = offset_of(d->text, d->len, json_integer_value(json_object_get(e, "line")),
                           json_integer_value(json_object_get(e, "character")), S->utf8);
      replace_text(d, a, b, json_string_value(text), json_string_length(text));
    } else {
      replace_text(d, 0, d->len, json_string_value(text), json_string_length(text));
    }
  }
  json_t *v = json_object_get(json_object_get(params, "textDocument"), "version");
  if (json_is_integer(v)) d->version = json_integer_value(v);
}

static void on_did_save(server *S, json_t *params) {
  const char *uri = doc_uri("textDocument/didSave", params);
  if (!uri) return;
  doc *d = doc_find(S, uri);
  if (!d) {
    log_info("textDocument/didSave: %s is not open; ignored", uri);
    return;
  }
  json_t *text = json_object_get(params, "text");
  if (json_is_string(text)) replace_text(d, 0, d->len, json_string_value(text), json_string_length(text));
  check(S, d);
}

static void on_did_close(server *S, json_t *params) {
  const char *uri = doc_uri("textDocument/didClose", params);
  if (!uri) return;
  for (doc **p = &S->docs; *p; p = &(*p)->next) {
    if (strcmp((*p)->uri, uri) != 0) continue;
    doc *d = *p;
    *p = d->next;
    publish(S, d, NULL);
    log_verbose("closed %s", d->path ? d->path : d->uri);
    doc_free(d);
    return;
  }
  log_info("textDocument/didClose: %s is not open; ignored", uri);
}

/* Handles one message. Returns -1 to go on, else the exit status. */
static int handle(server *S, const char *body, size_t len) {
  json_error_t jerr;
  json_t *msg = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
  if (!msg) {
    reply_error(S, NULL, RPC_PARSE_ERROR, "parse error: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
    return -1;
  }
  int status = -1;
  bool obj = json_is_object(msg);
  json_t *raw_id = obj ? json_object_get(msg, "id") : NULL;
  bool id_ok = !raw_id || json_is_string(raw_id) || json_is_integer(raw_id) || json_is_real(raw_id) ||
               json_is_null(raw_id);
  json_t *id = id_ok ? raw_id : NULL;
  const char *method = obj ? str_at(msg, "method") : NULL;
  const char *version = obj ? str_at(msg, "jsonrpc") : NULL;
  json_t *params = obj ? json_object_get(msg, "params") : NULL;
  bool request = id != NULL;

  if (!obj) {
    reply_error(S, NULL, RPC_INVALID_REQUEST, "invalid request: a message must be a JSON object");
  } else if (!json_object_get(msg, "method") && (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
    /* a response: the server sends no requests, so there is nothing to match */
  } else if (!id_ok) {
    reply_error(S, NULL, RPC_INVALID_REQUEST, "invalid request: \"id\" must be a number or a string");
  } else if (!version || strcmp(version, "2.0") != 0) {
    reply_error(S, id, RPC_INVALID_REQUEST, "invalid request: \"jsonrpc\" must be \"2.0\"");
  } else if (!method) {
    reply_error(S, id, RPC_INVALID_REQUEST, "invalid request: no \"method\" string");
  } else if (params && !json_is_object(params) && !json_is_array(params)) {
    reply_error(S, id, RPC_INVALID_REQUEST, "invalid request: \"params\" must be an object or an array");
  } else if (strcmp(method, "exit") == 0) {
    status = S->shut_down ? 0 : 1;
    log_verbose("exit%s", S->shut_down ? "" : " without shutdown");
  } else if (!S->initialized) {
    if (request && strcmp(method, "initialize") == 0) on_initialize(S, id, params);
    else if (request) reply_error(S, id, LSP_SERVER_NOT_INITIALIZED, "%s: the server is not initialized yet", method);
  } else if (S->shut_down) {
    if (request) reply_error(S, id, RPC_INVALID_REQUEST, "%s: the server is shut down", method);
  } else if (request) {
    if (strcmp(method, "initialize") == 0) {
      reply_error(S, id, RPC_INVALID_REQUEST, "initialize: the server is already initialized");
    } else if (strcmp(method, "shutdown") == 0) {
      S->shut_down = true;
      log_verbose("shutdown");
      reply(S, id, NULL);
    } else {
      reply_error(S, id, RPC_METHOD_NOT_FOUND, "%s: no such method", method);
    }
  } else if (strcmp(method, "textDocument/didOpen") == 0) {
    on_did_open(S, params);
  } else if (strcmp(method, "textDocument/didChange") == 0) {
    on_did_change(S, params);
  } else if (strcmp(method, "textDocument/didSave") == 0) {
    on_did_save(S, params);
  } else if (strcmp(method, "textDocument/didClose") == 0) {
    on_did_close(S, params);
  } else {
    log_verbose("%s: ignored", method);               /* initialized, $/..., and the rest */
  }
  json_decref(msg);
  return status;
}

/* ---- the command line and the loop ---- */

static void lsp_usage(FILE *out) {
  fputs("usage: gilcheck --lsp [-v] [-p BUILD_DIR]\n"
        "\n"
        "Runs gilcheck as a Language Server on standard input and output: open\n"
        "and saved C files are checked and their findings published as\n"
        "diagnostics. Flags come from the compile_commands.json above each file\n"
        "(or in BUILD_DIR, or initializationOptions.compilationDatabasePath),\n"
        "else from the Python include directories.\n"
        "\n"
        "  -p BUILD_DIR   use BUILD_DIR/compile_commands.json for every document\n"
        "  -v             log what the server does, and the time of each check,\n"
        "                 to standard error\n",
        out);
}

int lsp_main(int argc, char **argv) {
  server S;
  memset(&S, 0, sizeof S);
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      log_set_verbose(true);
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      lsp_usage(stdout);
      return 0;
    } else if (strncmp(a, "-p", 2) == 0) {
      const char *v = a[2] ? (a[2] == '=' ? a + 3 : a + 2) : (i + 1 < argc ? argv[++i] : NULL);
      if (!v || !*v) {
        log_error("option '-p' needs a value");
        return 2;
      }
      free(S.cdb_dir);
      S.cdb_dir = cdb_absolute_path(v, NULL);
      S.cdb_from_cmdline = true;
    } else {
      log_error("unknown option '%s' for --lsp", a);
      lsp_usage(stderr);
      return 2;
    }
  }

  log_set_prefix("gilcheck-lsp");

  /* The protocol owns standard input and output: keep streams of our own
   * on them (closed in child processes) and point descriptors 0 and 1 at
   * /dev/null and standard error, so that nothing printed elsewhere can
   * corrupt the stream and no child (python3 for the include directories)
   * can read the client's messages. A client that goes away is an error on
   * write, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  fflush(stdout);
  int out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
  int in_fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
  S.out = out_fd >= 0 ? fdopen(out_fd, "wb") : NULL;
  S.in = in_fd >= 0 ? fdopen(in_fd, "rb") : NULL;
  if (S.out) dup2(2, 1);
  else S.out = stdout;
  if (S.in) {
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0 && null_fd != 0) {
      dup2(null_fd, 0);
      close(null_fd);
    }
  } else {
    S.in = stdin;
  }
  log_verbose("gilcheck %s language server (%s)", GILCHECK_VERSION, program_clang_version());

  int status = -1;
  while (status < 0) {
    char *body = NULL;
    size_t len = 0;
    int r = read_message(S.in, &body, &len);
    if (r == 0) {
      status = S.shut_down ? 0 : 1;
      log_verbose("end of input%s", S.shut_down ? "" : " without shutdown");
      break;
    }
    if (r < 0) continue;
    status = handle(&S, body, len);
    free(body);
    if (ferror(S.out)) {
      status = S.shut_down ? 0 : 1;
      break;
    }
  }

  while (S.docs) {
    doc *d = S.docs;
    S.docs = d->next;
    doc_free(d);
  }
  for (int i = 0; i < S.nfallback; i++) free(S.fallback[i]);
  free(S.fallback);
  for (int i = 0; i < S.napi_applied; i++) free(S.api_applied[i]);
  free(S.api_applied);
  free(S.root);
  free(S.cdb_dir);
  if (S.out != stdout) fclose(S.out);
  if (S.in != stdin) fclose(S.in);
  return status;
}
