/* nextham io: a strict TOML 1.0 parser, its value tree, and the option layer
 * every task uses to read its input.
 *
 * A document (nh_toml) owns every node and every string in it. Nodes
 * (nh_toml_val) are tables, arrays or scalars; the root is a table. Errors
 * in the input are reported as "FILE:LINE: message" (NH_ERR_INPUT), with the
 * full key path where a key is involved, e.g.
 *   run.toml:12: key 'solver.nbands' must be an integer, got a string
 *
 * The getters (nh_toml_get_*) read one key of a table, check its type and
 * mark it as used; a key that is absent leaves the default. After a task has
 * read its input, nh_toml_check_unused() fails on the first key that no
 * getter asked for, with the nearest known name as a suggestion:
 *   run.toml:7: unknown key 'solver.nband' (did you mean 'nbands'?)
 */
#ifndef NEXTHAM_TOML_H
#define NEXTHAM_TOML_H

#include <stdint.h>

#include "nextham/core.h"

typedef struct nh_toml nh_toml;         /* a parsed document */
typedef struct nh_toml_val nh_toml_val; /* a table, array or scalar */

typedef enum nh_toml_type {
  NH_TOML_TABLE,
  NH_TOML_ARRAY,
  NH_TOML_STRING,
  NH_TOML_INT,
  NH_TOML_FLOAT,
  NH_TOML_BOOL,
  NH_TOML_DATETIME,       /* offset date-time, 1979-05-27T07:32:00Z  */
  NH_TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00                     */
  NH_TOML_DATE_LOCAL,     /* 1979-05-27                              */
  NH_TOML_TIME_LOCAL      /* 07:32:00                                */
} nh_toml_type;

/* Limits that keep hostile input from exhausting the stack or memory. */
#define NH_TOML_MAX_DEPTH 100             /* nesting of tables and arrays */
#define NH_TOML_MAX_SIZE (64u << 20)      /* bytes of one input           */

/* ---------------------------------------------------------------------------
 * Parsing. `name` is the display name used in messages (a file name, or
 * e.g. "<string>"). Input must be UTF-8 (an initial BOM is skipped).
 * ------------------------------------------------------------------------- */
nh_err nh_toml_parse_file(const char *path, nh_toml **doc);
nh_err nh_toml_parse_string(const char *name, const char *text, size_t len,
                            nh_toml **doc);
nh_err nh_toml_destroy(nh_toml **doc); /* accepts NULL and *doc NULL */

nh_toml_val *nh_toml_root(const nh_toml *doc);
const char *nh_toml_name(const nh_toml *doc);

/* ---------------------------------------------------------------------------
 * The tree, read-only access (marks nothing as used).
 * ------------------------------------------------------------------------- */
nh_toml_type nh_toml_type_of(const nh_toml_val *v);
/* "table", "array", "string", "integer", "float", "bool", "datetime",
 * "datetime-local", "date-local", "time-local" (toml-test's names). */
const char *nh_toml_type_name(nh_toml_type t);
/* Line where the key (or array element) was defined; for a table created by
 * a [header], the line of the header. */
int nh_toml_line(const nh_toml_val *v);
/* Full key path of a node, e.g. "solver.nbands" or "atoms[2].species";
 * "" for the root. Written into buf (truncated to size). */
const char *nh_toml_path(const nh_toml_val *v, char *buf, size_t size);

/* Entries of a table (in file order) or elements of an array; 0 else. */
size_t nh_toml_len(const nh_toml_val *v);
nh_toml_val *nh_toml_at(const nh_toml_val *v, size_t i);
/* Key of entry i of a table; its length in *len (keys may hold NUL). */
const char *nh_toml_key_at(const nh_toml_val *tbl, size_t i, size_t *len);
/* Value under `key` in a table, or NULL. */
nh_toml_val *nh_toml_find(const nh_toml_val *tbl, const char *key);

/* Scalars, without type checks (the caller checked the type; a value of
 * another type gives 0). nh_toml_double also converts an integer. */
int64_t nh_toml_int(const nh_toml_val *v);
double nh_toml_double(const nh_toml_val *v);
int nh_toml_bool(const nh_toml_val *v);
/* Strings and date/time values (the validated text, normalised to
 * "T" and "Z" and at least millisecond digits); length in *len if not NULL. */
const char *nh_toml_string(const nh_toml_val *v, size_t *len);

/* ---------------------------------------------------------------------------
 * The option layer. Each getter reads `key` of table `tbl` (NULL stands for
 * an absent table: every key takes its default), checks the type and marks
 * the key as used. Type errors read
 *   FILE:LINE: key 'solver.nbands' must be an integer, got a string
 * Integers are accepted where a float is expected, not the reverse.
 * `key` is one key, never a dotted path (that is an NH_ERR_ARG): read
 * sub-tables with nh_toml_get_table.
 * ------------------------------------------------------------------------- */
nh_err nh_toml_get_int(nh_toml_val *tbl, const char *key, int64_t def,
                       int64_t *out);
nh_err nh_toml_get_double(nh_toml_val *tbl, const char *key, double def,
                          double *out);
nh_err nh_toml_get_bool(nh_toml_val *tbl, const char *key, int def, int *out);
/* Copies the string (or def; NULL def means "") into buf; a string longer
 * than size-1 bytes or holding a NUL byte is an error. */
nh_err nh_toml_get_string(nh_toml_val *tbl, const char *key, const char *def,
                          char *buf, size_t size);
/* Arrays of numbers. The fixed-length form requires exactly n elements and
 * leaves out[] untouched when the key is absent (fill it with the defaults
 * first). The variable-length form allocates *out (free with nh_free) and
 * gives *out = NULL, *n = 0 when the key is absent. */
nh_err nh_toml_get_double_vec(nh_toml_val *tbl, const char *key, size_t n,
                              double *out);
nh_err nh_toml_get_int_vec(nh_toml_val *tbl, const char *key, size_t n,
                           int64_t *out);
nh_err nh_toml_get_double_array(nh_toml_val *tbl, const char *key,
                                double **out, size_t *n);
/* Sub-table or array (of anything, e.g. an array of tables); *out = NULL
 * when absent. Keys of a sub-table are checked by check_unused only if the
 * sub-table was read. */
nh_err nh_toml_get_table(nh_toml_val *tbl, const char *key, nh_toml_val **out);
nh_err nh_toml_get_array(nh_toml_val *tbl, const char *key, nh_toml_val **out);

/* Marks v and everything below it as used: for tables whose keys are free
 * (e.g. a map from element to file) and that the caller walks itself. */
void nh_toml_mark_used(nh_toml_val *v);

/* Required keys: as above, but an absent key is an error
 *   FILE:LINE: missing required key 'structure.file'
 * (LINE is that of the table's header; a NULL table counts as absent). */
nh_err nh_toml_require(nh_toml_val *tbl, const char *key);
nh_err nh_toml_require_int(nh_toml_val *tbl, const char *key, int64_t *out);
nh_err nh_toml_require_double(nh_toml_val *tbl, const char *key, double *out);
nh_err nh_toml_require_string(nh_toml_val *tbl, const char *key, char *buf,
                              size_t size);
nh_err nh_toml_require_table(nh_toml_val *tbl, const char *key,
                             nh_toml_val **out);

/* Type checks for array elements (reports "key 'kpath[3]' must be ..."). */
nh_err nh_toml_value_int(const nh_toml_val *v, int64_t *out);
nh_err nh_toml_value_double(const nh_toml_val *v, double *out);

/* Fails on the first key (in file order, depth first) that no getter read:
 *   FILE:LINE: unknown key 'solver.nband' (did you mean 'nbands'?) */
nh_err nh_toml_check_unused(const nh_toml *doc);

/* ---------------------------------------------------------------------------
 * JSON in toml-test's format (every scalar {"type": ..., "value": ...}),
 * NUL-terminated, allocated into *json (free with nh_free).
 * ------------------------------------------------------------------------- */
nh_err nh_toml_to_json(const nh_toml *doc, char **json, size_t *len);

#endif
