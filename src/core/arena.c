/* arena.c — bump allocator with a hard cap (see arena.h). */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_MIN 4096
#define ARENA_ALIGN 16

struct arena_block {
    arena_block_t *next;
    size_t size; /* usable bytes in data[] */
    size_t off;  /* bytes of data[] handed out */
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void arena_init(arena_t *a, size_t cap)
{
    a->head = NULL;
    a->used = 0;
    a->cap = cap;
}

void arena_free(arena_t *a)
{
    arena_block_t *b = a->head;
    while (b) {
        arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void *arena_alloc(arena_t *a, size_t size)
{
    if (size == 0) size = 1;
    if (size > SIZE_MAX / 2) return NULL;
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    arena_block_t *b = a->head;
    if (!b || b->size - b->off < need) {
        size_t bsize = need > ARENA_BLOCK_MIN ? need : ARENA_BLOCK_MIN;
        /* Grow blocks geometrically so a large request costs few mallocs. */
        if (b && b->size * 2 > bsize) bsize = b->size * 2;
        if (a->cap && a->used + bsize + sizeof *b > a->cap) {
            bsize = need; /* try the exact size before giving up */
            if (a->used + bsize + sizeof *b > a->cap) return NULL;
        }
        arena_block_t *nb = malloc(sizeof *nb + bsize);
        if (!nb) return NULL;
        nb->next = b;
        nb->size = bsize;
        nb->off = 0;
        a->head = nb;
        a->used += bsize + sizeof *nb;
        b = nb;
    }
    void *p = b->data + b->off;
    b->off += need;
    return p;
}

void *arena_calloc(arena_t *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = arena_alloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    if (!s) return NULL;
    char *p = arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena_t *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_sprintf(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (!p) return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
