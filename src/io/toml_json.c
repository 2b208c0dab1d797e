/* JSON encoding of a TOML document in toml-test's format: tables become
 * objects, arrays become arrays, and every scalar becomes
 * {"type": "<toml-test type>", "value": "<text>"}. */
#include "tomlimpl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nh_err json_string(nh_toml_buf *b, const char *s, size_t len) {
  NH_CALL(nh_toml_buf_addc(b, '"'));
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      NH_CALL(nh_toml_buf_add(b, esc, 2));
    } else if (c < 0x20 || c == 0x7F) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      NH_CALL(nh_toml_buf_add(b, esc, 6));
    } else {
      NH_CALL(nh_toml_buf_addc(b, (char)c));
    }
  }
  return nh_toml_buf_addc(b, '"');
}

static nh_err add_text(nh_toml_buf *b, const char *s) {
  return nh_toml_buf_add(b, s, strlen(s));
}

/* The shortest "%.*g" text that reads back as the same double. */
static void format_double(double x, char *out, size_t size) {
  if (isnan(x)) {
    snprintf(out, size, "nan");
    return;
  }
  if (isinf(x)) {
    snprintf(out, size, x < 0 ? "-inf" : "inf");
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, size, "%.*g", prec, x);
    if (strtod(out, NULL) == x) return;
  }
}

static nh_err json_scalar(nh_toml_buf *b, const nh_toml_val *v) {
  char text[64];
  const char *s = text;
  size_t len;
  switch (v->type) {
  case NH_TOML_INT:
    snprintf(text, sizeof text, "%lld", (long long)v->num.i);
    break;
  case NH_TOML_FLOAT:
    format_double(v->num.d, text, sizeof text);
    break;
  case NH_TOML_BOOL:
    snprintf(text, sizeof text, "%s", v->num.b ? "true" : "false");
    break;
  default: /* strings and date/time text */
    s = nh_toml_string(v, &len);
    break;
  }
  if (s == text) len = strlen(text);
  NH_CALL(add_text(b, "{\"type\": \""));
  NH_CALL(add_text(b, nh_toml_type_name(v->type)));
  NH_CALL(add_text(b, "\", \"value\": "));
  NH_CALL(json_string(b, s, len));
  return nh_toml_buf_addc(b, '}');
}

/* Recursion is bounded by NH_TOML_MAX_DEPTH. */
static nh_err json_value(nh_toml_buf *b, const nh_toml_val *v) {
  int table = v->type == NH_TOML_TABLE;
  if (!table && v->type != NH_TOML_ARRAY) return json_scalar(b, v);
  NH_CALL(nh_toml_buf_addc(b, table ? '{' : '['));
  for (size_t i = 0; i < v->n; i++) {
    const nh_toml_val *c = v->items[i];
    if (i) NH_CALL(nh_toml_buf_add(b, ", ", 2));
    if (table) {
      NH_CALL(json_string(b, c->key, c->keylen));
      NH_CALL(nh_toml_buf_add(b, ": ", 2));
    }
    NH_CALL(json_value(b, c));
  }
  return nh_toml_buf_addc(b, table ? '}' : ']');
}

nh_err nh_toml_to_json(const nh_toml *doc, char **json, size_t *len) {
  nh_err err = NH_OK;
  nh_toml_buf b = {0};
  NH_CALL_GOTO(json_value(&b, doc->root), fail);
  *json = b.s;
  if (len) *len = b.len;
  return NH_OK;
fail:
  nh_free(&b.s);
  return err;
}
