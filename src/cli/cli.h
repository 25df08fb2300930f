/*
 * cli.h - shared pieces of the sealpost command: input and output files,
 * secrets from files, and error reporting with the contract's exit codes.
 */
#ifndef SP_CLI_H
#define SP_CLI_H

#include "crypto.h"
#include "seal.h"
#include "secret.h"
#include "sp_error.h"

/* Exit statuses of the command-line contract (DESIGN §8). */
enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_INPUT = 2, EXIT_REFUSED = 3, EXIT_UNAVAILABLE = 4 };

/* Print "sealpost CMD: message" to stderr and return the exit status. */
int cli_fail(const char *cmd, const GError *err);

/* Print a usage error with a hint to --help and return EXIT_USAGE. */
int cli_usage(const char *cmd, const char *msg);

/* Parse a command's options (GOption, with --help); on a bad option print
 * the usage error and return false. argc/argv keep the remaining arguments. */
bool cli_parse_options(const char *cmd, const char *params, const char *summary,
                       GOptionEntry *entries, int *argc, char ***argv);

/* Open path ("-" = standard input) as a seekable stream: standard input is
 * spooled to an unlinked temporary file. *size is the file size or -1. */
GMimeStream *cli_open_input(const char *path, bool need_seek, gint64 *size, GError **err);

/* An output that appears only when complete: for a path, a temporary file
 * beside it renamed into place by cli_output_commit(); for NULL or "-",
 * standard output. */
typedef struct cli_output cli_output;
cli_output *cli_output_new(const char *path, GError **err);
GMimeStream *cli_output_stream(cli_output *o);
bool cli_output_commit(cli_output *o, GError **err);
void cli_output_free(cli_output *o); /* removes the temporary file if not committed */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cli_output, cli_output_free)

int cmd_seal(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_scan(int argc, char **argv);

#endif
