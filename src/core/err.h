/* err.h — the error record every fallible castor function fills.
 *
 * A function that can fail returns a negative castor_rc (or NULL) and fills a caller-supplied
 * castor_err at the point of failure. The message is written for the person who will finally
 * read it in an HTTP body or on a terminal: what was wrong, where, and what is allowed. The
 * HTTP layer renders the record in the shape of the plane that answers (ADT, ARM, OAuth). */
#ifndef CASTOR_CORE_ERR_H
#define CASTOR_CORE_ERR_H

#include <stddef.h>

/* Return codes. 0 is success; every failure is negative so `if (rc < 0)` reads naturally. */
typedef enum castor_rc {
    CASTOR_OK = 0,
    CASTOR_EINVAL = -1,    /* the input is malformed or breaks a rule */
    CASTOR_ENOTFOUND = -2, /* the thing named does not exist */
    CASTOR_ECONFLICT = -3, /* it exists already, or a concurrent change won */
    CASTOR_EPRECOND = -4,  /* an If-Match / If-None-Match precondition failed */
    CASTOR_ELIMIT = -5,    /* a size or count limit was exceeded */
    CASTOR_EPERM = -6,     /* the caller is not allowed to do this */
    CASTOR_EAUTH = -7,     /* the caller is not (validly) authenticated */
    CASTOR_EIO = -8,       /* the disk, network or database failed */
    CASTOR_ENOMEM = -9,    /* out of memory */
    CASTOR_EINTERNAL = -10 /* a bug: an invariant did not hold */
} castor_rc;

#define CASTOR_ERR_CODE_MAX 64
#define CASTOR_ERR_MESSAGE_MAX 4096 /* a 403 explanation names every assignment considered */
#define CASTOR_ERR_PATH_MAX 256

typedef struct castor_err {
    int rc;                         /* the castor_rc returned with this error */
    int status;                     /* HTTP status to answer with; 0 = derive from rc */
    char code[CASTOR_ERR_CODE_MAX]; /* wire code, e.g. "InvalidArgument"; "" = derive */
    char message[CASTOR_ERR_MESSAGE_MAX];
    char path[CASTOR_ERR_PATH_MAX]; /* JSON path or position the error points at; may be "" */
} castor_err;

/* Resets err to "no error". Safe on NULL. */
void castor_err_clear(castor_err *err);

/* Fills err (when not NULL) and returns rc, so a failure is one line:
 *     return castor_err_set(err, CASTOR_EINVAL, "body is not JSON: %s", why);
 * The status and wire code are derived from rc unless set later with castor_err_http(). */
int castor_err_set(castor_err *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like castor_err_set, and also names the wire code and HTTP status the plane should answer. */
int castor_err_http(castor_err *err, int rc, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Records where in the input the error is (a JSON path such as "$.contents[2].name"). */
void castor_err_at(castor_err *err, const char *path);

/* Prefixes the existing message with context: "loading ca.pem: <old message>". */
void castor_err_prefix(castor_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For text that is cut on purpose to fit a bounded buffer (a message, a path in a message):
 * given n, what snprintf/vsnprintf returned for buf (size bytes), ends a cut text with "..."
 * on a UTF-8 character boundary so the cut shows and the text stays valid. Returns 1 when it
 * was cut. Never use it where a cut value would mean something else: refuse those instead. */
int castor_text_cut(char *buf, size_t size, int n);

/* The HTTP status for a return code when the failing code did not choose one. */
int castor_rc_status(int rc);

/* A short stable name for a return code ("EINVAL"); never NULL. */
const char *castor_rc_name(int rc);

#endif
