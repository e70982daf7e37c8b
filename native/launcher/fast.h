#ifndef DRAY_LAUNCHER_FAST_H
#define DRAY_LAUNCHER_FAST_H
/* Runs start, state, kill or delete without Node when nothing about the call
 * needs policy. Returns the exit code, or -1: "not handled, nothing done",
 * and the caller execs the Node runtime as usual. */
int fast_path(int argc, char **argv);
#endif
