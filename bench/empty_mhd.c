/* SPDX-License-Identifier: MIT */
/* The ceiling h of SPEC §8: a libmicrohttpd server that does nothing, with
 * the daemon options of src/http.c (internal polling thread, epoll, a
 * thread pool, suspend/resume, a 36 KiB pool per connection), a per-request
 * allocation on the URI callback and the answer queued on the second call,
 * as Gatehouse does to keep keep-alive. It reads and drops any body and
 * answers 200 with a small JSON body and the same cache headers.
 *
 *   empty_mhd PORT [THREADS] [sink]     runs until SIGTERM or SIGINT
 *
 * With "sink" it is also the back-channel receiver of the logout
 * workloads: it counts the POSTs it answers and keeps the CLOCK_MONOTONIC
 * time of the latest, and GET /stats answers {"count":N,"last_ns":T}. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#define BODY "{\"active\":false}"

struct req {
    int calls;
};

static volatile sig_atomic_t stop;
static int sink;
static atomic_long posts;
static atomic_llong last_ns;

static void
on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mhd)
{
    (void)cls;
    (void)uri;
    (void)mhd;
    return calloc(1, sizeof(struct req));
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mhd, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    struct req *r = *con_cls;
    struct MHD_Response *resp;
    enum MHD_Result ret;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (r == NULL)
        return MHD_NO;
    if (r->calls++ == 0)
        return MHD_YES;
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (sink && strcmp(method, "POST") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        atomic_store(&last_ns, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
        atomic_fetch_add(&posts, 1);
    }
    if (sink && strcmp(url, "/stats") == 0) {
        char buf[96];
        int n = snprintf(buf, sizeof(buf), "{\"count\":%ld,\"last_ns\":%lld}",
                         atomic_load(&posts), atomic_load(&last_ns));
        resp = MHD_create_response_from_buffer((size_t)n, buf,
                                               MHD_RESPMEM_MUST_COPY);
    } else {
        resp = MHD_create_response_from_buffer(strlen(BODY), (void *)BODY,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Pragma", "no-cache");
    ret = MHD_queue_response(mhd, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *mhd, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)mhd;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

int
main(int argc, char **argv)
{
    struct MHD_Daemon *d;
    struct sockaddr_in sa;
    unsigned threads;

    if (argc < 2) {
        fprintf(stderr, "usage: empty_mhd PORT [THREADS] [sink]\n");
        return 2;
    }
    threads = argc > 2 ? (unsigned)atoi(argv[2])
                       : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    sink = argc > 3 && strcmp(argv[3], "sink") == 0;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_URI_LOG_CALLBACK,
        on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(36 * 1024),
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT,
        20000u, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "empty_mhd: cannot start on port %s\n", argv[1]);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
