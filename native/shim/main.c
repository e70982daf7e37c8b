/* dray-shim: the per-container monitor (containerd-shim's role).
 * Foundation stage: answers --version and --help; the supervisor issue
 * builds the monitor itself here. */
#include <stdio.h>
#include <string.h>

#ifndef DRAY_VERSION
#define DRAY_VERSION "dev"
#endif

int main(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
    printf("dray-shim %s\n", DRAY_VERSION);
    return 0;
  }
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("Usage: dray-shim [--version] [--help]\n\nPer-container monitor: parent of the container, holds its stdio, records its exit.\n");
    return 0;
  }
  fprintf(stderr, "dray-shim: not started by a supervisor (see --help)\n");
  return 1;
}
