/* main.c — subcommand dispatch. */
#include <stdio.h>
int main(void) { puts("castor"); return 0; }
