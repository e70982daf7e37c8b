/* OOM notices for the container's memory cgroup, as they happen (the
 * supervisor publishes them as TaskOOM events). cgroup v1: an eventfd
 * registered on memory.oom_control through cgroup.event_control; v2: inotify
 * on memory.events. Either way the truth is the oom_kill counter, re-read on
 * every wake-up, so spurious wake-ups (the cgroup going away) send nothing. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "shim.h"

int oom_fd = -1;
static int oom_ctl = -1; /* v1: memory.oom_control, held for the registration */
static long last_count;
static const char *watched;

long oom_count(const char *file) {
  char text[1024];
  if (read_small_file(file, text, sizeof text) <= 0) return -1;
  const char *k = strstr(text, "oom_kill ");
  return k ? atol(k + 9) : -1;
}

void oom_watch(const char *file) {
  if (!file) return;
  watched = file;
  last_count = oom_count(file);
  if (last_count < 0) last_count = 0;
  const char *base = strrchr(file, '/');
  if (base && !strcmp(base, "/memory.oom_control")) {
    char ctl[4200];
    snprintf(ctl, sizeof ctl, "%.*s/cgroup.event_control", (int)(base - file), file);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int ofd = open(file, O_RDONLY | O_CLOEXEC);
    int cfd = open(ctl, O_WRONLY | O_CLOEXEC);
    char line[32];
    int n = snprintf(line, sizeof line, "%d %d", efd, ofd);
    if (efd >= 0 && ofd >= 0 && cfd >= 0 && write(cfd, line, (size_t)n) == n) {
      oom_fd = efd;
      oom_ctl = ofd;
    } else {
      if (efd >= 0) close(efd);
      if (ofd >= 0) close(ofd);
    }
    if (cfd >= 0) close(cfd);
  } else {
    int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd >= 0 && inotify_add_watch(ifd, file, IN_MODIFY) >= 0) oom_fd = ifd;
    else if (ifd >= 0) close(ifd);
  }
}

/* Drains the wake-up and tells whether the kill counter moved. */
bool oom_check(void) {
  if (oom_fd >= 0) {
    char drain[512];
    while (read(oom_fd, drain, sizeof drain) > 0) {
    }
  }
  if (!watched) return false;
  long n = oom_count(watched);
  if (n <= last_count) return false;
  last_count = n;
  return true;
}

void oom_unwatch(void) {
  if (oom_fd >= 0) close(oom_fd);
  if (oom_ctl >= 0) close(oom_ctl);
  oom_fd = oom_ctl = -1;
  watched = NULL;
}
