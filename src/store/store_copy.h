/* store_copy.h — copying a row's text column into a fixed-size record field. */
#ifndef CASTOR_STORE_COPY_H
#define CASTOR_STORE_COPY_H

#include "store/store_engine.h"

#include <stdio.h>

/* Copies column col into the char array field (its size taken from the array). */
#define STORE_COPY(field, row, col)                                                                \
    snprintf((field), sizeof(field), "%s", store_row_text((row), (col)))

/* Collects rows into a caller's array, counting all of them. */
typedef struct store_collect {
    void *out; /* array of records */
    int max;   /* capacity of out */
    int count; /* rows seen (may exceed max) */
} store_collect_t;

#endif
