/* hello_fcgi.c -- the baseline of bench/hls: the smallest useful FastCGI responder. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

/*
 * hello_fcgi SOCKET NPROC: listen on the unix socket and answer every request with a
 * small JSON body from NPROC forked processes (the same prefork shape as
 * videoflix-fcgi), until killed.
 */
int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: hello_fcgi SOCKET NPROC\n");
        return 2;
    }
    if (FCGX_Init() != 0)
        return 1;
    int sock = FCGX_OpenSocket(argv[1], 128);
    if (sock < 0) {
        perror("FCGX_OpenSocket");
        return 1;
    }
    char *end;
    long n = strtol(argv[2], &end, 10);
    if (*end != '\0' || n < 1 || n > 256) {
        fprintf(stderr, "hello_fcgi: NPROC must be 1..256\n");
        return 2;
    }
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid > 0)
            continue;
        FCGX_Request req;
        FCGX_InitRequest(&req, sock, 0);
        static const char reply[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
                                    "Content-Length: 17\r\n\r\n{\"hello\":\"world\"}";
        while (FCGX_Accept_r(&req) == 0) {
            FCGX_PutStr(reply, sizeof(reply) - 1, req.out);
            FCGX_Finish_r(&req);
        }
        _exit(0);
    }
    signal(SIGTERM, SIG_DFL);
    while (wait(NULL) > 0)
        ;
    return 0;
}
