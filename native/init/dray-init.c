/*
 * dray-init: the tiny init `docker run --init` puts at pid 1 (tini's role).
 * Usage: dray-init [--] cmd [args...]
 * Runs cmd as its child in its own process group with the signals it may
 * receive unblocked, forwards every catchable signal to it, reaps every
 * zombie re-parented to pid 1, and exits with the child's status (128 +
 * signal when the child was killed). No policy: argv is exec'd as given.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_of(int st) {
	if (WIFEXITED(st)) return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
	return 1;
}

int main(int argc, char **argv) {
	int first = 1;
	if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
	if (first >= argc) {
		fprintf(stderr, "dray-init: usage: dray-init [--] command [args...]\n");
		return 2;
	}
	/* Block everything we forward; the child gets the original mask back. */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGABRT);
	if (sigprocmask(SIG_SETMASK, &all, &old) != 0) {
		perror("dray-init: sigprocmask");
		return 1;
	}
	/* When not pid 1 (a nested init), still adopt orphans. */
	if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	pid_t child = fork();
	if (child < 0) {
		perror("dray-init: fork");
		return 1;
	}
	if (child == 0) {
		setpgid(0, 0);
		/* A TTY's foreground group follows the child, as tini does. */
		if (isatty(STDIN_FILENO)) {
			signal(SIGTTOU, SIG_IGN);
			(void)tcsetpgrp(STDIN_FILENO, getpgrp());
			signal(SIGTTOU, SIG_DFL);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[first], &argv[first]);
		fprintf(stderr, "dray-init: exec %s: %s\n", argv[first], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	int exit_code = -1;
	for (;;) {
		siginfo_t si;
		struct timespec tick = {1, 0};
		int sig = sigtimedwait(&all, &si, &tick);
		if (sig > 0 && sig != SIGCHLD) {
			/* forward to the child's process group leader */
			if (kill(child, sig) != 0 && errno != ESRCH) perror("dray-init: kill");
		}
		/* reap: the child's status is ours; every other zombie just goes */
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);
			if (p <= 0) break;
			if (p == child) exit_code = status_of(st);
		}
		if (exit_code >= 0) return exit_code;
	}
}
