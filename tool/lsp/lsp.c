/* lsp.c: `gilcheck --lsp`, a Language Server over stdio (JSON-RPC 2.0 with
 * Content-Length framing), so that editors show gilcheck's findings as
 * diagnostics.
 *
 * What it offers: full-text document sync (didOpen, didChange, didSave
 * without text, didClose) and nothing else. A document is checked when it is
 * opened and when it is saved: its flags come from the compilation database
 * (-p, initializationOptions.compilationDatabasePath, or the one above it),
 * else from the Python include directories, as on the command line; its
 * .gilcheck.yml and NOLINT comments apply as on the command line too. Each
 * open document keeps a libclang unit with a precompiled preamble
 * (session.c), so a re-check on save reparses only the file's body.
 *
 * The whole database: when a document has a compilation database, every C
 * unit of that database is lowered in the background (project.c: worker
 * threads, through the result cache) and kept, and the document is
 * analysed together with them — its own unit, from the editor's text, in
 * place of its file's database unit — with only its own findings reported,
 * as `gilcheck -p DIR FILE` reports them. A check publishes at once with
 * what is known, and the open documents are analysed again (without
 * reparsing) when the background units arrive, and published when their
 * diagnostics changed. The database and every file its units read are
 * polled every POLL_MS; files the client watches for us (dynamic
 * registration of workspace/didChangeWatchedFiles) are left to its
 * notifications, which make the server look at once.
 *
 * Threads: a reader thread turns standard input into a queue of messages;
 * the main thread handles them one at a time, takes in the workers' units,
 * and polls, so everything but parsing and lowering happens on it.
 *
 * The findings in the document are published as diagnostics (code = rule
 * id, codeDescription = the rule's page, notes as relatedInformation);
 * parse errors are published as errors (code clang-diagnostic-error), those
 * in an included file at the top of the document. A database that cannot
 * be used is said with window/showMessage, with the flags used instead.
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
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "cache.h"
#include "cdb.h"
#include "config.h"
#include "output.h"
#include "project.h"
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

/* How often the database and the project's files are looked at. */
#define POLL_MS 2000

/* The id of our one request to the client. */
#define WATCH_REQUEST "gilcheck-watch"

/* ---- small helpers ---- */

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *identity(const char *path) { return file_identity(path); }

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
  char *text;             /* as the editor has it now */
  size_t len;
  json_int_t version;
  char *ctext;            /* the text of the last check, which diagnostics point into */
  size_t clen;
  json_int_t cversion;
  bool checked;           /* ctext holds a checked text */
  bool stale;             /* its unit was lowered before the API facts changed */
  gc_session *session;    /* made on the first check */
  gc_unit *unit;          /* the last check's unit, or NULL (errors, or not checked) */
  lsp_project *project;   /* the database it belongs to, or NULL */
  char *published;        /* the last diagnostics published (JSON), to skip repeats */
  struct doc *next;
} doc;

/* A database the server has looked at. */
typedef struct proj_slot {
  lsp_project *P;
  bool explicit_db;       /* -p or compilationDatabasePath */
  char *told;             /* the last problem shown to the user, to say it once */
  bool polled;            /* looked at once (the first poll is logged) */
} proj_slot;

/* A message read by the reader thread. */
typedef struct inmsg {
  char *body;
  size_t len;
  struct inmsg *next;
} inmsg;

typedef struct server {
  FILE *out;
  bool initialized, shut_down, utf8;
  char *root;             /* the workspace's directory, or NULL */
  char *cdb_dir;          /* -p, or initializationOptions.compilationDatabasePath */
  bool cdb_from_cmdline;
  char **fallback;        /* Python include flags */
  int nfallback;
  char *fallback_explain;
  bool fallback_tried;
  gc_config **api;        /* configurations whose api facts were handed over, in order */
  int napi;
  doc *docs;
  proj_slot *projects;
  int nprojects;
  int nworkers;           /* -j */
  bool cache;             /* the result cache is wanted (not --no-cache) */
  bool can_watch;         /* the client offers dynamic didChangeWatchedFiles */
  bool watching;          /* ... and accepted our registration */
  double next_poll;       /* monotonic ms */

  /* between the reader thread, the workers and the main loop */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  inmsg *inbox, **inbox_tail;
  bool eof;               /* the reader reached the end of input */
  bool woken;             /* a worker finished a unit */
  bool abandoned;         /* a worker was left running at shutdown */
  lsp_project **closing;  /* dropped, their workers still finishing a file */
  int nclosing;
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
  unit_free(d->unit);
  free(d->uri);
  free(d->path);
  free(d->id);
  free(d->text);
  free(d->ctext);
  free(d->published);
  free(d);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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

/* window/logMessage, for what the user should be able to find, or
 * window/showMessage (SHOW), for what the user must see. */
static void tell(server *S, bool show, int type, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void tell(server *S, bool show, int type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = xvasprintf(fmt, ap);
  va_end(ap);
  log_info("%s", strncmp(text, "gilcheck: ", 10) == 0 ? text + 10 : text);
  json_t *p = json_object();
  json_object_set_new(p, "type", json_integer(type));
  json_object_set_new(p, "message", output_json_string(text));
  free(text);
  notify(S, show ? "window/showMessage" : "window/logMessage", p);
}

/* ---- reading messages (on the reader thread) ---- */

/* Standard input, read with read(2) so that the reader thread holds no
 * stdio lock and can be cancelled inside read() alone. */
typedef struct reader {
  int fd;
  char buf[65536];
  size_t pos, len;
  bool eof;
} reader;

static int rd_getc(reader *r) {
  if (r->pos == r->len) {
    if (r->eof) return EOF;
    ssize_t k;
    int old;
    do {
      pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
      k = read(r->fd, r->buf, sizeof r->buf);
      pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    } while (k < 0 && errno == EINTR);
    if (k <= 0) {
      r->eof = true;
      return EOF;
    }
    r->pos = 0;
    r->len = (size_t)k;
  }
  return (unsigned char)r->buf[r->pos++];
}

/* fgets: up to N-1 bytes, ending after a newline; NULL at the end of input
 * before any byte. */
static char *rd_gets(reader *r, char *line, size_t n) {
  size_t w = 0;
  while (w + 1 < n) {
    int c = rd_getc(r);
    if (c == EOF) break;
    line[w++] = (char)c;
    if (c == '\n') break;
  }
  if (w == 0) return NULL;
  line[w] = 0;
  return line;
}

static size_t rd_read(reader *r, char *to, size_t n) {
  size_t got = 0;
  while (got < n) {
    if (r->pos == r->len) {
      int c = rd_getc(r);                    /* refills */
      if (c == EOF) break;
      to[got++] = (char)c;
      continue;
    }
    size_t k = r->len - r->pos;
    if (k > n - got) k = n - got;
    memcpy(to + got, r->buf + r->pos, k);
    r->pos += k;
    got += k;
  }
  return got;
}

/* Reads one message. Returns 1 with *BODY (malloc'd) and *LEN, 0 at the end
 * of input, -1 after a framing error (logged; reading goes on). */
static int read_message(reader *in, char **body, size_t *len) {
  char line[1024];
  long long clen = -1;
  bool any = false, bad = false;
  for (;;) {
    if (!rd_gets(in, line, sizeof line)) return 0;
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n') {   /* a header longer than any we know */
      int c;
      while ((c = rd_getc(in)) != EOF && c != '\n') {}
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
      if (rd_getc(in) == EOF) return 0;
    return -1;
  }
  char *b = xmalloc((size_t)clen + 1);
  if (rd_read(in, b, (size_t)clen) != (size_t)clen) {
    free(b);
    return 0;
  }
  b[clen] = 0;
  *body = b;
  *len = (size_t)clen;
  return 1;
}

/* The reader: in static storage, since the thread may still be blocked in
 * read() when the server has finished with everything else. */
static reader the_reader;

static void *reader_main(void *arg) {
  server *S = arg;
  int old;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  for (;;) {
    char *body = NULL;
    size_t len = 0;
    int r = read_message(&the_reader, &body, &len);
    if (r < 0) continue;
    pthread_mutex_lock(&S->mu);
    if (r == 0) {
      S->eof = true;
    } else {
      inmsg *m = xcalloc(1, sizeof *m);
      m->body = body;
      m->len = len;
      *S->inbox_tail = m;
      S->inbox_tail = &m->next;
    }
    pthread_cond_signal(&S->cv);
    pthread_mutex_unlock(&S->mu);
    if (r == 0) return NULL;
  }
}

/* Called by a project's worker thread when a unit is ready. */
static void wake_main(void *ctx) {
  server *S = ctx;
  pthread_mutex_lock(&S->mu);
  S->woken = true;
  pthread_cond_signal(&S->cv);
  pthread_mutex_unlock(&S->mu);
}

/* ---- flags, databases and projects ---- */

/* The flags of files without a database: the Python include directories.
 * Returns the sentence saying which. */
static const char *ensure_fallback(server *S) {
  if (!S->fallback_tried) {
    S->fallback_tried = true;
    char *explain = NULL;
    if (cdb_fallback_args(&S->fallback, &S->nfallback, &explain) != 0) {
      tell(S, false, LSP_WARNING, "gilcheck: %s; analysing without Python include flags", explain);
      S->fallback = NULL;
      S->nfallback = 0;
      S->fallback_explain = xasprintf("no flags at all (%s)", explain);
      free(explain);
    } else {
      log_verbose("files without a compilation database get %s", explain);
      S->fallback_explain = explain;
    }
  }
  return S->fallback_explain;
}



/* The job for a document, as the command line would make it for the file:
 * its database entry, else the Python include flags. QUIET: no log. */
static void job_for(server *S, const doc *d, gc_job *job, bool quiet) {
  memset(job, 0, sizeof *job);
  const gc_job *e = d->project ? project_job(d->project, d->id) : NULL;
  if (e) {
    job->file = xstrdup(e->file);
    job->dir = xstrdup(e->dir);
    job->nargs = e->nargs;
    job->args = xcalloc((size_t)e->nargs + 1, sizeof(char *));
    for (int i = 0; i < e->nargs; i++) job->args[i] = xstrdup(e->args[i]);
    if (!quiet) log_verbose("%s: flags from %s/compile_commands.json", d->path, project_dir(d->project));
    return;
  }
  /* no entry of its own: the flags of its nearest entry, as the command
   * line borrows them (same directory, then the closest path) */
  int n = d->project && project_loaded(d->project) ? project_size(d->project) : 0;
  if (n > 0) {
    gc_job *jobs = xcalloc((size_t)n, sizeof *jobs);
    for (int i = 0; i < n; i++) jobs[i] = *project_job_at(d->project, i);
    int near = cdb_nearest(jobs, n, d->path);
    if (near >= 0) {
      const gc_job *e2 = &jobs[near];
      job->file = xstrdup(d->path);
      job->dir = xstrdup(e2->dir);
      job->nargs = e2->nargs;
      job->args = xcalloc((size_t)e2->nargs + 1, sizeof(char *));
      for (int i = 0; i < e2->nargs; i++) job->args[i] = xstrdup(e2->args[i]);
      if (!quiet)
        log_verbose("%s: no entry in %s/compile_commands.json; flags of its nearest entry, %s", d->path,
                    project_dir(d->project), e2->file);
      free(jobs);
      return;
    }
    free(jobs);
  }
  if (!quiet) {
    if (d->project) log_verbose("%s: no entry in %s/compile_commands.json", d->path, project_dir(d->project));
    else log_verbose("%s: no compile_commands.json above it", d->path);
  }
  ensure_fallback(S);
  job->file = xstrdup(d->path);
  job->nargs = S->nfallback;
  job->args = xcalloc((size_t)S->nfallback + 1, sizeof(char *));
  for (int i = 0; i < S->nfallback; i++) job->args[i] = xstrdup(S->fallback[i]);
}

static proj_slot *slot_of(server *S, const lsp_project *P) {
  for (int i = 0; i < S->nprojects; i++)
    if (S->projects[i].P == P) return &S->projects[i];
  return NULL;
}

/* The API facts of configuration C, the first time the server sees it.
 * They change how every unit is lowered (and the result cache's key), so
 * the workers are held back meanwhile, and units lowered before are
 * lowered again. */
static void use_config_api(server *S, const gc_config *c) {
  if (!c) return;
  for (int i = 0; i < S->napi; i++)
    if (strcmp(S->api[i]->file, c->file) == 0) return;
  char *err = NULL;
  gc_config *own = config_load(c->file, &err);
  free(err);
  if (!own) return;
  bool facts = own->needs_gil.n || own->no_gil.n || own->releases.n || own->acquires.n || own->blocking.n ||
               own->ncallbacks;
  S->api = xrealloc(S->api, sizeof *S->api * (size_t)(S->napi + 1));
  S->api[S->napi++] = own;
  if (!facts) return;
  lowering_pause();
  config_apply_api(own);
  if (S->cache) cache_enable(NULL, (const gc_config *const *)S->api, S->napi, log_is_verbose());
  lowering_resume();
  log_verbose("api facts from %s", own->path);
  for (int i = 0; i < S->nprojects; i++)
    if (project_loaded(S->projects[i].P)) project_relower_all(S->projects[i].P);
  for (doc *d = S->docs; d; d = d->next)
    if (d->unit) d->stale = true;
}

/* The configurations of the database's files, before any of them is
 * lowered: their API facts (the command line takes them all), and their
 * exclude globs (an excluded file gives no summaries, as on the command
 * line). */
static void use_project_configs(server *S, lsp_project *P) {
  config_set *cs = config_set_new(NULL);
  for (int i = 0; i < project_size(P); i++) {
    const char *file = project_job_at(P, i)->file;
    char *err = NULL;
    const gc_config *c = config_for(cs, file, &err);
    if (err) log_verbose("%s", err);
    free(err);
    use_config_api(S, c);
    bool excluded = c && config_excludes(c, file);
    if (excluded) log_verbose("%s: excluded by %s; no summaries", file, c->path);
    project_set_excluded(P, i, excluded);
  }
  config_set_free(cs);
}

/* The project for the database in DIR (absolute): the one open, or a new
 * one. A database that cannot be read is said to the user once. */
static lsp_project *project_get(server *S, const char *dir, bool explicit_db) {
  for (int i = 0; i < S->nprojects; i++)
    if (strcmp(project_dir(S->projects[i].P), dir) == 0) return S->projects[i].P;
  lsp_project *P = project_open(dir, S->nworkers, wake_main, S);
  S->projects = xrealloc(S->projects, sizeof *S->projects * (size_t)(S->nprojects + 1));
  proj_slot *slot = &S->projects[S->nprojects++];
  memset(slot, 0, sizeof *slot);
  slot->P = P;
  slot->explicit_db = explicit_db;
  if (project_loaded(P)) use_project_configs(S, P);
  else if (!explicit_db) {            /* the explicit one is said at initialize */
    slot->told = xstrdup(project_error(P));
    tell(S, true, LSP_WARNING, "gilcheck: %s; the files below %s are checked with %s", project_error(P), dir,
         ensure_fallback(S));
  }
  return P;
}

/* Which database a document belongs to: -p (or compilationDatabasePath)
 * when it can be read, else the compile_commands.json in the file's
 * directory or above (or in an ancestor's build/), else the workspace
 * root's (or its build/'s). NULL: none that can be read. */
static lsp_project *project_of(server *S, const doc *d) {
  if (!d->path) return NULL;
  if (S->cdb_dir) {
    lsp_project *P = project_get(S, S->cdb_dir, true);
    if (project_loaded(P)) return P;
  }
  char *dir = cdb_find_for_file(d->path);
  if (!dir && S->root) {
    char *cand[2] = {xasprintf("%s/compile_commands.json", S->root),
                     xasprintf("%s/build/compile_commands.json", S->root)};
    for (int i = 0; i < 2 && !dir; i++)
      if (access(cand[i], F_OK) == 0) {
        *strrchr(cand[i], '/') = 0;
        dir = xstrdup(cand[i]);
      }
    free(cand[0]);
    free(cand[1]);
  }
  if (!dir) return NULL;
  char *abs = cdb_absolute_path(dir, NULL);
  free(dir);
  lsp_project *P = project_get(S, abs, false);
  free(abs);
  return project_loaded(P) ? P : NULL;
}

/* Closes the projects no document uses any more (their units are read back
 * from the result cache when one is opened again). The database of -p is
 * kept (its units are lowered from the start), and so are those that could
 * not be read, so that it is said once. */
static void drop_unused_projects(server *S) {
  for (int i = 0; i < S->nprojects;) {
    proj_slot *s = &S->projects[i];
    bool used = false;
    for (doc *d = S->docs; d && !used; d = d->next) used = d->project == s->P;
    if (used || !project_loaded(s->P) || s->explicit_db) {
      i++;
      continue;
    }
    log_verbose("%s/compile_commands.json: no open document uses it; its units are dropped", project_dir(s->P));
    if (!project_close(s->P, 0)) {           /* a worker is in a file: finished at a later poll */
      S->closing = xrealloc(S->closing, sizeof *S->closing * (size_t)(S->nclosing + 1));
      S->closing[S->nclosing++] = s->P;
    }
    free(s->told);
    S->projects[i] = S->projects[--S->nprojects];
  }
  for (int i = 0; i < S->nclosing;)
    if (project_close(S->closing[i], 0)) S->closing[i] = S->closing[--S->nclosing];
    else i++;
}

/* ---- checking a document ---- */

/* Texts of the files that findings and notes point into: the open
 * documents as they were checked, other files from disk. */
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
  if (d && d->checked) {
    t = d->ctext;
    n = d->clen;
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
    json_object_set_new(g, "range", range_at(d->ctext, d->clen, f->loc.line, f->loc.col, S->utf8));
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

/* publishDiagnostics for the document's last check; DIAGNOSTICS NULL
 * clears them (at close). Unless ALWAYS, diagnostics identical to those
 * last published are not sent again. Returns whether it sent them. */
static bool publish(server *S, doc *d, json_t *diagnostics, bool always) {
  json_t *p = json_object();
  json_object_set_new(p, "uri", json_string(d->uri));
  if (diagnostics) json_object_set_new(p, "version", json_integer(d->cversion));
  json_object_set_new(p, "diagnostics", diagnostics ? diagnostics : json_array());
  char *key = diagnostics ? json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  if (!always && key && d->published && strcmp(key, d->published) == 0) {
    free(key);
    json_decref(p);
    return false;
  }
  free(d->published);
  d->published = key;
  notify(S, "textDocument/publishDiagnostics", p);
  return true;
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

/* Publishes the document's diagnostics: ERRORS (clang's, when its last
 * check could not lower it; may be NULL) or else the findings of its unit
 * analysed with its project's units, filtered by its configuration and
 * NOLINT comments as on the command line. ST: the check's parse and lower
 * times (NULL: an analysis again, after the project's units changed; then
 * only changed diagnostics are sent). */
static void publish_check(server *S, doc *d, gc_findings *errors, const gc_session_stats *st) {
  /* The configuration, read afresh so that edits to it apply at once. */
  config_set *cs = config_set_new(NULL);
  char *err = NULL;
  const gc_config *c = config_for(cs, d->path, &err);
  if (err) {
    if (st) tell(S, false, LSP_WARNING, "%s", err);
    free(err);
  }
  if (c && config_excludes(c, d->path)) {
    log_verbose("%s: excluded by %s", d->path, c->path);
    publish(S, d, json_array(), st != NULL);
    config_set_free(cs);
    return;
  }
  gc_program_opts opts;
  memset(&opts, 0, sizeof opts);
  config_rules(c, NULL, opts.rules);
  opts.verbose = log_is_verbose();
  /* free threading: rules the configuration names report everywhere, not
   * only where a module declares free-threading support (as on the command
   * line) */
  if (c)
    for (int i = 0; i < c->checks.n; i++) checks_apply(opts.rules_everywhere, c->checks.v[i], NULL);
  for (int r = 0; r < R_COUNT; r++) opts.rules_everywhere[r] &= opts.rules[r];

  gc_findings all = {0};
  if (errors) diag_move_all(&all, errors);
  double t0 = now_ms();
  int nothers = 0, missing = 0;
  if (d->unit) {
    const gc_unit **others = NULL;
    if (d->project) nothers = project_units(d->project, d->id, &others, &missing);
    gc_findings found = {0};
    project_analyze(d->unit, others, nothers, &opts, &found);
    free(others);
    diag_move_all(&all, &found);
  }
  double analyse_ms = now_ms() - t0;

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

  char *with = NULL;
  if (d->project)
    with = xasprintf("; with the units of %d of %d other file%s of %s/compile_commands.json", nothers,
                     nothers + missing, nothers + missing == 1 ? "" : "s", project_dir(d->project));
  bool sent = publish(S, d, diags, st != NULL);
  if (st)
    log_verbose("checked %s (version %lld): %s%s %.1f ms, lower %.1f ms, analyse %.1f ms; %d diagnostic%s%s%s", d->path,
        (long long)d->cversion, st->reparsed ? "reparse" : "parse", st->all_decls ? " (all declarations)" : "",
        st->parse_ms, st->lower_ms, analyse_ms, shown, shown == 1 ? "" : "s", d->unit ? "" : " (not analysed: errors)",
        with ? with : "");
  else
    log_verbose("analysed %s (version %lld) again: analyse %.1f ms; %d diagnostic%s (%s)%s", d->path,
        (long long)d->cversion, analyse_ms, shown, shown == 1 ? "" : "s", sent ? "published" : "unchanged",
        with ? with : "");
  if (missing)
    log_verbose("%s: %d file%s of %s/compile_commands.json %s no summaries (not lowered yet, not analysable, or "
        "excluded): calls into their functions are not followed", d->path, missing, missing == 1 ? "" : "s",
        project_dir(d->project), missing == 1 ? "has" : "have");
  free(with);
}

/* The units of D's project changed: analyses its other open documents
 * again (their kept units, no parse) and publishes what changed. */
static void analyse_project_docs(server *S, lsp_project *P, const doc *except) {
  if (S->shut_down) return;
  for (doc *d = S->docs; d; d = d->next)
    if (d != except && d->project == P && d->unit && d->checked) publish_check(S, d, NULL, NULL);
}

static void set_unit(doc *d, gc_unit *u) {
  gc_unit *old = d->unit;
  d->unit = u;
  if (d->project) project_set_open(d->project, d->id, u, true);
  unit_free(old);
}

/* Checks the document: FROM_EDITOR, its text as the editor has it now (on
 * open and save); else the text of its last check again (a header, the
 * database or the API facts changed). */
static void check(server *S, doc *d, bool from_editor) {
  if (!analysable(d)) {
    log_verbose("%s: not a C file; not analysed", d->path ? d->path : d->uri);
    return;
  }
  if (from_editor) {
    free(d->ctext);
    d->ctext = xmalloc(d->len + 1);
    memcpy(d->ctext, d->text, d->len + 1);
    d->clen = d->len;
    d->cversion = d->version;
    d->checked = true;
  }
  if (!d->checked) return;
  config_set *cs = config_set_new(NULL);
  char *err = NULL;
  const gc_config *c = config_for(cs, d->path, &err);
  free(err);                                  /* said by publish_check */
  if (c && config_excludes(c, d->path)) {
    config_set_free(cs);
    set_unit(d, NULL);
    publish_check(S, d, NULL, &(gc_session_stats){0});
    return;
  }
  use_config_api(S, c);
  config_set_free(cs);

  if (!d->session) {
    gc_job job;
    job_for(S, d, &job, false);
    d->session = session_open(&job);
    cdb_job_clear(&job);
  }
  gc_findings errors = {0};
  gc_unit *u = NULL;
  session_lower(d->session, d->ctext, d->clen, &errors, &u);
  set_unit(d, u);
  d->stale = false;
  publish_check(S, d, &errors, session_stats(d->session));
  diag_free(&errors);
  /* the other open documents see this one's new unit */
  if (d->project && project_job(d->project, d->id)) analyse_project_docs(S, d->project, d);
}

/* ---- the background's units, and changes on disk ---- */

/* Takes in the units the workers finished; when a project's picture is
 * complete again, its open documents are analysed again. */
static void collect_all(server *S) {
  for (int i = 0; i < S->nprojects; i++) {
    lsp_project *P = S->projects[i].P;
    if (!project_collect(P)) continue;
    if (log_is_verbose()) {
      int lowered, cached;
      double ms;
      project_stats(P, &lowered, &cached, &ms);
      const char *file, *why;
      int failed = project_failures(P, &file, &why);
      log_verbose("%s/compile_commands.json: the units of %d file%s are ready in %.0f ms (%d lowered so far, %d from "
          "the cache; %zu KB kept)", project_dir(P), project_size(P), project_size(P) == 1 ? "" : "s", ms, lowered,
          cached, project_memory(P) >> 10);
      if (failed)
        log_verbose("%d file%s could not be analysed (the first: %s): calls into %s functions are not followed",
            failed, failed == 1 ? "" : "s", why, failed == 1 ? "its" : "their");
    }
    analyse_project_docs(S, P, NULL);
  }
}

/* Files the client watches for us: C files and compile_commands.json
 * under the workspace root. */
static bool watched_by_client(void *ctx, const char *path) {
  server *S = ctx;
  if (!S->watching || !S->root) return false;
  size_t n = strlen(S->root);
  if (strncmp(path, S->root, n) != 0 || (path[n] != '/' && !(n > 0 && S->root[n - 1] == '/'))) return false;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  return ends_with(path, ".c") || ends_with(path, ".h") || strcmp(base, "compile_commands.json") == 0;
}

/* Looks for changes: each database and its units' files (ALL: also those
 * the client watches), then each document's database, flags and headers. */
static void poll_all(server *S, bool all) {
  if (!S->initialized || S->shut_down) return;
  lsp_project **reread = xcalloc((size_t)S->nprojects + 1, sizeof *reread);
  int nreread = 0;
  for (int i = 0; i < S->nprojects; i++) {
    proj_slot *slot = &S->projects[i];
    lsp_project *P = slot->P;
    bool was_loaded = project_loaded(P);
    int looked = 0;
    double t0 = now_ms();
    int bits = project_poll(P, all ? NULL : watched_by_client, S, &looked);
    double ms = now_ms() - t0;
    if (!slot->polled || bits || ms > 50)
      log_verbose("%s/compile_commands.json: looked at %d file%s in %.1f ms%s", project_dir(P), looked,
          looked == 1 ? "" : "s", ms, bits ? ": changes" : "");
    slot->polled = true;
    if (bits & PROJECT_DB_FAILED) {
      const char *e = project_error(P);
      if (!slot->told || strcmp(slot->told, e) != 0) {
        free(slot->told);
        slot->told = xstrdup(e);
        if (was_loaded)
          tell(S, true, LSP_WARNING, "gilcheck: %s; keeping the entries read before", e);
        else
          tell(S, true, slot->explicit_db ? LSP_ERROR : LSP_WARNING, "gilcheck: %s; still checking with %s", e,
               slot->explicit_db ? "the fallback flags" : ensure_fallback(S));
      }
    } else if (bits & PROJECT_DB_CHANGED) {
      free(slot->told);
      slot->told = NULL;
      if (!was_loaded)
        tell(S, true, LSP_INFORMATION, "gilcheck: %s/compile_commands.json can be read now: using it", project_dir(P));
      else
        log_verbose("%s/compile_commands.json changed: read again", project_dir(P));
      use_project_configs(S, P);
      for (doc *d = S->docs; d; d = d->next)
        if (d->project == P) project_set_open(P, d->id, d->unit, true);
      reread[nreread++] = P;
    }
    if (project_loaded(P)) project_schedule(P);
  }
  for (doc *d = S->docs; d; d = d->next) {
    if (!analysable(d) || !d->checked) continue;
    lsp_project *P = project_of(S, d);
    if (P != d->project) {
      log_verbose("%s: now in %s", d->path, P ? project_dir(P) : "no compilation database");
      if (d->project) project_set_open(d->project, d->id, NULL, false);
      d->project = P;
      session_close(d->session);
      d->session = NULL;
      check(S, d, false);
      if (P) project_schedule(P);
      continue;
    }
    if (d->session) {
      gc_job want;
      job_for(S, d, &want, true);
      bool same = cdb_job_equal(&want, session_job(d->session));
      cdb_job_clear(&want);
      if (!same) {
        log_verbose("%s: its flags changed", d->path);
        session_close(d->session);
        d->session = NULL;
        check(S, d, false);
        continue;
      }
    }
    if (d->stale || (d->session && session_headers_changed(d->session))) check(S, d, false);
  }
  /* entries may have gone, or come with units already known */
  for (int i = 0; i < nreread; i++)
    if (slot_of(S, reread[i])) analyse_project_docs(S, reread[i], NULL);
  free(reread);
  drop_unused_projects(S);
}

/* After shutdown: the workers stop (each finishes the file in hand) and
 * the units go. A worker stuck in one file for more than CLOSE_WAIT
 * seconds is not waited for: the server then ends without freeing. */
#define CLOSE_WAIT 5.0
static void close_projects(server *S) {
  for (doc *d = S->docs; d; d = d->next) d->project = NULL;
  for (int i = 0; i < S->nprojects; i++) {
    if (!project_close(S->projects[i].P, CLOSE_WAIT)) S->abandoned = true;
    free(S->projects[i].told);
  }
  for (int i = 0; i < S->nclosing; i++)
    if (!project_close(S->closing[i], CLOSE_WAIT)) S->abandoned = true;
  free(S->closing);
  S->closing = NULL;
  S->nclosing = 0;
  free(S->projects);
  S->projects = NULL;
  S->nprojects = 0;
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
  json_t *caps = json_object_get(params, "capabilities");
  json_t *encs = json_object_get(json_object_get(caps, "general"), "positionEncodings");
  size_t i;
  json_t *e;
  json_array_foreach(encs, i, e) if (json_is_string(e) && strcmp(json_string_value(e), "utf-8") == 0) S->utf8 = true;
  S->can_watch = json_is_true(json_object_get(
      json_object_get(json_object_get(caps, "workspace"), "didChangeWatchedFiles"), "dynamicRegistration"));
  log_verbose("initialize: root %s, compilation database %s, positions in %s%s", S->root ? S->root : "(none)",
      S->cdb_dir ? S->cdb_dir : "(found per file)", S->utf8 ? "utf-8" : "utf-16",
      S->can_watch ? ", the client can watch files" : "");

  json_t *sync = json_object();
  json_object_set_new(sync, "openClose", json_true());
  json_object_set_new(sync, "change", json_integer(1));      /* Full */
  json_t *save = json_object();
  json_object_set_new(save, "includeText", json_false());
  json_object_set_new(sync, "save", save);
  json_t *rcaps = json_object();
  if (S->utf8) json_object_set_new(rcaps, "positionEncoding", json_string("utf-8"));
  json_object_set_new(rcaps, "textDocumentSync", sync);
  json_t *info = json_object();
  json_object_set_new(info, "name", json_string("gilcheck"));
  json_object_set_new(info, "version", json_string(GILCHECK_VERSION));
  json_t *res = json_object();
  json_object_set_new(res, "capabilities", rcaps);
  json_object_set_new(res, "serverInfo", info);
  S->initialized = true;
  reply(S, id, res);

  /* The database given is read now, and when it cannot be used the user
   * is told at once, with the flags files get instead. */
  if (S->cdb_dir) {
    lsp_project *P = project_get(S, S->cdb_dir, true);
    proj_slot *slot = slot_of(S, P);
    if (!project_loaded(P)) {
      free(slot->told);
      slot->told = xstrdup(project_error(P));
      tell(S, true, LSP_ERROR,
           "gilcheck: cannot use the compilation database of %s: %s; each file is checked with the "
           "compile_commands.json found above it, if any, else with %s",
           S->cdb_from_cmdline ? "-p" : "compilationDatabasePath", project_error(P), ensure_fallback(S));
    } else if (project_size(P) == 0) {
      tell(S, true, LSP_WARNING, "gilcheck: %s/compile_commands.json has no C entries; C files are checked with %s",
           project_dir(P), ensure_fallback(S));
    }
  }
}

static void on_initialized(server *S) {
  /* Ask the client to watch the project's files for us, where it can. */
  if (S->can_watch && S->root) {
    json_t *watchers = json_array();
    const char *globs[] = {"**/*.c", "**/*.h", "**/compile_commands.json"};
    for (size_t i = 0; i < sizeof globs / sizeof *globs; i++) {
      json_t *w = json_object();
      json_object_set_new(w, "globPattern", json_string(globs[i]));
      json_array_append_new(watchers, w);
    }
    json_t *ropts = json_object();
    json_object_set_new(ropts, "watchers", watchers);
    json_t *reg = json_object();
    json_object_set_new(reg, "id", json_string(WATCH_REQUEST));
    json_object_set_new(reg, "method", json_string("workspace/didChangeWatchedFiles"));
    json_object_set_new(reg, "registerOptions", ropts);
    json_t *regs = json_array();
    json_array_append_new(regs, reg);
    json_t *p = json_object();
    json_object_set_new(p, "registrations", regs);
    json_t *m = message();
    json_object_set_new(m, "id", json_string(WATCH_REQUEST));
    json_object_set_new(m, "method", json_string("client/registerCapability"));
    json_object_set_new(m, "params", p);
    send(S, m);
  }
}

/* The client's answer to our registration. */
static void on_response(server *S, json_t *msg) {
  const char *id = str_at(msg, "id");
  if (!id || strcmp(id, WATCH_REQUEST) != 0) return;
  json_t *err = json_object_get(msg, "error");
  if (err) {
    log_verbose("the client does not watch files for us (%s): polling them", str_at(err, "message") ? str_at(err, "message") : "an error");
    return;
  }
  S->watching = true;
  log_verbose("the client watches the C files and compile_commands.json under %s; the rest is polled", S->root);
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
    if (analysable(d)) d->project = project_of(S, d);
  }
  free(d->text);
  d->len = json_string_length(text);
  d->text = xmalloc(d->len + 1);
  memcpy(d->text, json_string_value(text), d->len + 1);
  json_t *v = json_object_get(td, "version");
  d->version = json_is_integer(v) ? json_integer_value(v) : 0;
  check(S, d, true);
  /* the rest of the database in the background, after the first publish */
  if (d->project) project_schedule(d->project);
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
  check(S, d, true);
}

static void on_did_close(server *S, json_t *params) {
  const char *uri = doc_uri("textDocument/didClose", params);
  if (!uri) return;
  for (doc **p = &S->docs; *p; p = &(*p)->next) {
    if (strcmp((*p)->uri, uri) != 0) continue;
    doc *d = *p;
    *p = d->next;
    publish(S, d, NULL, true);
    log_verbose("closed %s", d->path ? d->path : d->uri);
    bool kept = false;                        /* will the project outlive this document? */
    for (doc *o = S->docs; o && !kept; o = o->next) kept = o->project == d->project;
    if (d->project && (kept || slot_of(S, d->project)->explicit_db)) {
      /* its last unit stands in for the file until it is lowered from disk */
      project_set_open(d->project, d->id, d->unit, false);
      d->unit = NULL;
    }
    doc_free(d);
    drop_unused_projects(S);
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
    on_response(S, msg);                             /* the answer to our one request */
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
      close_projects(S);                    /* nothing is published any more */
    } else {
      reply_error(S, id, RPC_METHOD_NOT_FOUND, "%s: no such method", method);
    }
  } else if (strcmp(method, "initialized") == 0) {
    on_initialized(S);
  } else if (strcmp(method, "textDocument/didOpen") == 0) {
    on_did_open(S, params);
  } else if (strcmp(method, "textDocument/didChange") == 0) {
    on_did_change(S, params);
  } else if (strcmp(method, "textDocument/didSave") == 0) {
    on_did_save(S, params);
  } else if (strcmp(method, "textDocument/didClose") == 0) {
    on_did_close(S, params);
  } else if (strcmp(method, "workspace/didChangeWatchedFiles") == 0) {
    log_verbose("workspace/didChangeWatchedFiles: looking at every file now");
    poll_all(S, true);
  } else {
    log_verbose("%s: ignored", method);               /* $/..., and the rest */
  }
  json_decref(msg);
  return status;
}

/* ---- the command line and the loop ---- */

static void lsp_usage(FILE *out) {
  fputs("usage: gilcheck --lsp [-v] [-p BUILD_DIR] [-j N] [--no-cache]\n"
        "\n"
        "Runs gilcheck as a Language Server on standard input and output: open\n"
        "and saved C files are checked and their findings published as\n"
        "diagnostics. Flags come from the compile_commands.json above each file\n"
        "(or in BUILD_DIR, or initializationOptions.compilationDatabasePath),\n"
        "else from the Python include directories. Every C file of that\n"
        "database is lowered in the background, so that calls into other files\n"
        "are followed as with `gilcheck -p BUILD_DIR`.\n"
        "\n"
        "  -p BUILD_DIR   use BUILD_DIR/compile_commands.json for every document\n"
        "  -j N           lower N files of the database at once in the background\n"
        "                 (default: one less than the number of cores, at least 1)\n"
        "  --no-cache     neither read nor write the result cache\n"
        "  -v             log what the server does, and the time of each check,\n"
        "                 to standard error\n",
        out);
}

/* The main loop: messages from the reader thread, units from the
 * workers, and a poll every POLL_MS. Returns the exit status. */
static int serve(server *S) {
  int status = -1;
  S->next_poll = now_ms() + POLL_MS;
  while (status < 0) {
    pthread_mutex_lock(&S->mu);
    while (!S->inbox && !S->eof && !S->woken) {
      double wait = S->next_poll - now_ms();
      if (wait <= 0) break;
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      long long ns = (long long)ts.tv_nsec + (long long)(wait * 1e6);
      ts.tv_sec += (time_t)(ns / 1000000000LL);
      ts.tv_nsec = (long)(ns % 1000000000LL);
      pthread_cond_timedwait(&S->cv, &S->mu, &ts);
    }
    inmsg *m = S->inbox;
    if (m) {
      S->inbox = m->next;
      if (!S->inbox) S->inbox_tail = &S->inbox;
    }
    bool eof = S->eof && !m;
    bool woken = S->woken;
    S->woken = false;
    pthread_mutex_unlock(&S->mu);

    if (woken && !S->shut_down) collect_all(S);
    if (m) {
      status = handle(S, m->body, m->len);
      free(m->body);
      free(m);
      if (ferror(S->out)) status = S->shut_down ? 0 : 1;
    } else if (eof) {
      status = S->shut_down ? 0 : 1;
      log_verbose("end of input%s", S->shut_down ? "" : " without shutdown");
    }
    if (status < 0 && now_ms() >= S->next_poll) {
      poll_all(S, false);
      S->next_poll = now_ms() + POLL_MS;
    }
  }
  return status;
}

int lsp_main(int argc, char **argv) {
  static server S;                  /* the reader thread may outlive lsp_main's frame */
  memset(&S, 0, sizeof S);
  S.cache = true;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  S.nworkers = cores > 2 ? (int)cores - 1 : 1;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      log_set_verbose(true);
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      lsp_usage(stdout);
      free(S.cdb_dir);
      return 0;
    } else if (strcmp(a, "--no-cache") == 0) {
      S.cache = false;
    } else if (strncmp(a, "-p", 2) == 0 || strncmp(a, "-j", 2) == 0 || strncmp(a, "--jobs", 6) == 0) {
      bool jobs = a[1] == 'j' || a[1] == '-';
      const char *rest = jobs && a[1] == '-' ? a + 6 : a + 2;
      const char *v = rest[0] ? (rest[0] == '=' ? rest + 1 : rest) : (i + 1 < argc ? argv[++i] : NULL);
      if (!v || !*v) {
        log_error("option '%s' needs a value", jobs ? (a[1] == '-' ? "--jobs" : "-j") : "-p");
        free(S.cdb_dir);
        return 2;
      }
      if (jobs) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (*end || errno || n < 1 || n > 1024) {
          log_error("'-j' needs a positive number, not '%s'", v);
          free(S.cdb_dir);
          return 2;
        }
        S.nworkers = (int)n;
      } else {
        free(S.cdb_dir);
        S.cdb_dir = cdb_absolute_path(v, NULL);
        S.cdb_from_cmdline = true;
      }
    } else {
      log_error("unknown option '%s' for --lsp", a);
      lsp_usage(stderr);
      free(S.cdb_dir);
      return 2;
    }
  }

  log_set_prefix("gilcheck-lsp");

  /* The protocol owns standard input and output: keep descriptors of our
   * own on them (closed in child processes) and point descriptors 0 and 1
   * at /dev/null and standard error, so that nothing printed elsewhere can
   * corrupt the stream and no child (python3 for the include directories)
   * can read the client's messages. A client that goes away is an error on
   * write, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  fflush(stdout);
  int out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
  int in_fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
  S.out = out_fd >= 0 ? fdopen(out_fd, "wb") : NULL;
  if (S.out) dup2(2, 1);
  else S.out = stdout;
  if (in_fd >= 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0 && null_fd != 0) {
      dup2(null_fd, 0);
      close(null_fd);
    }
  } else {
    in_fd = 0;
  }
  log_verbose("gilcheck %s language server (%s)", GILCHECK_VERSION, program_clang_version());

  /* The result cache, for the database's units (documents are parsed from
   * the editor's text). Its key includes the API facts: see use_config_api. */
  if (S.cache) cache_enable(NULL, NULL, 0, log_is_verbose());

  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&S.cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&S.mu, NULL);
  S.inbox_tail = &S.inbox;
  the_reader.fd = in_fd;
  pthread_t reader_thread;
  int status;
  int e = pthread_create(&reader_thread, NULL, reader_main, &S);
  if (e != 0) {
    log_error("cannot start the thread that reads the client's messages: %s", strerror(e));
    status = 2;
  } else {
    status = serve(&S);
    /* The reader is blocked in read() unless the input ended: cancel it
     * there (the only place it can be cancelled). */
    pthread_cancel(reader_thread);
    pthread_join(reader_thread, NULL);
  }

  while (S.inbox) {
    inmsg *m = S.inbox;
    S.inbox = m->next;
    free(m->body);
    free(m);
  }
  close_projects(&S);
  if (S.abandoned) {
    /* libclang must not be torn down under the worker still in it */
    fflush(S.out);
    fflush(stderr);
    _exit(status);
  }
  while (S.docs) {
    doc *d = S.docs;
    S.docs = d->next;
    doc_free(d);
  }
  cache_disable();
  for (int i = 0; i < S.nfallback; i++) free(S.fallback[i]);
  free(S.fallback);
  free(S.fallback_explain);
  for (int i = 0; i < S.napi; i++) config_free(S.api[i]);
  free(S.api);
  free(S.root);
  free(S.cdb_dir);
  if (S.out != stdout) fclose(S.out);
  pthread_mutex_destroy(&S.mu);
  pthread_cond_destroy(&S.cv);
  return status;
}
