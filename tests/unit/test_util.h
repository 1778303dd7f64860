/* test_util.h — small helpers shared by the cmocka tests. */
#ifndef CASTOR_TEST_UTIL_H
#define CASTOR_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh temporary folder; the path is malloc'ed (caller frees). */
static inline char *test_tmpdir(void)
{
    char *p = strdup("/tmp/castor-unit-XXXXXX");
    if (!p || !mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

/* Removes a folder made by test_tmpdir and everything in it. */
static inline void test_rmdir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Reads a whole file (caller frees), or NULL. Strips a UTF-8 byte-order mark. */
static inline char *test_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    size_t len = (size_t)n;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF) {
        memmove(buf, buf + 3, len - 2);
        len -= 3;
    }
    if (len_out) *len_out = len;
    return buf;
}

#endif
