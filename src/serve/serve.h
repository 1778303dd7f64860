/* serve.h — `castor serve`: start every plane on one HTTPS port and run until a signal. */
#ifndef CASTOR_SERVE_SERVE_H
#define CASTOR_SERVE_SERVE_H

/* argv[0] is "serve". Returns the process exit code. */
int serve_main(int argc, char **argv);

#endif
