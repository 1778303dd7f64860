/* cli_models_files.h — reading DTDL models for `castor dt model create` and
 * `castor dtdl validate`: a file, a folder (every *.json below it), or JSON text. */
#ifndef CASTOR_CLI_MODELS_FILES_H
#define CASTOR_CLI_MODELS_FILES_H

#include "core/err.h"

#include <jansson.h>

/* One source of models: the JSON documents it holds and where they came from. */
typedef struct cli_model_source {
    char *name;  /* the file path, or "(inline JSON)"; malloc'ed */
    json_t *set; /* the interfaces it holds, as one array (a file's array is flattened) */
} cli_model_source_t;

/* Reads `arg`: JSON text when it starts with '[' or '{', else a file, else a folder walked
 * in name order. Appends one source per file (or one for the text). A file that is not JSON
 * is an error naming it, with line and column. Caller frees with cli_model_sources_free. */
int cli_model_sources_read(const char *arg, cli_model_source_t **list, size_t *count,
                           castor_err *err);
void cli_model_sources_free(cli_model_source_t *list, size_t count);

#endif
