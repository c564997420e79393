// The history walk of git log (README.md): git's revision walk (revision.c of git 2.39) for its
// default order and history simplification, so that `git log [REV...] [-- PATH...]` lists the
// same commits in the same order:
//  - a queue of commits by committer date (newest first, ties in the order they were queued),
//    the tips sorted by date first; a commit's parents are queued when it is taken out;
//  - with revisions to exclude (^A, A..B, A...B) git first walks everything ("limits the list"):
//    what the excluded commits reach is marked uninteresting, the walk stops when only
//    uninteresting commits are left (a few more, git's "slop", as git);
//  - with paths: a commit is TREESAME to a parent when their trees do not differ in the paths;
//    a commit TREESAME to a (relevant) parent is walked through that parent only (its other
//    parents dropped: the side branches that brought nothing to the paths are not walked), and
//    a commit that is TREESAME is not shown; a root commit without the paths is TREESAME.
// Bounds: one node per commit reached (the repository's own size), no recursion.
#include <stdlib.h>
#include <string.h>

#include "git.h"

enum {
  SEEN = 1 << 0,
  ADDED = 1 << 1,
  UNINTERESTING = 1 << 2,
  BOTTOM = 1 << 3,
  TREESAME = 1 << 4,
  SHOWN = 1 << 5,
};
#define SLOP 5

struct node {
  git_oid id;
  git_time_t date;
  struct node **parents;  // NULL until parsed; rewritten by the simplification
  unsigned nparents, flags;
  bool parsed;
  struct node *hnext;
};

struct cell {
  struct node *n;
  struct cell *next;
};

struct walk {
  git_repository *repo;
  git_strarray paths;  // count 0: every path
  bool prune;          // git log -- PATH...: history simplification
  struct node **table;
  size_t buckets, count;
  struct cell *list;   // the queue (unlimited) or the limited list
  struct cell *tips, **tips_end;  // in the order given, until the walk starts
  bool limited, prepared;
};

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (p == NULL) die("out of memory");
  return p;
}

static size_t hash_of(const git_oid *id) {
  size_t h = 0;
  memcpy(&h, id->id, sizeof h);
  return h;
}

static struct node *lookup(struct walk *w, const git_oid *id) {
  size_t b = hash_of(id) % w->buckets;
  for (struct node *n = w->table[b]; n != NULL; n = n->hnext)
    if (git_oid_equal(&n->id, id)) return n;
  if (w->count >= w->buckets * 2) {  // grow
    size_t nb = w->buckets * 4;
    struct node **t = xcalloc(nb, sizeof *t);
    for (size_t i = 0; i < w->buckets; i++)
      for (struct node *n = w->table[i], *next; n != NULL; n = next) {
        next = n->hnext;
        size_t k = hash_of(&n->id) % nb;
        n->hnext = t[k];
        t[k] = n;
      }
    free(w->table);
    w->table = t;
    w->buckets = nb;
    b = hash_of(id) % w->buckets;
  }
  struct node *n = xcalloc(1, sizeof *n);
  git_oid_cpy(&n->id, id);
  n->hnext = w->table[b];
  w->table[b] = n;
  w->count++;
  return n;
}

static void parse(struct walk *w, struct node *n) {
  if (n->parsed) return;
  git_commit *c = NULL;
  check(git_commit_lookup(&c, w->repo, &n->id), "cannot read a commit");
  n->date = git_commit_time(c);
  n->nparents = git_commit_parentcount(c);
  n->parents = xcalloc(n->nparents, sizeof *n->parents);
  for (unsigned i = 0; i < n->nparents; i++) n->parents[i] = lookup(w, git_commit_parent_id(c, i));
  n->parsed = true;
  git_commit_free(c);
}

static void push_cell(struct cell **at, struct node *n) {
  struct cell *c = xcalloc(1, sizeof *c);
  c->n = n;
  c->next = *at;
  *at = c;
}

// git's commit_list_insert_by_date: before the first commit older than N.
static void insert_by_date(struct cell **list, struct node *n) {
  struct cell **pp = list;
  while (*pp != NULL && !((*pp)->n->date < n->date)) pp = &(*pp)->next;
  push_cell(pp, n);
}

static struct node *pop(struct cell **list) {
  struct cell *c = *list;
  if (c == NULL) return NULL;
  *list = c->next;
  struct node *n = c->n;
  free(c);
  return n;
}

struct walk *walk_new(git_repository *repo, bool prune, char **paths, size_t npaths) {
  struct walk *w = xcalloc(1, sizeof *w);
  w->repo = repo;
  w->prune = prune;
  w->paths.strings = paths;
  w->paths.count = npaths;
  w->buckets = 256;
  w->table = xcalloc(w->buckets, sizeof *w->table);
  w->tips_end = &w->tips;
  return w;
}

// git's mark_parents_uninteresting: every parsed ancestor (through the parents as they are now).
static void mark_parents_uninteresting(struct walk *w, struct node *n) {
  size_t cap = 16, top = 0;
  struct node **stack = xcalloc(cap, sizeof *stack);
  (void)w;
  for (unsigned i = 0; i < n->nparents; i++) {
    if (top == cap) stack = realloc(stack, (cap *= 2) * sizeof *stack);
    if (stack == NULL) die("out of memory");
    stack[top++] = n->parents[i];
  }
  while (top > 0) {
    struct node *p = stack[--top];
    if (p->flags & UNINTERESTING) continue;
    p->flags |= UNINTERESTING;
    for (unsigned i = 0; p->parents != NULL && i < p->nparents; i++) {
      if (top == cap) stack = realloc(stack, (cap *= 2) * sizeof *stack);
      if (stack == NULL) die("out of memory");
      stack[top++] = p->parents[i];
    }
  }
  free(stack);
}

// A tip: positive, or excluded (^A, the left of A..B, the merge bases of A...B: git's
// UNINTERESTING | BOTTOM). The tips are queued in the order given, then sorted by date.
void walk_push(struct walk *w, const git_oid *id, bool exclude) {
  struct node *n = lookup(w, id);
  parse(w, n);
  if (exclude) {
    n->flags |= UNINTERESTING | BOTTOM;
    mark_parents_uninteresting(w, n);
    w->limited = true;
  }
  if (n->flags & SEEN) return;
  n->flags |= SEEN;
  push_cell(w->tips_end, n);
  w->tips_end = &(*w->tips_end)->next;
}

static bool relevant(const struct node *n) { return (n->flags & (UNINTERESTING | BOTTOM)) != UNINTERESTING; }

// The trees of A (NULL: none, a root's parent) and B differ in the paths.
static bool trees_differ(struct walk *w, const git_oid *a, const git_oid *b) {
  git_commit *ca = NULL, *cb = NULL;
  git_tree *ta = NULL, *tb = NULL;
  if (a != NULL) {
    check(git_commit_lookup(&ca, w->repo, a), "cannot read a commit");
    check(git_commit_tree(&ta, ca), "tree");
  }
  check(git_commit_lookup(&cb, w->repo, b), "cannot read a commit");
  check(git_commit_tree(&tb, cb), "tree");
  bool differ = false;
  if (ta == NULL || !git_oid_equal(git_tree_id(ta), git_tree_id(tb))) {
    git_diff_options o;
    git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
    o.pathspec = w->paths;
    git_diff *diff = NULL;
    check(git_diff_tree_to_tree(&diff, w->repo, ta, tb, &o), "diff");
    differ = git_diff_num_deltas(diff) > 0;
    git_diff_free(diff);
  }
  git_tree_free(ta);
  git_tree_free(tb);
  git_commit_free(ca);
  git_commit_free(cb);
  return differ;
}

// git's try_to_simplify_commit (simplify_history on, dense, no --remove-empty).
static void simplify(struct walk *w, struct node *n) {
  if (!w->prune) return;
  if (n->nparents == 0) {
    if (!trees_differ(w, NULL, &n->id)) n->flags |= TREESAME;
    return;
  }
  unsigned relevant_parents = 0;
  bool relevant_change = false, irrelevant_change = false;
  for (unsigned i = 0; i < n->nparents; i++) {
    struct node *p = n->parents[i];
    if (relevant(p)) relevant_parents++;
    parse(w, p);
    if (!trees_differ(w, &p->id, &n->id)) {
      if (!relevant(p)) continue;
      n->parents[0] = p;
      n->nparents = 1;
      n->flags |= TREESAME;
      return;
    }
    if (relevant(p)) relevant_change = true;
    else irrelevant_change = true;
  }
  if (relevant_parents ? relevant_change : irrelevant_change) n->flags &= ~(unsigned)TREESAME;
  else n->flags |= TREESAME;
}

// git's process_parents: the parents queued (by date) into LIST.
static void process_parents(struct walk *w, struct node *n, struct cell **list) {
  if (n->flags & ADDED) return;
  n->flags |= ADDED;
  if (n->flags & UNINTERESTING) {
    for (unsigned i = 0; i < n->nparents; i++) {
      struct node *p = n->parents[i];
      p->flags |= UNINTERESTING;
      parse(w, p);
      if (p->nparents > 0) mark_parents_uninteresting(w, p);
      if (p->flags & SEEN) continue;
      p->flags |= SEEN;
      insert_by_date(list, p);
    }
    return;
  }
  simplify(w, n);
  for (unsigned i = 0; i < n->nparents; i++) {
    struct node *p = n->parents[i];
    parse(w, p);
    if (p->flags & SEEN) continue;
    p->flags |= SEEN;
    insert_by_date(list, p);
  }
}

static bool everybody_uninteresting(const struct cell *list) {
  for (; list != NULL; list = list->next)
    if (!(list->n->flags & UNINTERESTING)) return false;
  return true;
}

// git's limit_list: the interesting commits in walk order, the uninteresting ones marked.
static void limit_list(struct walk *w) {
  struct cell *orig = w->list, *out = NULL, **end = &out;
  git_time_t date = INT64_MAX;
  int slop = SLOP;
  while (orig != NULL) {
    struct node *n = pop(&orig);
    process_parents(w, n, &orig);
    if (n->flags & UNINTERESTING) {
      mark_parents_uninteresting(w, n);
      // git's still_interesting
      if (orig == NULL) break;
      if (date <= orig->n->date || !everybody_uninteresting(orig)) slop = SLOP;
      else slop--;
      if (slop > 0) continue;
      break;
    }
    date = n->date;
    push_cell(end, n);
    end = &(*end)->next;
  }
  while (orig != NULL) pop(&orig);
  w->list = out;
}

// git's prepare_revision_walk: the tips sorted by date (stable), the list limited when a
// revision excludes.
static void prepare(struct walk *w) {
  w->prepared = true;
  while (w->tips != NULL) {
    struct node *n = pop(&w->tips);
    struct cell **pp = &w->list;  // stable: after the tips of the same date
    while (*pp != NULL && !((*pp)->n->date < n->date)) pp = &(*pp)->next;
    push_cell(pp, n);
  }
  w->tips_end = &w->tips;
  if (w->limited) limit_list(w);
}

// The next commit git log shows, or false at the end.
bool walk_next(struct walk *w, git_oid *out) {
  if (!w->prepared) prepare(w);
  for (;;) {
    struct node *n = pop(&w->list);
    if (n == NULL) return false;
    if (!w->limited) process_parents(w, n, &w->list);
    if (n->flags & (SHOWN | UNINTERESTING)) continue;
    if (w->prune && (n->flags & TREESAME)) continue;
    n->flags |= SHOWN;
    git_oid_cpy(out, &n->id);
    return true;
  }
}

void walk_free(struct walk *w) {
  while (w->list != NULL) pop(&w->list);
  for (size_t i = 0; i < w->buckets; i++)
    for (struct node *n = w->table[i], *next; n != NULL; n = next) {
      next = n->hnext;
      free(n->parents);
      free(n);
    }
  free(w->table);
  free(w);
}
