/* cli_output.c — printing a command's result as az does: pretty JSON with sorted keys, a
 * table of the scalar fields, or tab-separated values for scripts. */
#include "cli/cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define CLI_TABLE_COLUMNS_MAX 32

int cli_output_parse(const char *name)
{
    static const char *const names[] = {"json", "jsonc", "table", "tsv", "none"};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

static int is_scalar(const json_t *v)
{
    return v && !json_is_object(v) && !json_is_array(v);
}

/* A scalar as az's table and tsv show it: booleans True/False, null as "". Never truncated
 * (a token printed with -o tsv must be whole). Caller frees. */
static char *cell_text(const json_t *v)
{
    char num[64] = "";
    const char *text = num;
    if (!v || json_is_null(v))
        text = "";
    else if (json_is_string(v))
        text = json_string_value(v);
    else if (json_is_true(v))
        text = "True";
    else if (json_is_false(v))
        text = "False";
    else if (json_is_integer(v))
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
    char *out = strdup(text);
    /* Tabs and newlines would break the row structure. */
    for (char *p = out; p && *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r') *p = ' ';
    return out;
}

/* Columns: the spec's keys, else the scalar keys of the first row in their order. */
static size_t table_columns(const json_t *first, const char *spec, char cols[][128])
{
    size_t n = 0;
    if (spec && *spec) {
        const char *p = spec;
        while (*p && n < CLI_TABLE_COLUMNS_MAX) {
            size_t len = strcspn(p, ",");
            snprintf(cols[n++], 128, "%.*s", (int)len, p);
            p += len;
            if (*p == ',') p++;
        }
        return n;
    }
    if (!json_is_object(first)) return 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)first, key, v)
    {
        if (n >= CLI_TABLE_COLUMNS_MAX) break;
        if (is_scalar(v)) snprintf(cols[n++], 128, "%s", key);
    }
    return n;
}

static void print_padded(FILE *f, const char *s, size_t width, int last)
{
    if (last) {
        fputs(s, f);
        return;
    }
    fprintf(f, "%-*s  ", (int)width, s);
}

static void format_table(FILE *f, const json_t *value, const char *spec)
{
    json_t *rows = json_is_array(value) ? json_incref((json_t *)value) : json_pack("[O]", value);
    if (!rows) return;
    size_t nrows = json_array_size(rows);
    int scalars = nrows > 0 && is_scalar(json_array_get(rows, 0));
    char cols[CLI_TABLE_COLUMNS_MAX][128];
    size_t ncols = scalars ? 1 : table_columns(json_array_get(rows, 0), spec, cols);
    if (scalars) snprintf(cols[0], 128, "Result");
    if (ncols == 0) {
        json_decref(rows);
        return;
    }
    size_t width[CLI_TABLE_COLUMNS_MAX];
    char head[CLI_TABLE_COLUMNS_MAX][128];
    for (size_t c = 0; c < ncols; c++) {
        castor_text_cut(head[c], sizeof head[c],
                        snprintf(head[c], sizeof head[c], "%s", cols[c])); /* a header */
        head[c][0] = (char)toupper((unsigned char)head[c][0]);
        width[c] = strlen(head[c]);
    }
    for (size_t r = 0; r < nrows; r++) {
        json_t *row = json_array_get(rows, r);
        for (size_t c = 0; c < ncols; c++) {
            char *cell = cell_text(scalars ? row : json_object_get(row, cols[c]));
            if (cell && strlen(cell) > width[c]) width[c] = strlen(cell);
            free(cell);
        }
    }
    for (size_t c = 0; c < ncols; c++)
        print_padded(f, head[c], width[c], c + 1 == ncols);
    fputc('\n', f);
    for (size_t c = 0; c < ncols; c++) {
        for (size_t k = 0; k < width[c]; k++)
            fputc('-', f);
        fputs(c + 1 == ncols ? "\n" : "  ", f);
    }
    for (size_t r = 0; r < nrows; r++) {
        json_t *row = json_array_get(rows, r);
        for (size_t c = 0; c < ncols; c++) {
            char *cell = cell_text(scalars ? row : json_object_get(row, cols[c]));
            print_padded(f, cell ? cell : "", width[c], c + 1 == ncols);
            free(cell);
        }
        fputc('\n', f);
    }
    json_decref(rows);
}

static void tsv_row(FILE *f, const json_t *v)
{
    if (is_scalar(v)) {
        char *cell = cell_text(v);
        fprintf(f, "%s\n", cell ? cell : "");
        free(cell);
        return;
    }
    if (!json_is_object(v)) return;
    const char *key;
    json_t *x;
    int first = 1;
    json_object_foreach((json_t *)v, key, x)
    {
        if (!is_scalar(x)) continue;
        char *cell = cell_text(x);
        fprintf(f, "%s%s", first ? "" : "\t", cell ? cell : "");
        free(cell);
        first = 0;
    }
    fputc('\n', f);
}

void cli_format(FILE *f, const json_t *value, cli_output_t fmt, const char *columns)
{
    if (!value || fmt == CLI_OUT_NONE) return;
    switch (fmt) {
    case CLI_OUT_TABLE:
        format_table(f, value, columns);
        break;
    case CLI_OUT_TSV:
        if (json_is_array(value)) {
            size_t i;
            json_t *x;
            json_array_foreach(value, i, x) tsv_row(f, x);
        } else {
            tsv_row(f, value);
        }
        break;
    default:
        json_dumpf(value, f, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fputc('\n', f);
        break;
    }
}
