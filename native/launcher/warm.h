#ifndef DRAY_LAUNCHER_WARM_H
#define DRAY_LAUNCHER_WARM_H
/* create and run through the warm runtime server (src/runtime/warm/):
 * the exit code, or -1 when the Node CLI must run as usual (no server yet:
 * one is started for the next call; the server declined; anything odd). */
int warm_path(int argc, char **argv, const char *repo, const char *node, const char *script);
#endif
