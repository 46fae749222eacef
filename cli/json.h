/* SPDX-License-Identifier: MIT */
/* A small streaming JSON writer: well-formed for any input (strings are
 * escaped, invalid UTF-8 becomes U+FFFD), indented as PBS Pro's -F json. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
  FILE *out;
  int depth;
  bool has_items[JSON_MAX_DEPTH]; /* a comma is due before the next item */
};

void json_init(struct json *j, FILE *out);
/* key is NULL inside arrays and at the top. */
void json_open(struct json *j, const char *key, char bracket /* '{' or '[' */);
void json_close(struct json *j, char bracket /* '}' or ']' */);
void json_str(struct json *j, const char *key, const char *value); /* NULL: null */
void json_int(struct json *j, const char *key, int64_t value);
void json_num(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, bool value);
/* Members with dotted keys, written in order, nest as PBS Pro's JSON does:
 * "Resource_List.mem" goes into the object "Resource_List", opened when
 * its first key comes and closed when another group (or none) follows.
 * json_grouped_key returns the key to write in the current object. */
struct json_group {
  char name[64]; /* the group open now, "" if none */
};
const char *json_grouped_key(struct json *j, struct json_group *g, const char *key);
void json_group_end(struct json *j, struct json_group *g);

/* Ends the document with a newline. */
void json_end(struct json *j);

/* Writes s as a JSON string literal (with quotes). */
void json_write_string(FILE *out, const char *s);

/* PBS Pro's -F json documents begin {"timestamp", "pbs_version",
 * "pbs_server", ...: opens that object. */
void json_pbs_header(struct json *js, const char *server);

/* XML text with the five characters XML reserves written as entities. */
void xml_write_text(FILE *out, const char *s);
