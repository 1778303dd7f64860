/* test_store_crash.c — an acknowledged write survives kill -9.
 *
 * A child process commits numbered writes as fast as it can and acknowledges each on a pipe
 * only after store_commit returned; the parent kills it with SIGKILL mid-stream, reopens the
 * store, and checks that every acknowledged write is there, and that at most the one write
 * in flight at the kill (committed, not yet acknowledged) is there beyond them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "test_util.h"

static void child_writes(const char *url, int ack_fd)
{
    castor_err err;
    store_t *s;
    if (store_open(url, 2, &s, &err) < 0) _exit(3);
    for (uint32_t i = 0;; i++) {
        store_txn_t *t;
        char key[32];
        snprintf(key, sizeof key, "k%u", i);
        if (store_begin(s, STORE_WRITE, &t, &err) < 0) _exit(4);
        if (store_meta_put(t, key, "v", &err) < 0) _exit(5);
        if (store_commit(t, &err) < 0) _exit(6);
        if (write(ack_fd, &i, sizeof i) != sizeof i) _exit(7);
    }
}

static int present(store_t *s, uint32_t i)
{
    castor_err err;
    store_txn_t *t;
    char key[32], *v = NULL;
    snprintf(key, sizeof key, "k%u", i);
    if (store_begin(s, STORE_READ, &t, &err) < 0) return -1;
    int rc = store_meta_get(t, key, &v, &err);
    store_rollback(t);
    free(v);
    return rc == 0;
}

static void acknowledged_writes_survive_sigkill(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        char *dir = test_tmpdir();
        char url[512];
        snprintf(url, sizeof url, "sqlite:%s/castor.db", dir);
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_writes(url, fds[1]);
        }
        close(fds[1]);
        /* Let it write a varying number of rows, then kill it without warning. */
        uint32_t last = 0, n = 0, want = 200 + 150 * (uint32_t)round;
        while (n < want && read(fds[0], &last, sizeof last) == sizeof last)
            n++;
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        /* Drain acks that were written before the kill. */
        uint32_t more;
        while (read(fds[0], &more, sizeof more) == sizeof more)
            last = more, n++;
        close(fds[0]);
        assert_true(WIFSIGNALED(status));
        assert_true(n > 0);

        castor_err err;
        store_t *s;
        assert_int_equal(store_open(url, 2, &s, &err), 0);
        for (uint32_t i = 0; i <= last; i++)
            if (present(s, i) != 1) fail_msg("acknowledged write k%u was lost", i);
        assert_true(present(s, last + 2) == 0);
        store_close(s);
        test_rmdir(dir);
        free(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acknowledged_writes_survive_sigkill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
