/* main.c — the castor binary: `castor serve` runs the server; every other subcommand is the
 * az-shaped client (src/cli/, whose tables also generate `castor --help`). */
#include "cli/cli.h"
#include "serve/serve.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0) return serve_main(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("castor %s\n", CASTOR_VERSION);
        return 0;
    }
    return cli_main(argc, argv);
}
