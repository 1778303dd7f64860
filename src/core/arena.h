/* arena.h — a bump allocator for memory that dies together (one request, one parse).
 *
 * Everything allocated from an arena is freed by one arena_free(); nothing in it is freed
 * alone. An arena has a hard cap set at creation so that hostile input cannot make a request
 * consume unbounded memory: past the cap, allocation returns NULL and the caller reports
 * CASTOR_ELIMIT. */
#ifndef CASTOR_CORE_ARENA_H
#define CASTOR_CORE_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block_t;

typedef struct arena {
    arena_block_t *head; /* newest block first */
    size_t used;         /* bytes handed out plus block overhead, checked against cap */
    size_t cap;          /* hard limit in bytes; 0 = unlimited */
} arena_t;

/* Initializes an empty arena; no memory is taken until the first allocation. */
void arena_init(arena_t *a, size_t cap);

/* Frees every block; the arena can be reused afterwards (it is empty again). */
void arena_free(arena_t *a);

/* Returns size bytes aligned for any type, or NULL past the cap or when out of memory. */
void *arena_alloc(arena_t *a, size_t size);

/* arena_alloc + zero fill. */
void *arena_calloc(arena_t *a, size_t n, size_t size);

/* Copies a NUL-terminated string (or its first n bytes) into the arena. NULL in, NULL out. */
char *arena_strdup(arena_t *a, const char *s);
char *arena_strndup(arena_t *a, const char *s, size_t n);

/* printf into the arena. */
char *arena_sprintf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
