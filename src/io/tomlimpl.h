/* Private part of the TOML module: the node structure and the helpers that
 * the parser, the option layer and the JSON encoder share. */
#ifndef NEXTHAM_TOMLIMPL_H
#define NEXTHAM_TOMLIMPL_H

#include "nextham/toml.h"

/* How a table or array came to be; these decide which later definitions
 * TOML allows (e.g. [a] after [a.b] is fine, [a] after a.b = 1 is not). */
enum {
  NH_TOML_F_IMPLICIT = 1u << 0, /* table created on the way to a [header]  */
  NH_TOML_F_EXPLICIT = 1u << 1, /* table defined by its own [header]       */
  NH_TOML_F_DOTTED = 1u << 2,   /* table created by a dotted key a.b = 1   */
  NH_TOML_F_FROZEN = 1u << 3,   /* inline table or static array: closed    */
  NH_TOML_F_AOT = 1u << 4,      /* array of tables, [[header]]             */
  NH_TOML_F_USED = 1u << 5      /* read by a getter                        */
};

struct nh_toml_val {
  nh_toml_type type;
  unsigned flags;
  int line;  /* where defined                                 */
  int depth; /* 0 for the root; bounded by NH_TOML_MAX_DEPTH  */
  char *key; /* key in the parent table (NULL in an array)   */
  size_t keylen;
  nh_toml_val *parent;
  size_t index; /* position in the parent                      */
  nh_toml *doc;
  union {
    int64_t i;
    double d;
    int b;
  } num;
  char *str; /* strings and date/time text, NUL-terminated   */
  size_t len;
  nh_toml_val **items; /* table entries or array elements            */
  size_t n, cap;
  char **asked; /* keys a getter asked this table for (hints)  */
  size_t nasked, capasked;
};

struct nh_toml {
  char *name;
  nh_toml_val *root;
};

/* Creates a node of `type` as a new last child of parent (parent NULL: the
 * root). key may be NULL (array element). Fails beyond the depth limit. */
nh_err nh_toml_node_add(nh_toml *doc, nh_toml_val *parent, nh_toml_type type,
                        const char *key, size_t keylen, int line,
                        nh_toml_val **out);
/* Child of a table by key bytes, or NULL. */
nh_toml_val *nh_toml_node_find(const nh_toml_val *tbl, const char *key,
                               size_t keylen);
void nh_toml_node_free(nh_toml_val *v);
/* A growable byte buffer, always NUL-terminated once written to. */
typedef struct {
  char *s;
  size_t len, cap;
} nh_toml_buf;
nh_err nh_toml_buf_add(nh_toml_buf *b, const void *data, size_t n);
nh_err nh_toml_buf_addc(nh_toml_buf *b, char c);

/* Duplicates len bytes into a new NUL-terminated string. */
nh_err nh_toml_strndup(const char *s, size_t len, char **out);

#endif
