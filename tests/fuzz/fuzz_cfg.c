/* SPDX-License-Identifier: MIT */
/* The configuration parser: any file is loaded or refused with file:line. */
#include "cfg.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = xmalloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';
  struct boxq_config c;
  struct berr err = {{0}};
  if (cfg_load_string(text, "fuzz.ini", &c, &err) == 0)
    cfg_free(&c);
  else if (strncmp(err.msg, "fuzz.ini", 8) != 0)
    __builtin_trap(); /* every refusal names the file */
  free(text);
  return 0;
}
