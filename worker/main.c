/* seckill-worker: the roles of worker.h in threads, stopped cleanly by SIGTERM/SIGINT; SIGHUP
 * reopens the log file. Exit status: 0 after a clean stop, 1 on a startup error, 2 on bad
 * arguments; with --once, 0 when every job succeeded, else 1. */
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_signal.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bloom.h"
#include "config.h"
#include "log.h"
#include "orders.h"
#include "scheduler.h"
#include "timeout.h"
#include "worker.h"

#define VERSION "0.1"

/* One thread each, with connections of its own. */
static const seckill_worker_role roles[] = {
    {"scheduler", seckill_scheduler_init, seckill_scheduler_run},
    {"orders", seckill_orders_init, seckill_orders_run},
    {"timeout", seckill_timeout_init, seckill_timeout_run},
};
#define NROLES (sizeof roles / sizeof roles[0])

typedef struct {
    const seckill_worker_role *role;
    void *state;
} role_thread;

typedef struct {
    const char *config;
    int foreground;
    int once;
    const char *bloom_id;
} options;

enum { OPT_ONCE = 256, OPT_BLOOM };

static const apr_getopt_option_t option_list[] = {
    {"config", 'c', 1, "config file (key = value lines, see conf/seckill-worker.conf)"},
    {"foreground", 'f', 0, "stay in the foreground and log to stderr"},
    {"once", OPT_ONCE, 0, "run each scheduler job once, without the leader lock, and exit"},
    {"bloom-positions", OPT_BLOOM, 1, "print the Bloom bit positions of product id ID"},
    {"help", 'h', 0, "this help"},
    {NULL, 0, 0, NULL},
};

/* ---- stop flag (worker.h) ---------------------------------------------------------------- */

int seckill_worker_stopping(seckill_worker *w)
{
    int stop;
    apr_thread_mutex_lock(w->mu);
    stop = w->stop;
    apr_thread_mutex_unlock(w->mu);
    return stop;
}

int seckill_worker_wait(seckill_worker *w, apr_interval_time_t t)
{
    apr_time_t until = apr_time_now() + t;
    int stop;
    apr_thread_mutex_lock(w->mu);
    while (!w->stop && apr_time_now() < until)
        apr_thread_cond_timedwait(w->cv, w->mu, until - apr_time_now());
    stop = w->stop;
    apr_thread_mutex_unlock(w->mu);
    return stop;
}

static void request_stop(seckill_worker *w)
{
    apr_thread_mutex_lock(w->mu);
    w->stop = 1;
    apr_thread_cond_broadcast(w->cv);
    apr_thread_mutex_unlock(w->mu);
}

/* ---- arguments --------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: seckill-worker [-c FILE] [-f] [--once] [--bloom-positions ID] [-h]\n");
    for (const apr_getopt_option_t *o = option_list; o->name; o++) {
        char sh[8] = "    ";
        if (o->optch < 256)
            snprintf(sh, sizeof sh, "-%c, ", o->optch);
        fprintf(f, "  %s--%-16s %s\n", sh, o->name, o->description);
    }
    fprintf(f, "Settings may also come from SECKILL_WORKER_<KEY> environment variables.\n");
}

/* -1 to go on, else the exit status. */
static int parse_args(apr_pool_t *p, int argc, const char *const *argv, options *o)
{
    apr_getopt_t *g;
    apr_status_t rv;
    const char *arg;
    int ch;

    memset(o, 0, sizeof *o);
    apr_getopt_init(&g, p, argc, argv);
    g->errfn = NULL;
    while ((rv = apr_getopt_long(g, option_list, &ch, &arg)) == APR_SUCCESS) {
        switch (ch) {
        case 'c':
            o->config = arg;
            break;
        case 'f':
            o->foreground = 1;
            break;
        case OPT_ONCE:
            o->once = 1;
            break;
        case OPT_BLOOM:
            o->bloom_id = arg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        }
    }
    if (rv != APR_EOF || g->ind < argc) {
        fprintf(stderr, "seckill-worker: bad arguments\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Debugging aid for tests and admins: which bits of SECKILL_KEY_BLOOM an id sets. */
static int print_bloom(const char *s)
{
    uint32_t pos[SECKILL_BLOOM_HASHES];
    char *end;
    long long id;

    errno = 0;
    id = strtoll(s, &end, 10);
    if (!*s || *end || errno) {
        fprintf(stderr, "seckill-worker: '%s' is not a product id\n", s);
        return 2;
    }
    seckill_bloom_positions(id, pos);
    for (int i = 0; i < SECKILL_BLOOM_HASHES; i++)
        printf("%u%c", (unsigned)pos[i], i + 1 < SECKILL_BLOOM_HASHES ? ' ' : '\n');
    return 0;
}

/* ---- process ----------------------------------------------------------------------------- */

/* stderr until the worker detaches, so startup errors reach the admin's terminal. */
static const char *start_logging(apr_pool_t *p, const seckill_worker_config *cfg, const options *o)
{
    if (!o->foreground && !o->once && !cfg->log_file)
        return "log_file is required when not running in the foreground (-f)";
    return seckill_worker_log_open(p, NULL, cfg->log_level);
}

/* Before any thread: fork keeps only the calling one. */
static const char *daemonize(apr_pool_t *p, const seckill_worker_config *cfg)
{
    const char *err = seckill_worker_log_open(p, cfg->log_file, cfg->log_level);
    if (err)
        return err;
    if (apr_proc_detach(APR_PROC_DETACH_DAEMONIZE) != APR_SUCCESS)
        return apr_psprintf(p, "cannot detach: %s", strerror(errno));
    return NULL;
}

static int pidfile_write(apr_pool_t *p, const char *path)
{
    const char *tmp = apr_psprintf(p, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "w");

    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, path)) {
        seckill_worker_log(SECKILL_LOG_ERROR, SKW_PIDFILE, "pid file %s: %s", path,
                           strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Only our own: a newer worker may have taken the file over. */
static void pidfile_remove(const char *path)
{
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (!f)
        return;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid == (int)getpid())
        unlink(path);
}

static const char *init_roles(apr_pool_t *p, seckill_worker *w, role_thread *rt)
{
    const char *err;
    for (size_t i = 0; i < NROLES; i++) {
        rt[i].role = &roles[i];
        if ((err = roles[i].init(p, w, &rt[i].state)))
            return apr_psprintf(p, "%s: %s", roles[i].name, err);
    }
    return NULL;
}

static void *APR_THREAD_FUNC role_main(apr_thread_t *t, void *arg)
{
    role_thread *rt = arg;
    apr_pool_t *p;

    /* A pool with an allocator of its own: no lock shared with the other roles' pools. */
    apr_pool_create_unmanaged(&p);
    rt->role->run(rt->state, p);
    apr_pool_destroy(p);
    /* A plain return, not apr_thread_exit: its pthread_exit unwinds past frames AddressSanitizer
     * still has poisoned; the thread's own pool goes with the main pool. */
    return NULL;
}

/* Waits for SIGTERM/SIGINT (stop) while SIGHUP reopens the log. */
static void wait_signals(seckill_worker *w, const sigset_t *set)
{
    const char *err;
    int sig;

    for (;;) {
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        if ((err = seckill_worker_log_reopen()))
            seckill_worker_log(SECKILL_LOG_ERROR, SKW_LOG_REOPENED, "%s", err);
        else
            seckill_worker_log(SECKILL_LOG_INFO, SKW_LOG_REOPENED, "log file reopened");
    }
    seckill_worker_log(SECKILL_LOG_INFO, SKW_STOPPING, "stopping on %s, finishing the current job",
                       sig == SIGTERM ? "SIGTERM" : "SIGINT");
    request_stop(w);
}

static int run_roles(apr_pool_t *p, seckill_worker *w, role_thread *rt)
{
    apr_thread_t *threads[NROLES];
    apr_status_t st;
    size_t started = 0;
    sigset_t set;
    int rc = 0;

    /* Blocked before any thread exists, so every thread inherits the mask and only sigwait
     * below sees these signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    for (; started < NROLES; started++) {
        if (apr_thread_create(&threads[started], NULL, role_main, &rt[started], p)) {
            seckill_worker_log(SECKILL_LOG_ERROR, SKW_STARTUP, "cannot start the %s thread",
                               rt[started].role->name);
            request_stop(w);
            rc = 1;
            break;
        }
    }
    if (rc == 0)
        wait_signals(w, &set);
    for (size_t i = 0; i < started; i++)
        apr_thread_join(&st, threads[i]);
    return rc;
}

static void log_started(const seckill_worker_config *cfg, const char *mode)
{
    seckill_worker_log(SECKILL_LOG_INFO, SKW_STARTED,
                       "seckill-worker %s starting%s (config %s, redis %s, mysql %s, amqp %s)",
                       VERSION, mode, cfg->file ? cfg->file : "none", cfg->redis.url,
                       cfg->mysql.url, cfg->amqp.host ? cfg->amqp.url : "none");
}

static int run_once(apr_pool_t *p, seckill_worker *w)
{
    void *state;
    const char *err = seckill_scheduler_init(p, w, &state);
    if (err) {
        seckill_worker_log(SECKILL_LOG_ERROR, SKW_STARTUP, "scheduler: %s", err);
        return 1;
    }
    log_started(w->cfg, " once");
    return seckill_scheduler_once(state, p) == 0 ? 0 : 1;
}

static int run(apr_pool_t *p, const options *o, const seckill_worker_config *cfg)
{
    seckill_worker w = {.cfg = cfg};
    role_thread rt[NROLES];
    const char *err;
    int rc;

    apr_thread_mutex_create(&w.mu, APR_THREAD_MUTEX_DEFAULT, p);
    apr_thread_cond_create(&w.cv, p);
    if (o->once)
        return run_once(p, &w);
    /* Before detaching, so a missing script fails on the admin's terminal with status 1. */
    if ((err = init_roles(p, &w, rt))) {
        seckill_worker_log(SECKILL_LOG_ERROR, SKW_STARTUP, "%s", err);
        return 1;
    }
    if (!o->foreground && (err = daemonize(p, cfg))) {
        seckill_worker_log(SECKILL_LOG_ERROR, SKW_STARTUP, "%s", err);
        return 1;
    }
    log_started(cfg, "");
    if (cfg->pid_file && pidfile_write(p, cfg->pid_file) != 0)
        return 1;
    rc = run_roles(p, &w, rt);
    if (cfg->pid_file)
        pidfile_remove(cfg->pid_file);
    if (rc == 0)
        seckill_worker_log(SECKILL_LOG_INFO, SKW_STOPPED, "stopped");
    return rc;
}

int main(int argc, const char *const *argv)
{
    seckill_worker_config cfg;
    apr_pool_t *p;
    options o;
    const char *err;
    int rc;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS)
        return 1;
    atexit(apr_terminate);
    apr_signal(SIGPIPE, SIG_IGN); /* a write to a server that went away is an error, not death */
    apr_pool_create(&p, NULL);
    if ((rc = parse_args(p, argc, argv, &o)) >= 0)
        return rc;
    if (o.bloom_id)
        return print_bloom(o.bloom_id);
    if ((err = seckill_worker_config_load(p, o.config, &cfg)) ||
        (err = start_logging(p, &cfg, &o))) {
        seckill_worker_log(SECKILL_LOG_ERROR, SKW_CONFIG, "config: %s", err);
        return 1;
    }
    mysql_library_init(0, NULL, NULL);
    rc = run(p, &o, &cfg);
    mysql_library_end();
    return rc;
}
