/* cli_models_files.c — loading DTDL model files for the client (see cli_models_files.h). */
#include "cli/cli_models_files.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int push(cli_model_source_t **list, size_t *count, const char *name, json_t *doc)
{
    cli_model_source_t *l = realloc(*list, (*count + 1) * sizeof *l);
    if (!l) {
        json_decref(doc);
        return CASTOR_ENOMEM;
    }
    *list = l;
    json_t *set = doc;
    if (!json_is_array(doc)) {
        set = json_array();
        json_array_append_new(set, doc);
    }
    l[*count].name = strdup(name);
    l[*count].set = set;
    (*count)++;
    return CASTOR_OK;
}

static int read_file(const char *path, cli_model_source_t **list, size_t *count, castor_err *err)
{
    json_error_t jerr;
    /* DTDL files often start with a UTF-8 byte-order mark; jansson refuses it. */
    FILE *f = fopen(path, "rb");
    if (!f) return castor_err_set(err, CASTOR_EIO, "cannot read %s", path);
    int c1 = fgetc(f), c2 = fgetc(f), c3 = fgetc(f);
    if (!(c1 == 0xEF && c2 == 0xBB && c3 == 0xBF)) rewind(f);
    json_t *doc = json_loadf(f, JSON_DECODE_ANY, &jerr);
    fclose(f);
    if (!doc)
        return castor_err_set(err, CASTOR_EINVAL, "%s is not JSON: %s at line %d, column %d", path,
                              jerr.text, jerr.line, jerr.column);
    return push(list, count, path, doc);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_dir(const char *dir, cli_model_source_t **list, size_t *count, castor_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return castor_err_set(err, CASTOR_EIO, "cannot open the folder %s", dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn) break;
        names = nn;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (names[n]) snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    int rc = CASTOR_OK;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && names[i] && stat(names[i], &st) == 0) {
            size_t len = strlen(names[i]);
            if (S_ISDIR(st.st_mode))
                rc = read_dir(names[i], list, count, err);
            else if (len > 5 && strcmp(names[i] + len - 5, ".json") == 0)
                rc = read_file(names[i], list, count, err);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int cli_model_sources_read(const char *arg, cli_model_source_t **list, size_t *count,
                           castor_err *err)
{
    const char *p = arg;
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (*p == '[' || *p == '{') {
        json_error_t jerr;
        json_t *doc = json_loads(arg, 0, &jerr);
        if (!doc)
            return castor_err_set(err, CASTOR_EINVAL, "--models is not JSON: %s at column %d",
                                  jerr.text, jerr.column);
        return push(list, count, "(inline JSON)", doc);
    }
    struct stat st;
    if (stat(arg, &st) < 0)
        return castor_err_set(err, CASTOR_EINVAL,
                              "%s is neither a file, a folder nor JSON text ('[' or '{')", arg);
    if (S_ISDIR(st.st_mode)) return read_dir(arg, list, count, err);
    return read_file(arg, list, count, err);
}

void cli_model_sources_free(cli_model_source_t *list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(list[i].name);
        json_decref(list[i].set);
    }
    free(list);
}
