/* mailtls.c -- implicit-TLS (SMTPS) relay on loopback for libESMTP, which only knows STARTTLS. */
#include "autoconf.h"

#include "mailtls.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct mailtls {
    SSL_CTX *ctx;
    SSL *ssl;
    int server_fd; /* TCP connection to the SMTP server (TLS) */
    int listen_fd; /* 127.0.0.1:port for libESMTP */
    int stop[2];   /* pipe: a byte tells the relay thread to finish */
    int port;
    int timeout_ms;
    pthread_t thread;
    int thread_started;
};

/* Non-blocking connect with a timeout; returns a blocking socket or -1 (err filled). */
static int
connect_timeout(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
    char portstr[16];
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    snprintf(portstr, sizeof(portstr), "%d", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int soerr = ETIMEDOUT;
            socklen_t sl = sizeof(soerr);
            if (poll(&p, 1, timeout_ms) == 1)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            rc = soerr == 0 ? 0 : -1;
            errno = soerr;
        }
        if (rc < 0) {
            snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* Copy what is readable from one side to the other; 0 = go on, -1 = closed or error. */
static int
pump_plain_to_tls(struct mailtls *t, int plain)
{
    char buf[16384];
    ssize_t n = read(plain, buf, sizeof(buf));
    if (n <= 0)
        return -1;
    return SSL_write(t->ssl, buf, (int)n) == (int)n ? 0 : -1;
}

static int
pump_tls_to_plain(struct mailtls *t, int plain)
{
    char buf[16384];
    int n = SSL_read(t->ssl, buf, sizeof(buf));
    if (n <= 0)
        return -1;
    for (int off = 0; off < n;) {
        ssize_t w = write(plain, buf + off, (size_t)(n - off));
        if (w <= 0)
            return -1;
        off += (int)w;
    }
    return 0;
}

static void *
relay(void *arg)
{
    struct mailtls *t = arg;
    struct pollfd a[2] = { { .fd = t->listen_fd, .events = POLLIN },
                           { .fd = t->stop[0], .events = POLLIN } };
    if (poll(a, 2, t->timeout_ms) <= 0 || !(a[0].revents & POLLIN))
        return NULL;
    int plain = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (plain < 0)
        return NULL;
    for (;;) {
        if (SSL_pending(t->ssl) > 0) {
            if (pump_tls_to_plain(t, plain) < 0)
                break;
            continue;
        }
        struct pollfd p[3] = {
            { .fd = plain, .events = POLLIN },
            { .fd = t->server_fd, .events = POLLIN },
            { .fd = t->stop[0], .events = POLLIN },
        };
        int n = poll(p, 3, t->timeout_ms * 2);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (p[2].revents & POLLIN))
            break;
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && pump_plain_to_tls(t, plain) < 0)
            break;
        if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && pump_tls_to_plain(t, plain) < 0)
            break;
    }
    close(plain);
    return NULL;
}

enum vf_err
mailtls_start(const char *host, int port, int timeout_ms, struct mailtls **out, char *err,
              size_t errlen)
{
    *out = NULL;
    struct mailtls *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return VF_ERR_NOMEM;
    }
    t->server_fd = t->listen_fd = t->stop[0] = t->stop[1] = -1;
    t->timeout_ms = timeout_ms;
    if ((t->server_fd = connect_timeout(host, port, timeout_ms, err, errlen)) < 0)
        goto fail;
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    setsockopt(t->server_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(t->server_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    t->ctx = SSL_CTX_new(TLS_client_method());
    if (t->ctx == NULL || (t->ssl = SSL_new(t->ctx)) == NULL) {
        snprintf(err, errlen, "cannot create a TLS context");
        goto fail;
    }
    SSL_CTX_set_default_verify_paths(t->ctx);
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
    SSL_set_tlsext_host_name(t->ssl, host);
    SSL_set1_host(t->ssl, host);
    SSL_set_fd(t->ssl, t->server_fd);
    if (SSL_connect(t->ssl) != 1) {
        char e[256];
        ERR_error_string_n(ERR_get_error(), e, sizeof(e));
        snprintf(err, errlen, "TLS handshake with %s:%d failed: %s", host, port, e);
        goto fail;
    }

    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    t->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t->listen_fd < 0 || bind(t->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(t->listen_fd, 1) != 0 ||
        getsockname(t->listen_fd, (struct sockaddr *)&sa, &sl) != 0 ||
        pipe2(t->stop, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot set up the TLS relay: %s", strerror(errno));
        goto fail;
    }
    t->port = ntohs(sa.sin_port);
    if (pthread_create(&t->thread, NULL, relay, t) != 0) {
        snprintf(err, errlen, "cannot start the TLS relay thread");
        goto fail;
    }
    t->thread_started = 1;
    *out = t;
    return VF_OK;
fail:
    mailtls_stop(t);
    return VF_ERR_TEMPFAIL;
}

int
mailtls_port(const struct mailtls *t)
{
    return t != NULL ? t->port : 0;
}

void
mailtls_stop(struct mailtls *t)
{
    if (t == NULL)
        return;
    if (t->thread_started) {
        ssize_t w = write(t->stop[1], "x", 1);
        (void)w;
        pthread_join(t->thread, NULL);
    }
    if (t->ssl != NULL) {
        SSL_shutdown(t->ssl);
        SSL_free(t->ssl);
    }
    SSL_CTX_free(t->ctx);
    if (t->server_fd >= 0)
        close(t->server_fd);
    if (t->listen_fd >= 0)
        close(t->listen_fd);
    if (t->stop[0] >= 0)
        close(t->stop[0]);
    if (t->stop[1] >= 0)
        close(t->stop[1]);
    free(t);
}
