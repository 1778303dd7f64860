/* main.c — the castor binary: `castor serve` runs the server; the other subcommands are the
 * az-shaped client and arrive with the planes they drive. */
#include "serve/serve.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: castor <command> [options]\n"
    "\n"
    "An Azure-Digital-Twins-compatible server and its client.\n"
    "\n"
    "commands:\n"
    "  serve      run the server (castor serve --help)\n"
    "  version    print the version\n"
    "  help       this text\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "serve") == 0) return serve_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("castor %s\n", CASTOR_VERSION);
        return 0;
    }
    fprintf(stderr, "castor: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
