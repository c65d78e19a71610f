/* sit-run - run a pipeline of programs, each stage's exit status known, the
 * first failure's own message and code reported, under a deadline, with a
 * commit gate for the last stage.  What a shell pipeline lacks; sit(1) runs
 * every image through it.  See sit-run(1).
 *
 *   sit-run [--deadline S] [--gate N] [-v] -- CMD [ARG...] [| CMD [ARG...]]...
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "io.h"

#define MAX_STAGES 16
#define ERR_KEEP 4096      /* of each stage's standard error */

struct stage {
	char **argv;
	const char *name;    /* argv[0] without its directory */
	pid_t pid;
	int err;             /* read end of its standard error, or -1 */
	int status;          /* from waitpid, once done */
	int done;
	char msg[ERR_KEEP];
	size_t len;
};

struct opts {
	unsigned deadline;
	int gate;            /* descriptor number the last stage gets, or -1 */
	int watch;           /* pidfd of --while-pid, or -1 */
	struct stage st[MAX_STAGES];
	unsigned n;
};

/* A signal for us, passed on to every stage; then it ends us too. */
static volatile sig_atomic_t got_signal;
static int ended_by;

static void
on_signal(int sig)
{
	got_signal = sig;
}

static noreturn void
usage(void)
{
	printf("Usage: sit-run [--deadline SECONDS] [--gate N] [--while-pid P] -- CMD [ARG...] ['|' CMD [ARG...]]...\n"
		"Run a pipeline; report the first stage that failed with its own message and code.\n\n"
		"      --deadline S  stop every stage after S seconds: exit 75, ask for a resend\n"
		"      --gate N      give the last stage descriptor N, where 'y' is written once\n"
		"                    every other stage has succeeded (for its --commit-fd N)\n"
		"      --while-pid P stop every stage (SIGTERM) when process P ends\n"
		"  -h, --help        this help\n"
		"      --version     the version\n");
	exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
}

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "deadline", required_argument, NULL, 'd' },
		{ "gate", required_argument, NULL, 'g' },
		{ "while-pid", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof *o);
	o->gate = -1;
	o->watch = -1;
	/* "+": options end at the first command, whose own options are its own. */
	while ((c = getopt_long(argc, argv, "+h", longs, NULL)) != -1) {
		switch (c) {
		case 'd': o->deadline = (unsigned)sit_cli_number("--deadline", optarg, 0, 86400); break;
		case 'g': o->gate = (int)sit_cli_number("--gate", optarg, 3, 255); break;
		case 'w':
			/* A descriptor that becomes readable when the process ends:
			 * no polling, no pid reuse. */
			o->watch = (int)syscall(SYS_pidfd_open,
				(pid_t)sit_cli_number("--while-pid", optarg, 1, INT32_MAX), 0);
			if (o->watch < 0)
				sit_die(errno == ESRCH ? EX_TEMPFAIL : EX_OSERR,
					"--while-pid %s: %s", optarg, strerror(errno));
			break;
		case 'h': usage();
		case 'V': sit_cli_version();
		default: sit_cli_usage_error("unknown option");
		}
	}
	for (int i = optind; i < argc; i++) {
		int bar = strcmp(argv[i], "|") == 0;

		if (bar || i == optind) {
			if (o->n == MAX_STAGES)
				sit_cli_usage_error("at most %d stages", MAX_STAGES);
			if (bar && (i + 1 == argc || strcmp(argv[i + 1], "|") == 0))
				sit_cli_usage_error("a '|' with no command after it");
			o->st[o->n++].argv = argv + i + bar;
			if (bar)
				argv[i] = NULL;   /* ends the stage before */
		}
	}
	if (o->n == 0)
		sit_cli_usage_error("no command given");
	for (unsigned i = 0; i < o->n; i++) {
		const char *s = strrchr(o->st[i].argv[0], '/');
		o->st[i].name = s ? s + 1 : o->st[i].argv[0];
	}
}

/* In the child: plumbing, then the program.  Only exec-safe calls. */
static noreturn void
exec_stage(struct stage *s, int in, int out, int err, int gate, int gate_fd)
{
	signal(SIGPIPE, SIG_DFL);
	if ((in != 0 && dup2(in, 0) < 0) || (out != 1 && dup2(out, 1) < 0)
	    || dup2(err, 2) < 0)
		_exit(EX_OSERR);
	/* dup2 onto itself would leave close-on-exec set. */
	if (gate >= 0 && (gate == gate_fd ? fcntl(gate, F_SETFD, 0) : dup2(gate, gate_fd)) < 0)
		_exit(EX_OSERR);
	execvp(s->argv[0], s->argv);
	dprintf(2, "sit-run: cannot run %s: %s\n", s->argv[0], strerror(errno));
	_exit(errno == ENOENT ? EX_UNAVAILABLE : EX_OSERR);
}

/* Start every stage, each reading the one before; returns the write end of
 * the gate, or -1. */
static int
start(struct opts *o)
{
	int in = 0, gate[2] = { -1, -1 };

	if (o->gate >= 0 && pipe2(gate, O_CLOEXEC) != 0)
		sit_die(EX_OSERR, "cannot make a pipe: %s", strerror(errno));
	for (unsigned i = 0; i < o->n; i++) {
		struct stage *s = &o->st[i];
		int p[2] = { -1, 1 }, e[2];
		int last = i + 1 == o->n;

		if ((!last && pipe2(p, O_CLOEXEC) != 0) || pipe2(e, O_CLOEXEC) != 0)
			sit_die(EX_OSERR, "cannot make a pipe: %s", strerror(errno));
		if ((s->pid = fork()) < 0)
			sit_die(EX_OSERR, "cannot start %s: %s", s->name, strerror(errno));
		if (s->pid == 0)
			exec_stage(s, in, p[1], e[1], last ? gate[0] : -1, o->gate);
		close(e[1]);
		s->err = e[0];
		if (in != 0)
			close(in);
		if (!last) {
			close(p[1]);
			in = p[0];
		}
	}
	if (gate[0] >= 0)
		close(gate[0]);
	return gate[1];
}

static void
signal_all(const struct opts *o, int sig)
{
	for (unsigned i = 0; i < o->n; i++)
		if (!o->st[i].done && o->st[i].pid > 0)
			kill(o->st[i].pid, sig);
}

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Keep the first ERR_KEEP bytes of a stage's standard error; at its end,
 * reap the stage (a stage's stderr ends when the stage does). */
static void
drain(struct stage *s)
{
	char buf[4096];
	ssize_t n = read(s->err, buf, sizeof buf);

	if (n < 0 && errno == EINTR)
		return;
	if (n > 0) {
		size_t k = (size_t)n < ERR_KEEP - s->len ? (size_t)n : ERR_KEEP - s->len;
		memcpy(s->msg + s->len, buf, k);
		s->len += k;
		return;
	}
	close(s->err);
	s->err = -1;
	while (waitpid(s->pid, &s->status, 0) < 0)
		if (errno != EINTR) {
			s->status = EX_SOFTWARE << 8;
			break;
		}
	s->done = 1;
}

static int
ok(const struct stage *s)
{
	return s->done && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0;
}

/* A stage that only failed because a later one stopped reading. */
static int
broken_pipe(const struct stage *s)
{
	return (WIFSIGNALED(s->status) && WTERMSIG(s->status) == SIGPIPE)
		|| memmem(s->msg, s->len, "Broken pipe", 11) != NULL;
}

/* Wait for every stage; answer the gate once all but the last are done. */
static int
run(struct opts *o, int gate)
{
	long long end = o->deadline ? now_ms() + 1000LL * o->deadline : 0;
	int late = 0;

	for (;;) {
		struct pollfd pf[MAX_STAGES + 1];
		struct stage *who[MAX_STAGES + 1];
		int n = 0, wait_ms = -1, all_before = 1;

		for (unsigned i = 0; i + 1 < o->n; i++)
			all_before &= ok(&o->st[i]);
		for (unsigned i = 0; i + 1 < o->n && gate >= 0; i++)
			if (o->st[i].done && !ok(&o->st[i])) {
				close(gate);   /* withheld */
				gate = -1;
			}
		if (gate >= 0 && all_before) {
			(void)!write(gate, "y", 1);
			close(gate);
			gate = -1;
		}
		for (unsigned i = 0; i < o->n; i++)
			if (o->st[i].err >= 0) {
				pf[n] = (struct pollfd){ o->st[i].err, POLLIN, 0 };
				who[n++] = &o->st[i];
			}
		if (n == 0)
			break;
		if (o->watch >= 0) {
			pf[n] = (struct pollfd){ o->watch, POLLIN, 0 };
			who[n++] = NULL;
		}
		if (got_signal) {
			ended_by = got_signal;
			got_signal = 0;
			signal_all(o, ended_by);
		}
		if (end) {
			long long left = end - now_ms();
			if (left <= 0 && !late) {
				late = 1;
				signal_all(o, SIGTERM);
				end = now_ms() + 2000;   /* then no more asking */
				continue;
			}
			if (left <= 0) {
				signal_all(o, SIGKILL);
				end = 0;
				continue;
			}
			wait_ms = left > 1000000 ? 1000000 : (int)left;
		}
		if (poll(pf, (nfds_t)n, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			sit_die(EX_OSERR, "poll: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++) {
			if (!pf[i].revents)
				continue;
			if (who[i] != NULL)
				drain(who[i]);
			else {
				/* The --while-pid process is gone: so are we. */
				close(o->watch);
				o->watch = -1;
				got_signal = SIGTERM;
			}
		}
	}
	if (gate >= 0)
		close(gate);
	return late;
}

/* The stage whose failure is the pipeline's: the first that failed of its
 * own accord, else the first that failed at all; -1 if none did. */
static int
first_failure(const struct opts *o)
{
	int pipe_only = -1;

	for (unsigned i = 0; i < o->n; i++) {
		const struct stage *s = &o->st[i];
		if (ok(s))
			continue;
		if (!broken_pipe(s))
			return (int)i;
		if (pipe_only < 0)
			pipe_only = (int)i;
	}
	return pipe_only;
}

static void
put(const char *p, size_t n)
{
	(void)!sit_io_write(2, p, n);
}

static int
report(const struct opts *o, int late)
{
	int f = first_failure(o);
	const struct stage *s = f >= 0 ? &o->st[f] : NULL;
	int code;

	if (s == NULL) {
		/* Success: whatever the stages said (-v), in their order. */
		for (unsigned i = 0; i < o->n; i++)
			put(o->st[i].msg, o->st[i].len);
		return 0;
	}
	if (WIFEXITED(s->status) && WEXITSTATUS(s->status) == EX_TEMPFAIL && s->len > 0) {
		put(s->msg, s->len);   /* a stage's own deadline: its word */
		return EX_TEMPFAIL;
	}
	if (late) {
		sit_warn("deadline of %u s passed, output discarded: ask the sender to resend",
			o->deadline);
		return EX_TEMPFAIL;
	}
	code = WIFEXITED(s->status) ? WEXITSTATUS(s->status) : 0;
	if (s->len > 0)
		put(s->msg, s->len);
	else if (WIFSIGNALED(s->status))
		sit_warn("%s was killed by signal %d", s->name, WTERMSIG(s->status));
	else
		sit_warn("%s failed with exit status %d", s->name, code);
	if (s->len > 0 && s->msg[s->len - 1] != '\n')
		put("\n", 1);
	return code >= EX__BASE && code <= EX__MAX ? code : EX_SOFTWARE;
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct opts o;
	struct sigaction sa;
	int late, rc;

	sit_cli_init("sit-run");
	parse(argc, argv, &o);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction old;
		/* Leave a signal ignored if our parent ignored it (nohup, cron). */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
	/* A wrapper that is killed takes its pipelines with it: SIGTERM, which
	 * is passed on to every stage like any other. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		sit_die(EX_OSERR, "prctl: %s", strerror(errno));
	late = run(&o, start(&o));
	if (ended_by != 0) {
		/* Interrupted: end the way the stages did, by the signal. */
		signal(ended_by, SIG_DFL);
		raise(ended_by);
		return 128 + ended_by;
	}
	rc = report(&o, late);
	return rc;
}
