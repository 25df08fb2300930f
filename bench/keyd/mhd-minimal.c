/*
 * mhd-minimal.c - the limit for the key-server benchmarks: the smallest
 * useful libmicrohttpd server, run with the same threading and connection
 * settings as sealpost-keyd (src/keyd/http.c): an internal polling thread
 * with poll() (keyd suspends and resumes connections on its key-release
 * path, which is cheaper with poll than with epoll), a thread pool of
 * 2 x cores, 30 s connection timeout, 32 KiB per connection. With "epoll"
 * as the third argument it uses epoll instead: the fastest setting for a
 * handler that never suspends, reported beside the like-for-like limit. It reads and discards any request body and answers every
 * request with 200 and a small JSON body the size of a key release
 * ({"key": 44 base64 characters, "kid"}). What keyd does beyond this
 * (routing, JSON parsing and checks, SQLite, key unwrapping, audit) is what
 * the ratio keyd ÷ mhd-minimal measures.
 *
 *   mhd-minimal PORT [THREADS [poll|epoll]]   listen on 127.0.0.1:PORT until SIGINT/SIGTERM
 *
 * Not installed; bench/keyd/run.mjs starts it.
 */
#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char BODY[] =
    "{\"key\":\"qUE5LVvhnHk0AcUhTWuwnlxwS1FE8OUHFrkWNrRKjsk=\",\"kid\":\"k1\"}";

/* Marks a connection whose request headers were seen (the first call). */
static int seen;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    if (*req_cls == NULL) { /* headers only: come back for the body */
        *req_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a piece of the body: discard it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof BODY - 1, (void *)BODY, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static unsigned long parse_number(const char *text, unsigned long min, unsigned long max,
                                  const char *what)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || !end || *end || end == text || v < min || v > max) {
        fprintf(stderr, "mhd-minimal: %s \"%s\" is not a number from %lu to %lu\n", what, text, min,
                max);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4 || (argc == 4 && strcmp(argv[3], "poll") && strcmp(argv[3], "epoll"))) {
        fprintf(stderr, "usage: mhd-minimal PORT [THREADS [poll|epoll]]\n"
                        "  answers every request on 127.0.0.1:PORT with 200 and a small JSON\n"
                        "  body; THREADS defaults to 2 x cores and the mode to poll, as\n"
                        "  sealpost-keyd\n");
        return 1;
    }
    bool epoll = argc == 4 && strcmp(argv[3], "epoll") == 0;
    unsigned port = (unsigned)parse_number(argv[1], 1, 65535, "port");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = argc >= 3 ? (unsigned)parse_number(argv[2], 1, 1024, "thread count")
                                 : (unsigned)(2 * (cores > 0 ? cores : 1));

    /* Block the stop signals before MHD starts its threads, so that they
     * inherit the mask and only sigwait() below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    /* one option and its value per line */
    // clang-format off
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | (epoll ? MHD_USE_EPOLL : MHD_USE_POLL) | MHD_USE_ERROR_LOG,
        (uint16_t)port,
        NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)1024,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024), /* as keyd */
        MHD_OPTION_END);
    // clang-format on
    if (!d) {
        fprintf(stderr, "mhd-minimal: cannot listen on 127.0.0.1:%u (in use?)\n", port);
        return 1;
    }
    fprintf(stderr, "mhd-minimal: listening on 127.0.0.1:%u with %u threads (%s)\n", port, threads,
            epoll ? "epoll" : "poll");

    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    return 0;
}
