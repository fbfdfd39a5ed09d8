/* cache.c: the result cache (see cache.h for what it promises).
 *
 * An entry, <dir>/<16 hex digits of the key>, is a 32-byte header and a
 * payload:
 *
 *   header   "gilcache", u32 CACHE_FORMAT, u32 32, u64 payload length,
 *            u64 hash of the payload (all little-endian as the machine is)
 *   payload  the key material, in full (the name is only its hash)
 *            the gilcheck executable's hash
 *            the deps: count, then per file its path, size, mtime (ns),
 *            ctime (ns) and the hash of its bytes
 *            the string table: count, then each string's length and bytes
 *            the ir_tu: each structure as its bytes, then its pointers
 *            (strings as indices into the table, 0 for NULL; arrays follow,
 *            their lengths being in the structure)
 *            an end mark
 *
 * Other numbers are LEB128 varints (signed ones zigzagged). The payload's
 * hash catches a truncated or damaged file; the reader also checks every
 * length and index against what it has (and every kind against its enum),
 * so even a foreign file with a good hash is a miss, never a crash.
 *
 * A file counts as unchanged when its size, mtime and ctime are those
 * recorded, or else when its bytes hash to the recorded hash. ctime cannot
 * be set by a user, so a recorded ctime is trusted only if the file had not
 * been touched for a second before the parse: an entry is not written when
 * some file it depends on is newer than that (it may have changed while
 * libclang read it, and the bytes hashed now may not be the bytes parsed).
 *
 * Known limit, as in ccache's direct mode: a header created where the
 * include path would now find it first (shadowing one that was read) is not
 * noticed until one of the files read changes. */
#define _GNU_SOURCE
#include "cache.h"
#include "xalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "api.h"
#include "config.h"
#include "hash.h"
#include "log.h"
#include "map.h"
#include "lower.h"

#ifndef GILCHECK_VERSION
#define GILCHECK_VERSION "unknown"
#endif

/* Bump whenever the payload's layout changes (the executable's hash also
 * keeps entries of another build from being used). */
#define CACHE_FORMAT 5
#define HEADER_SIZE 32
#define END_MARK 0x21444e45u          /* "END!" */
#define MAX_ENTRY ((size_t)1 << 30)   /* larger is not ours */
#define SLACK_NS 1000000000LL         /* a file touched this close to the parse is not trusted */

/* Structures are stored as their bytes, with their pointers replaced on
 * reading: a new scalar field in ir.h needs nothing here, but a new pointer
 * (a string, an array) would be read back dangling. A pointer cannot be
 * added without growing its structure, so these fail then: write and read
 * the new pointer in enc_* and dec_*, and update the size here. */
#if defined(__x86_64__) && defined(__LP64__)
_Static_assert(sizeof(gc_loc) == 16, "gc_loc changed: update cache.c");
_Static_assert(sizeof(ir_event) == 216, "ir_event changed: update cache.c");
_Static_assert(sizeof(ir_cond) == 48, "ir_cond changed: update cache.c");
_Static_assert(sizeof(ir_edge) == 8, "ir_edge changed: update cache.c");
_Static_assert(sizeof(ir_block) == 64, "ir_block changed: update cache.c");
_Static_assert(sizeof(ir_region) == 32, "ir_region changed: update cache.c");
_Static_assert(sizeof(ir_func) == 128, "ir_func changed: update cache.c");
_Static_assert(sizeof(ir_entry_hint) == 48, "ir_entry_hint changed: update cache.c");
_Static_assert(sizeof(ir_tu) == 88, "ir_tu changed: update cache.c");
_Static_assert(sizeof(ir_fnref) == 80, "ir_fnref changed: update cache.c");
_Static_assert(sizeof(ir_fnstore) == 56, "ir_fnstore changed: update cache.c");
_Static_assert(sizeof(ir_global) == 48, "ir_global changed: update cache.c");
#endif

/* ---------- hashing ---------- */

/* Keys, file contents and entry checksums: XXH3 (hash.h). */
uint64_t cache_hash(const void *data, size_t n, uint64_t seed) { return gc_hash_seed(data, n, seed); }

/* ---------- byte buffers ---------- */

typedef struct wbuf { unsigned char *p; size_t n, cap; } wbuf;

static void w_bytes(wbuf *b, const void *s, size_t n) {
  if (b->n + n > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->n + n) nc *= 2;
    unsigned char *np = xrealloc(b->p, nc);
    b->p = np;
    b->cap = nc;
  }
  if (n) memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void w_u(wbuf *b, uint64_t v) {
  unsigned char t[10];
  int n = 0;
  do {
    unsigned char c = v & 0x7f;
    v >>= 7;
    t[n++] = (unsigned char)(c | (v ? 0x80 : 0));
  } while (v);
  w_bytes(b, t, (size_t)n);
}

static void w_i(wbuf *b, int64_t v) { w_u(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

static void w_raw_str(wbuf *b, const char *s) {
  size_t n = s ? strlen(s) : 0;
  w_u(b, s ? n + 1 : 0);                /* 0: NULL */
  w_bytes(b, s, n);
}

typedef struct rbuf { const unsigned char *p, *end; bool bad; } rbuf;

static uint64_t r_u(rbuf *r) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p >= r->end) { r->bad = true; return 0; }
    unsigned char c = *r->p++;
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
  }
  r->bad = true;
  return 0;
}

static int64_t r_i(rbuf *r) {
  uint64_t u = r_u(r);
  return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* A count of items taking at least MIN bytes each: never more than the
 * rest of the buffer could hold. */
static int r_count(rbuf *r, size_t min) {
  uint64_t v = r_u(r);
  size_t left = (size_t)(r->end - r->p);
  if (r->bad || v > (uint64_t)INT_MAX || (min && v > left / min)) { r->bad = true; return 0; }
  return (int)v;
}

/* A string written by w_raw_str, copied into A (or NULL). */
static const char *r_raw_str(rbuf *r, arena *A) {
  uint64_t n = r_u(r);
  if (r->bad || n == 0) return NULL;
  n--;
  if (n > (uint64_t)(r->end - r->p)) { r->bad = true; return NULL; }
  const char *s = A ? arena_strndup(A, (const char *)r->p, (size_t)n) : NULL;
  r->p += n;
  return s;
}

/* ---------- the process-wide state (read-only once enabled) ---------- */

static struct {
  bool on, verbose;
  char *dir;
  wbuf salt;             /* the key material that is the same for every job */
  uint64_t tool;         /* hash of the executable */
  char *cwd;
  mode_t file_mode;
  atomic_int hits, misses, stores;
} G;


static int64_t ts_ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return ts_ns(t);
}

/* Reads a whole regular file; its stat after reading in *st. */
static unsigned char *slurp(const char *path, size_t max, size_t *len, struct stat *st, int *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { *err = errno; return NULL; }
  struct stat s0;
  if (fstat(fd, &s0) != 0 || !S_ISREG(s0.st_mode) || (size_t)s0.st_size > max) {
    *err = errno ? errno : EINVAL;
    close(fd);
    return NULL;
  }
  size_t cap = (size_t)s0.st_size + 1, n = 0;
  unsigned char *buf = xmalloc(cap);
  if (!buf) { close(fd); *err = ENOMEM; return NULL; }
  for (;;) {
    if (n == cap) {
      if (cap > max) { free(buf); close(fd); *err = EFBIG; return NULL; }
      unsigned char *nb = xrealloc(buf, cap * 2);
      if (!nb) { free(buf); close(fd); *err = ENOMEM; return NULL; }
      buf = nb;
      cap *= 2;
    }
    ssize_t k = read(fd, buf + n, cap - n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) { *err = errno; free(buf); close(fd); return NULL; }
    if (k == 0) break;
    n += (size_t)k;
  }
  if (st && fstat(fd, st) != 0) { *err = errno; free(buf); close(fd); return NULL; }
  close(fd);
  *len = n;
  return buf;
}

/* ---------- enabling ---------- */

char *cache_default_dir(void) {
  const char *e = getenv("GILCHECK_CACHE_DIR");
  if (e && *e) return xstrdup(e);
  char *r = NULL;
  e = getenv("XDG_CACHE_HOME");
  if (e && e[0] == '/') {
    if (asprintf(&r, "%s/gilcheck", e) < 0) r = NULL;
    return r;
  }
  e = getenv("HOME");
  if (e && *e) {
    if (asprintf(&r, "%s/.cache/gilcheck", e) < 0) r = NULL;
    return r;
  }
  return NULL;
}

/* mkdir -p; 0 or an errno. */
static int make_dirs(const char *path) {
  if (!*path) return ENOENT;
  char *p = xstrdup(path);
  if (!p) return ENOMEM;
  int err = 0;
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == 0) {
      char c = *s;
      *s = 0;
      if (mkdir(p, 0777) != 0 && errno != EEXIST) err = errno;
      else err = 0;
      *s = c;
      if (!c) break;
    }
  }
  free(p);
  struct stat st;
  if (stat(path, &st) != 0) return err ? err : errno;
  if (!S_ISDIR(st.st_mode)) return ENOTDIR;
  if (access(path, W_OK | X_OK) != 0) return errno;
  return 0;
}

static void salt_list(wbuf *b, const char *what, const gc_name_list *l) {
  w_raw_str(b, what);
  w_u(b, (uint64_t)l->n);
  for (int i = 0; i < l->n; i++) w_raw_str(b, l->v[i]);
}

bool cache_enable(const char *dir, const struct gc_config *const *configs, int nconfigs, bool verbose) {
  cache_disable();
  G.verbose = verbose;
  char *d = dir ? xstrdup(dir) : cache_default_dir();
  if (!d) {
    log_verbose("no cache directory ($GILCHECK_CACHE_DIR, $XDG_CACHE_HOME and $HOME are unset): running without the cache");
    return false;
  }
  int err = make_dirs(d);
  if (err) {
    if (dir) log_warning("cannot use the cache directory '%s': %s; running without the cache", d, strerror(err));
    else log_verbose("cannot use the cache directory '%s': %s; running without the cache", d, strerror(err));
    free(d);
    return false;
  }
  G.dir = d;
  /* What decides how every unit is lowered. */
  wbuf *s = &G.salt;
  w_raw_str(s, "gilcheck result cache");
  w_u(s, CACHE_FORMAT);
  w_raw_str(s, GILCHECK_VERSION);
  w_raw_str(s, front_clang_version());
  for (int i = 0; i < nconfigs; i++) {
    const gc_config *c = configs[i];
    w_raw_str(s, "config");
    salt_list(s, "needs-gil", &c->needs_gil);
    salt_list(s, "no-gil", &c->no_gil);
    salt_list(s, "releases", &c->releases);
    salt_list(s, "acquires", &c->acquires);
    salt_list(s, "blocking", &c->blocking);
    w_u(s, (uint64_t)c->ncallbacks);
    for (int k = 0; k < c->ncallbacks; k++) {
      w_raw_str(s, c->callbacks[k].name);
      w_i(s, c->callbacks[k].arg);
    }
  }
  /* libclang reads these too */
  static const char *const env[] = {"CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "SDKROOT", NULL};
  for (int i = 0; env[i]; i++) {
    w_raw_str(s, env[i]);
    w_raw_str(s, getenv(env[i]));
  }
  char cwd[PATH_MAX];
  G.cwd = xstrdup(getcwd(cwd, sizeof cwd) ? cwd : "");
  /* The executable: another build lowers differently. */
  size_t n = 0;
  int e2 = 0;
  unsigned char *exe = slurp("/proc/self/exe", (size_t)1 << 31, &n, NULL, &e2);
  G.tool = exe ? cache_hash(exe, n, 0x6769l) : 0;
  free(exe);
  mode_t um = umask(022);
  umask(um);
  G.file_mode = 0666 & ~um;
  atomic_store(&G.hits, 0);
  atomic_store(&G.misses, 0);
  atomic_store(&G.stores, 0);
  G.on = true;
  log_verbose("cache in %s", d);
  return true;
}

void cache_disable(void) {
  if (G.on)
    log_verbose("cache: %d hit%s, %d miss%s, %d stored", atomic_load(&G.hits), atomic_load(&G.hits) == 1 ? "" : "s",
        atomic_load(&G.misses), atomic_load(&G.misses) == 1 ? "" : "es", atomic_load(&G.stores));
  G.on = false;
  free(G.dir);
  G.dir = NULL;
  free(G.salt.p);
  memset(&G.salt, 0, sizeof G.salt);
  free(G.cwd);
  G.cwd = NULL;
}

/* ---------- keys ---------- */

static void key_material(const gc_job *job, wbuf *k) {
  w_bytes(k, G.salt.p, G.salt.n);
  /* relative paths in the job are relative to our own directory */
  bool rel_dir = !job->dir || job->dir[0] != '/';
  w_raw_str(k, rel_dir ? G.cwd : NULL);
  w_raw_str(k, job->file);
  w_raw_str(k, job->dir);
  w_u(k, (uint64_t)job->nargs);
  for (int i = 0; i < job->nargs; i++) w_raw_str(k, job->args[i]);
}

static char *entry_path(uint64_t key, const char *suffix) {
  char *p = NULL;
  if (asprintf(&p, "%s/%016llx%s", G.dir, (unsigned long long)key, suffix) < 0) return NULL;
  return p;
}

/* "cache hit: FILE" or "cache miss: FILE (WHY)" under -v, FILE relative
 * to the current directory when it is below it, as paths are shown
 * elsewhere (cache.c stands alone: the fuzz harness links it without the
 * output code). */
static void say_about(const gc_job *job, const char *what, const char *why) {
  if (!G.verbose) return;
  const char *shown = job->file;
  size_t n = G.cwd ? strlen(G.cwd) : 0;
  if (n > 1 && strncmp(shown, G.cwd, n) == 0 && shown[n] == '/' && shown[n + 1]) shown += n + 1;
  if (why) log_verbose("cache %s: %s (%s)", what, shown, why);
  else log_verbose("cache %s: %s", what, shown);
}

/* ---------- writing an entry ---------- */

typedef struct strtab {
  strmap ids;            /* interned strings -> index + 1 */
  uint32_t n;
  wbuf out;              /* the table as it will be written */
} strtab;

static uint32_t intern(strtab *t, const char *s) {
  void **slot = strmap_at(&t->ids, s);
  if (*slot) return (uint32_t)(uintptr_t)*slot;
  *slot = (void *)(uintptr_t)++t->n;
  size_t len = strlen(s);
  w_u(&t->out, len);
  w_bytes(&t->out, s, len);
  return t->n;
}

typedef struct enc { wbuf b; strtab st; } enc;

/* Each structure is written as its bytes, so that a field added to ir.h is
 * carried without a change here, then its pointers, each string as an index
 * into the table (0: NULL). A pointer added to ir.h makes the structure
 * larger, which the assertions at the top catch. */
static void enc_raw(enc *e, const void *p, size_t n) { w_bytes(&e->b, p, n); }

static void enc_str(enc *e, const char *s) { w_u(&e->b, s ? intern(&e->st, s) : 0); }

/* An event's pointers; its bytes go with its block's array. */
static void enc_event(enc *e, const ir_event *v) {
  enc_str(e, v->loc.file);
  enc_str(e, v->macro);
  enc_str(e, v->callee);
  enc_str(e, v->callee_usr);
  for (int i = 0; i < IR_MAX_ARGS; i++) enc_str(e, v->argtext[i]);
  enc_str(e, v->slot);
  enc_str(e, v->callee_header);
  enc_str(e, v->held);
  if (v->kind == EV_FNREF && v->fnref) {
    const ir_fnref *r = v->fnref;
    enc_raw(e, r, sizeof *r);
    enc_str(e, r->fn);
    enc_str(e, r->fn_usr);
    enc_str(e, r->field);
    enc_str(e, r->slot);
    enc_str(e, r->registrar);
    enc_str(e, r->registrar_usr);
    enc_str(e, r->header);
    enc_str(e, r->param);
    enc_str(e, r->param_type);
  }
  /* api: looked up again by callee on reading; callee_fn, callee_set: set at link */
}

/* Arrays are written as their bytes in one piece, then each element's
 * pointers: the order dec_* reads them in. */
static void enc_func(enc *e, const ir_func *f) {
  enc_raw(e, f, sizeof *f);
  enc_str(e, f->name);
  enc_str(e, f->usr);
  enc_str(e, f->loc.file);
  enc_str(e, f->abandoned);
  for (int i = 0; i < f->nvars; i++) enc_str(e, f->var_names[i]);
  enc_raw(e, f->conds, sizeof(ir_cond) * (size_t)f->nconds);
  for (int i = 0; i < f->nconds; i++) {
    enc_str(e, f->conds[i].loc.file);
    enc_str(e, f->conds[i].text);
  }
  enc_raw(e, f->regions, sizeof(ir_region) * (size_t)f->nregions);
  for (int i = 0; i < f->nregions; i++) {
    enc_str(e, f->regions[i].loc.file);
    enc_str(e, f->regions[i].macro);
  }
  enc_raw(e, f->blocks, sizeof(ir_block) * (size_t)f->nblocks);
  for (int i = 0; i < f->nblocks; i++) {
    const ir_block *bl = &f->blocks[i];
    enc_str(e, bl->term_loc.file);
    enc_raw(e, bl->ev, sizeof(ir_event) * (size_t)bl->nev);
    for (int k = 0; k < bl->nev; k++) enc_event(e, &bl->ev[k]);
    enc_raw(e, bl->succ, sizeof(ir_edge) * (size_t)bl->nsucc);
  }
}

static void enc_tu(enc *e, const ir_tu *tu) {
  enc_raw(e, tu, sizeof *tu);
  enc_str(e, tu->path);
  for (int i = 0; i < tu->nfuncs; i++) enc_func(e, tu->funcs[i]);
  enc_raw(e, tu->hints, sizeof(ir_entry_hint) * (size_t)tu->nhints);
  for (int i = 0; i < tu->nhints; i++) {
    const ir_entry_hint *h = &tu->hints[i];
    enc_str(e, h->usr);
    enc_str(e, h->name);
    enc_str(e, h->loc.file);
    enc_str(e, h->why);
  }
  enc_raw(e, tu->stores, sizeof(ir_fnstore) * (size_t)tu->nstores);
  for (int i = 0; i < tu->nstores; i++) {
    const ir_fnstore *st = &tu->stores[i];
    enc_str(e, st->slot);
    enc_str(e, st->owner);
    enc_str(e, st->field);
    enc_str(e, st->fn);
    enc_str(e, st->fn_usr);
    enc_str(e, st->loc.file);
  }
  enc_raw(e, tu->globals, sizeof(ir_global) * (size_t)tu->nglobals);
  for (int i = 0; i < tu->nglobals; i++) {
    const ir_global *g = &tu->globals[i];
    enc_str(e, g->usr);
    enc_str(e, g->name);
    enc_str(e, g->loc.file);
    for (int k = 0; k < g->nrefs; k++) enc_str(e, g->refs[k]);
  }
}

static bool write_all(int fd, const void *p, size_t n) {
  const unsigned char *s = p;
  while (n) {
    ssize_t k = write(fd, s, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    s += k;
    n -= (size_t)k;
  }
  return true;
}

void cache_store(const gc_job *job, const ir_tu *tu, const cache_ticket *t) {
  if (!G.on || !t || !t->on || !tu || tu->ndeps <= 0) return;
  wbuf pay = {0};
  enc e = {0};
  char *tmp = NULL, *final = NULL;
  int fd = -1;
  key_material(job, &pay);
  /* re-key from the job, cheaply: the key material is prefixed by its length */
  wbuf keyed = {0};
  w_u(&keyed, pay.n);
  w_bytes(&keyed, pay.p, pay.n);
  free(pay.p);
  pay = keyed;
  w_u(&pay, G.tool);
  /* the deps as they are now; they must not have changed since the parse */
  w_u(&pay, (uint64_t)tu->ndeps);
  for (int i = 0; i < tu->ndeps; i++) {
    const char *dep = tu->deps[i];
    struct stat st;
    size_t len = 0;
    int err = 0;
    unsigned char *bytes = dep ? slurp(dep, MAX_ENTRY, &len, &st, &err) : NULL;
    if (!bytes) {
      if (!t->quiet)
        log_verbose("cache: not storing %s: cannot read %s: %s", job->file, dep ? dep : "(null)", strerror(err ? err : EINVAL));
      goto out;
    }
    uint64_t h = cache_hash(bytes, len, 0);
    free(bytes);
    int64_t mt = ts_ns(st.st_mtim), ct = ts_ns(st.st_ctim);
    if ((size_t)st.st_size != len || mt > t->start_ns - SLACK_NS || ct > t->start_ns - SLACK_NS) {
      if (!t->quiet) log_verbose("cache: not storing %s: %s changed less than a second before it was read", job->file, dep);
      goto out;
    }
    w_raw_str(&pay, dep);
    w_u(&pay, len);
    w_i(&pay, mt);
    w_i(&pay, ct);
    w_u(&pay, h);
  }
  enc_tu(&e, tu);
  w_u(&e.b, END_MARK);
  w_u(&pay, e.st.n);
  w_bytes(&pay, e.st.out.p, e.st.out.n);
  w_bytes(&pay, e.b.p, e.b.n);

  unsigned char hdr[HEADER_SIZE];
  memcpy(hdr, "gilcache", 8);
  uint32_t fmt = CACHE_FORMAT, hs = HEADER_SIZE;
  uint64_t plen = pay.n, ph = cache_hash(pay.p, pay.n, CACHE_FORMAT);
  memcpy(hdr + 8, &fmt, 4);
  memcpy(hdr + 12, &hs, 4);
  memcpy(hdr + 16, &plen, 8);
  memcpy(hdr + 24, &ph, 8);

  final = entry_path(t->key, "");
  tmp = entry_path(t->key, ".tmp.XXXXXX");
  if (!final || !tmp) goto out;
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    if (!t->quiet) log_verbose("cache: not storing %s: %s", job->file, strerror(errno));
    free(tmp);
    tmp = NULL;
    goto out;
  }
  if (!write_all(fd, hdr, sizeof hdr) || !write_all(fd, pay.p, pay.n) || fchmod(fd, G.file_mode) != 0) {
    if (!t->quiet) log_verbose("cache: not storing %s: %s", job->file, strerror(errno));
    goto out;
  }
  if (close(fd) != 0) { fd = -1; goto out; }
  fd = -1;
  if (rename(tmp, final) != 0) {
    if (!t->quiet) log_verbose("cache: not storing %s: %s", job->file, strerror(errno));
    goto out;
  }
  free(tmp);
  tmp = NULL;
  atomic_fetch_add(&G.stores, 1);
out:
  if (fd >= 0) close(fd);
  if (tmp) { unlink(tmp); free(tmp); }
  free(final);
  free(pay.p);
  free(e.b.p);
  free(e.st.out.p);
  strmap_free(&e.st.ids);
}

/* ---------- reading an entry ---------- */

typedef struct dec {
  rbuf r;
  arena *A;
  const char **strs;     /* strs[0] = NULL */
  uint32_t nstrs;
} dec;

/* N structures' bytes, into the arena (never a NULL array). */
static void *dec_raw(dec *d, size_t size, int n) {
  rbuf *r = &d->r;
  if (r->bad || n < 0 || (size_t)n > (size_t)(r->end - r->p) / size) { r->bad = true; return NULL; }
  void *p = arena_alloc(d->A, size * (size_t)n + 1);
  memcpy(p, r->p, size * (size_t)n);
  r->p += size * (size_t)n;
  return p;
}

static const char *dec_str(dec *d) {
  uint64_t i = r_u(&d->r);
  if (i > d->nstrs) { d->r.bad = true; return NULL; }
  return d->strs[i];
}

/* A string that is always there (the lowering never leaves it NULL). */
static const char *dec_str_nn(dec *d) {
  const char *s = dec_str(d);
  if (!s) d->r.bad = true;
  return s;
}

/* An index that is negative (none) or below N. */
static bool idx_ok(int v, int n) { return v < n; }

/* Is each kind one the lowering produces? A validator that lags behind the
 * lowering turns every unit using a new kind into a "corrupt entry" miss,
 * run after run (as COND_CALL once did for 'if (helper(x))', and
 * ENTRY_FINALIZED and ENTRY_SIGNAL after them). Conditions and entry kinds
 * are checked against their enums' counts; the enums without a count by
 * switches without a default, so that -Wswitch points here when ir.h gains
 * a kind. */
static bool ev_kind_ok(unsigned k) {
  switch ((ev_kind)k) {
  case EV_CALL: case EV_OBJMACRO: case EV_ASSIGN: case EV_ESCAPE: case EV_LEAVE_REGION: case EV_FNREF:
  case EV_GLOBAL:
    return true;
  }
  return false;
}

static bool res_kind_ok(unsigned k) {
  switch ((res_kind)k) {
  case RES_OTHER: case RES_DISCARD: case RES_LOCAL: case RES_NONLOCAL: case RES_RETURN: return true;
  }
  return false;
}

static bool val_kind_ok(unsigned k) {
  switch ((val_kind)k) {
  case VAL_UNKNOWN: case VAL_ZERO: case VAL_NONZERO: case VAL_COPY: return true;
  }
  return false;
}

static bool term_kind_ok(unsigned k) {
  switch ((term_kind)k) {
  case TERM_EDGES: case TERM_RETURN: case TERM_NORETURN: return true;
  }
  return false;
}

static void dec_event(dec *d, ir_event *v, const ir_func *f) {
  rbuf *r = &d->r;
  bool had_api = v->api != NULL;      /* the writer's pointer: only its null-ness means anything */
  v->loc.file = dec_str(d);
  v->macro = dec_str(d);
  v->callee = dec_str(d);
  v->callee_usr = dec_str(d);
  for (int i = 0; i < IR_MAX_ARGS; i++) v->argtext[i] = dec_str(d);
  v->slot = dec_str(d);
  v->callee_header = dec_str(d);
  v->held = dec_str(d);
  if (v->kind == EV_FNREF && v->fnref) {
    ir_fnref *fr = dec_raw(d, sizeof *fr, 1);
    if (fr) {
      fr->fn = dec_str(d);
      fr->fn_usr = dec_str(d);
      fr->field = dec_str(d);
      fr->slot = dec_str(d);
      fr->registrar = dec_str(d);
      fr->registrar_usr = dec_str(d);
      fr->header = dec_str(d);
      fr->param = dec_str(d);
      fr->param_type = dec_str(d);
      if (fr->how > FNREF_STORE) r->bad = true;
    }
    v->fnref = fr;
  } else if (v->fnref) {
    r->bad = true;
  }
  if (v->kind == EV_FNREF && !v->fnref) r->bad = true;
  v->callee_fn = -1;
  v->callee_set = -1;
  v->api = NULL;
  if (v->kind == EV_CALL && v->callee) {
    /* the built-in table is looked up again: the same facts, or a miss */
    v->api = api_lookup(v->callee);
    if (!v->api != !had_api) r->bad = true;
  } else if (had_api) {
    r->bad = true;
  }
  bool ok = ev_kind_ok(v->kind) && v->gaccess <= GA_ADDR && res_kind_ok(v->result_to) && val_kind_ok(v->val) && v->nargs <= IR_MAX_ARGS &&
            idx_ok(v->var, f->nvars) && idx_ok(v->src_var, f->nvars) && idx_ok(v->result_var, f->nvars) &&
            idx_ok(v->region, f->nregions) && !(v->kind == EV_LEAVE_REGION && v->region < 0) &&
            v->key_src < IR_MAX_KEYS && (v->key_src < 0 || (v->kind == EV_ASSIGN && v->var >= 0));
  for (int i = 0; i < IR_MAX_ARGS; i++) ok = ok && idx_ok(v->argvar[i], f->nvars);
  if (!ok) r->bad = true;
}

static ir_func *dec_func(dec *d) {
  rbuf *r = &d->r;
  ir_func *f = dec_raw(d, sizeof *f, 1);
  if (!f) return NULL;
  f->name = dec_str_nn(d);
  f->usr = dec_str(d);
  f->loc.file = dec_str(d);
  f->abandoned = dec_str(d);
  if (f->gil_decl > GIL_DECL_USED) r->bad = true;
  if (r->bad || f->nvars < 0 || f->nvars > IR_MAX_VARS || f->nconds < 0 || f->nconds > INT16_MAX ||
      f->nregions < 0 || f->nblocks < 0 || f->entry < 0 || (f->entry >= f->nblocks && f->nblocks > 0)) {
    r->bad = true;
    return NULL;
  }
  f->var_names = arena_alloc(d->A, sizeof(char *) * (size_t)(f->nvars + 1));
  for (int i = 0; i < f->nvars; i++) f->var_names[i] = dec_str_nn(d);
  f->conds = dec_raw(d, sizeof(ir_cond), f->nconds);
  for (int i = 0; i < f->nconds && !r->bad; i++) {
    ir_cond *c = &f->conds[i];
    c->loc.file = dec_str(d);
    c->text = dec_str(d);
    if (c->kind >= COND_KIND_COUNT || c->key >= IR_MAX_KEYS || !idx_ok(c->var, f->nvars) ||
        (c->kind == COND_VAR && c->var < 0) || (c->kind == COND_KEY && c->key < 0) ||
        (c->kind == COND_CMP && (c->var < 0 || c->cmp_op > CMP_GE)))
      r->bad = true;
  }
  if (f->nparams > IR_MAX_ARGS) r->bad = true;
  for (int i = 0; i < f->nparams && !r->bad; i++)
    if (!idx_ok(f->param_var[i], f->nvars)) r->bad = true;
  f->regions = dec_raw(d, sizeof(ir_region), f->nregions);
  for (int i = 0; i < f->nregions && !r->bad; i++) {
    f->regions[i].loc.file = dec_str(d);
    f->regions[i].macro = dec_str_nn(d);
  }
  f->blocks = dec_raw(d, sizeof(ir_block), f->nblocks);
  for (int i = 0; i < f->nblocks && !r->bad; i++) {
    ir_block *bl = &f->blocks[i];
    bl->term_loc.file = dec_str(d);
    if (!term_kind_ok(bl->term) || !idx_ok(bl->ret_var, f->nvars)) r->bad = true;
    bl->ev = dec_raw(d, sizeof(ir_event), bl->nev);
    bl->cap_ev = bl->nev;
    for (int k = 0; k < bl->nev && !r->bad; k++) dec_event(d, &bl->ev[k], f);
    bl->succ = dec_raw(d, sizeof(ir_edge), bl->nsucc);
    bl->cap_succ = bl->nsucc;
    for (int k = 0; k < bl->nsucc && !r->bad; k++) {
      const ir_edge *ed = &bl->succ[k];
      if (ed->to < 0 || ed->to >= f->nblocks || ed->cond < -1 || ed->cond >= f->nconds) r->bad = true;
    }
  }
  return r->bad ? NULL : f;
}

static bool dec_tu(dec *d, ir_tu *out) {
  rbuf *r = &d->r;
  ir_tu *t = dec_raw(d, sizeof *t, 1);
  if (!t) return false;
  *out = *t;
  out->path = dec_str_nn(d);
  out->deps = NULL;
  out->ndeps = 0;
  if (r->bad || out->nfuncs < 0 || out->nhints < 0) return false;
  out->funcs = arena_alloc(d->A, sizeof(ir_func *) * (size_t)(out->nfuncs + 1));
  for (int i = 0; i < out->nfuncs; i++)
    if (!(out->funcs[i] = dec_func(d))) return false;
  out->hints = dec_raw(d, sizeof(ir_entry_hint), out->nhints);
  for (int i = 0; i < out->nhints && !r->bad; i++) {
    ir_entry_hint *h = &out->hints[i];
    h->usr = dec_str_nn(d);
    h->name = dec_str_nn(d);
    h->loc.file = dec_str(d);
    h->why = dec_str(d);
    if (h->kind >= ENTRY_KIND_COUNT) r->bad = true;
  }
  if (out->nstores < 0) r->bad = true;
  out->stores = r->bad ? NULL : dec_raw(d, sizeof(ir_fnstore), out->nstores);
  for (int i = 0; i < out->nstores && !r->bad; i++) {
    ir_fnstore *st = &out->stores[i];
    st->slot = dec_str_nn(d);
    st->owner = dec_str(d);
    st->field = dec_str(d);
    st->fn = dec_str_nn(d);
    st->fn_usr = dec_str_nn(d);
    st->loc.file = dec_str(d);
  }
  if (out->nglobals < 0) return false;
  out->globals = dec_raw(d, sizeof(ir_global), out->nglobals);
  for (int i = 0; i < out->nglobals && !r->bad; i++) {
    ir_global *g = &out->globals[i];
    g->usr = dec_str_nn(d);
    g->name = dec_str_nn(d);
    g->loc.file = dec_str(d);
    if (g->kind > GK_MODULE_SLOTS || g->gil_decl > GIL_DECL_USED || g->nrefs < 0 ||
        (size_t)g->nrefs > (size_t)(r->end - r->p)) { r->bad = true; break; }
    g->refs = arena_alloc(d->A, sizeof(char *) * (size_t)(g->nrefs + 1));
    for (int k = 0; k < g->nrefs; k++) g->refs[k] = dec_str_nn(d);
  }
  if (r_u(r) != END_MARK || r->p != r->end) r->bad = true;
  return !r->bad;
}

/* Is the file as recorded? */
static bool dep_unchanged(const char *path, uint64_t size, int64_t mt, int64_t ct, uint64_t h, const char **why) {
  struct stat st;
  if (stat(path, &st) != 0) { *why = "is gone"; return false; }
  if ((uint64_t)st.st_size != size) { *why = "changed"; return false; }
  if (ts_ns(st.st_mtim) == mt && ts_ns(st.st_ctim) == ct) return true;
  size_t len = 0;
  int err = 0;
  unsigned char *b = slurp(path, MAX_ENTRY, &len, NULL, &err);
  if (!b) { *why = "is unreadable"; return false; }
  bool same = len == size && cache_hash(b, len, 0) == h;
  free(b);
  if (!same) *why = "changed";
  return same;
}

bool cache_lookup(const gc_job *job, arena *A, ir_tu *out, cache_ticket *t) {
  return cache_lookup_said(job, A, out, t, true);
}

bool cache_lookup_said(const gc_job *job, arena *A, ir_tu *out, cache_ticket *t, bool say) {
  memset(t, 0, sizeof *t);
  if (!G.on) return false;
  t->on = true;
  t->quiet = !say;
  wbuf km = {0};
  key_material(job, &km);
  t->key = cache_hash(km.p, km.n, CACHE_FORMAT);
  char *path = entry_path(t->key, "");
  size_t len = 0;
  int err = 0;
  unsigned char *buf = path ? slurp(path, MAX_ENTRY, &len, NULL, &err) : NULL;
  free(path);
  const char *why = "corrupt entry";
  char whybuf[PATH_MAX + 32];
  bool hit = false;
  dec d = {0};
  d.A = A;
  if (!buf) {
    why = err == ENOENT ? "no entry" : "unreadable entry";
    goto done;
  }
  /* the header */
  uint32_t fmt, hs;
  uint64_t plen, ph;
  if (len < HEADER_SIZE || memcmp(buf, "gilcache", 8) != 0) goto done;
  memcpy(&fmt, buf + 8, 4);
  memcpy(&hs, buf + 12, 4);
  memcpy(&plen, buf + 16, 8);
  memcpy(&ph, buf + 24, 8);
  if (fmt != CACHE_FORMAT || hs != HEADER_SIZE) { why = "entry of another format"; goto done; }
  if (plen != len - HEADER_SIZE || cache_hash(buf + HEADER_SIZE, (size_t)plen, CACHE_FORMAT) != ph) goto done;
  rbuf *r = &d.r;
  r->p = buf + HEADER_SIZE;
  r->end = buf + len;
  /* the key, in full */
  uint64_t kl = r_u(r);
  if (r->bad || kl != km.n || kl > (uint64_t)(r->end - r->p) || memcmp(r->p, km.p, km.n) != 0) {
    why = "another job's entry";
    goto done;
  }
  r->p += kl;
  if (r_u(r) != G.tool || r->bad) { why = r->bad ? why : "entry of another gilcheck build"; goto done; }
  /* the files read */
  int ndeps = r_count(r, 5);
  if (r->bad || ndeps == 0) goto done;
  const char **deps = arena_alloc(A, sizeof(char *) * (size_t)ndeps);
  for (int i = 0; i < ndeps; i++) {
    deps[i] = r_raw_str(r, A);
    uint64_t size = r_u(r);
    int64_t mt = r_i(r), ct = r_i(r);
    uint64_t h = r_u(r);
    if (r->bad || !deps[i]) goto done;
    const char *what;
    if (!dep_unchanged(deps[i], size, mt, ct, h, &what)) {
      snprintf(whybuf, sizeof whybuf, "%s %s", deps[i], what);
      why = whybuf;
      goto done;
    }
  }
  /* the strings, then the unit */
  int ns = r_count(r, 1);
  if (r->bad) goto done;
  d.nstrs = (uint32_t)ns;
  d.strs = arena_alloc(A, sizeof(char *) * (size_t)(ns + 1));
  for (int i = 1; i <= ns; i++) {
    uint64_t sl = r_u(r);
    if (r->bad || sl > (uint64_t)(r->end - r->p)) goto done;
    d.strs[i] = arena_strndup(A, (const char *)r->p, (size_t)sl);
    r->p += sl;
  }
  if (!dec_tu(&d, out)) goto done;
  out->deps = deps;
  out->ndeps = ndeps;
  hit = true;
done:
  free(buf);
  free(km.p);
  if (hit) {
    atomic_fetch_add(&G.hits, 1);
    if (say) say_about(job, "hit", NULL);
    return true;
  }
  arena_free(A);
  memset(out, 0, sizeof *out);
  atomic_fetch_add(&G.misses, 1);
  if (say) say_about(job, "miss", why);
  t->start_ns = now_ns();
  return false;
}
