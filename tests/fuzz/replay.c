/* SPDX-License-Identifier: MIT */
/* Without libFuzzer (gcc builds): runs every file named on the command
 * line, or in the directories named, through the harness once. The suite
 * replays each seed corpus this way under the sanitizers. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  uint8_t *buf = malloc(1 << 20);
  size_t n = fread(buf, 1, 1 << 20, f);
  fclose(f);
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 0;
}

int
main(int argc, char **argv) {
  int files = 0, errors = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      DIR *d = opendir(argv[i]);
      struct dirent *de;
      while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
          continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
        errors += run_file(path);
        files++;
      }
      if (d)
        closedir(d);
    } else {
      errors += run_file(argv[i]);
      files++;
    }
  }
  printf("replayed %d inputs\n", files);
  return errors || files == 0;
}
