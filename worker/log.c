#include "log.h"

#include <apr_strings.h>
#include <apr_time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* The fd stays the same for the process's life: a reopen dup2s the new file onto it, so a thread
 * writing at that moment writes to the old or the new file, never to a closed fd. */
static int log_fd = STDERR_FILENO;
static const char *log_path;
static seckill_worker_log_level log_max = SECKILL_LOG_INFO;

int seckill_worker_log_level_parse(const char *s, seckill_worker_log_level *out)
{
    for (int i = 0; i <= SECKILL_LOG_DEBUG; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (seckill_worker_log_level)i;
            return 0;
        }
    }
    return -1;
}

static int open_append(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

const char *seckill_worker_log_open(apr_pool_t *p, const char *path, seckill_worker_log_level level)
{
    log_max = level;
    if (!path)
        return NULL;
    int fd = open_append(path);
    if (fd < 0)
        return apr_psprintf(p, "cannot open log file %s: %s", path, strerror(errno));
    log_fd = fd;
    log_path = apr_pstrdup(p, path);
    return NULL;
}

const char *seckill_worker_log_reopen(void)
{
    static char msg[512];
    if (!log_path)
        return NULL;
    int fd = open_append(log_path);
    if (fd < 0 || dup2(fd, log_fd) < 0) {
        snprintf(msg, sizeof msg, "cannot reopen log file %s: %s", log_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return msg;
    }
    close(fd);
    return NULL;
}

/* Server messages may hold newlines; one event must stay one line for grep. */
static void flatten(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' || s[i] == '\r')
            s[i] = ' ';
    }
}

void seckill_worker_log(seckill_worker_log_level level, int id, const char *fmt, ...)
{
    char line[2048];
    apr_time_exp_t tm;
    va_list ap;
    size_t n;

    if (level > log_max)
        return;
    apr_time_exp_lt(&tm, apr_time_now());
    n = (size_t)snprintf(line, sizeof line, "%04d-%02d-%02d %02d:%02d:%02d.%03d [%d] %s SKW%03d ",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, tm.tm_usec / 1000, (int)getpid(), level_names[level], id);
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m > 0)
        n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    flatten(line, n);
    line[n++] = '\n';
    if (write(log_fd, line, n) < 0) {
        /* Nowhere left to report it. */
    }
}
