/* store_copy.h — copying a row's text column into a fixed-size record field. */
#ifndef CASTOR_STORE_COPY_H
#define CASTOR_STORE_COPY_H

#include "store/store_engine.h"

/* Copies column col into the char array field (its size taken from the array). Text that
 * does not fit is never truncated: the field is left "" and the statement fails with
 * CASTOR_EINTERNAL naming the column (store_row_copy), because a cut id or scope could name
 * something else. Inputs are refused at the API long before (core/limits.h); this only fires
 * on a database written by something else. */
#define STORE_COPY(field, row, col) store_row_copy((row), (col), (field), sizeof(field))

/* Collects rows into a caller's array, counting all of them. */
typedef struct store_collect {
    void *out; /* array of records */
    int max;   /* capacity of out */
    int count; /* rows seen (may exceed max) */
} store_collect_t;

#endif
