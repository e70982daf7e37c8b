#ifndef DRAY_LAUNCHER_FAST_H
#define DRAY_LAUNCHER_FAST_H
/* Runs start, state, kill or delete without Node when nothing about the call
 * needs policy. Returns the exit code, or -1: "not handled, nothing done",
 * and the caller execs the Node runtime as usual. */
int fast_path(int argc, char **argv);

/* runc's global flags as far as the launcher handles them; verb is the
 * index of the verb in argv. -1: anything else (the Node CLI's to read). */
struct globals {
  const char *root, *log, *logfmt;
  int verb;
};
int parse_globals(int argc, char **argv, struct globals *g);
#endif
