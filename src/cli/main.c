/*
 * main.c - the sealpost command: dispatch to seal, open and inspect, and the
 * helpers they share (cli.h).
 */
#include "cli.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Messages can quote what came from outside (a file name, a key server's
 * answer, a header field): printed through sp_printable, always. */
int cli_fail(const char *cmd, const GError *err)
{
    g_autofree char *msg = sp_printable(err ? err->message : "failed");
    fprintf(stderr, "sealpost %s: %s\n", cmd, msg);
    return sp_error_exit_code(err);
}

int cli_usage(const char *cmd, const char *msg)
{
    g_autofree char *safe = sp_printable(msg);
    fprintf(stderr, "sealpost %s: %s\nTry 'sealpost %s --help'.\n", cmd, safe, cmd);
    return EXIT_USAGE;
}

bool cli_parse_options(const char *cmd, const char *params, const char *summary,
                       GOptionEntry *entries, int *argc, char ***argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(params);
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        cli_usage(cmd, err->message);
        return false;
    }
    return true;
}

GMimeStream *cli_open_input(const char *path, bool need_seek, gint64 *size, GError **err)
{
    *size = -1;
    if (path == NULL || strcmp(path, "-") == 0) {
        struct stat st;
        if (fstat(0, &st) == 0 && S_ISREG(st.st_mode)) {
            *size = st.st_size;
            GMimeStream *s = g_mime_stream_fs_new(dup(0));
            return s;
        }
        if (!need_seek) {
            GMimeStream *s = g_mime_stream_pipe_new(0);
            g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(s), FALSE);
            return s;
        }
        GMimeStream *tmp = sp_temp_stream(err);
        if (tmp == NULL)
            return NULL;
        g_autoptr(GMimeStream) in = g_mime_stream_pipe_new(0);
        g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(in), FALSE);
        if (g_mime_stream_write_to_stream(in, tmp) < 0) {
            g_object_unref(tmp);
            g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot read standard input");
            return NULL;
        }
        g_mime_stream_reset(tmp);
        return tmp;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "cannot open %s: %s", path, g_strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "%s is a directory, not a file", path);
        return NULL;
    }
    if (S_ISREG(st.st_mode))
        *size = st.st_size;
    return g_mime_stream_fs_new(fd);
}

struct cli_output {
    GMimeStream *stream;
    char *path;
    char *tmp_path;
};

cli_output *cli_output_new(const char *path, GError **err)
{
    cli_output *o = g_new0(cli_output, 1);
    if (path == NULL || strcmp(path, "-") == 0) {
        o->stream = g_mime_stream_pipe_new(1);
        g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(o->stream), FALSE);
        return o;
    }
    /* A device or a pipe (/dev/null, a FIFO) is written as it is: the
     * temporary file and rename below would replace it with a file. */
    struct stat st;
    if (g_stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        int fd = g_open(path, O_WRONLY | O_CLOEXEC, 0);
        if (fd < 0) {
            g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot write to %s: %s", path,
                        g_strerror(errno));
            g_free(o);
            return NULL;
        }
        o->stream = g_mime_stream_pipe_new(fd);
        return o;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    o->tmp_path = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    int fd = g_mkstemp_full(o->tmp_path, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot write to %s: %s", dir, g_strerror(errno));
        g_free(o->tmp_path);
        g_free(o);
        return NULL;
    }
    o->path = g_strdup(path);
    o->stream = g_mime_stream_fs_new(fd);
    return o;
}

GMimeStream *cli_output_stream(cli_output *o)
{
    return o->stream;
}

bool cli_output_commit(cli_output *o, GError **err)
{
    if (o->tmp_path == NULL)
        return true; /* standard output: written as it went */
    if (fsync(GMIME_STREAM_FS(o->stream)->fd) != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot write %s: %s", o->path, g_strerror(errno));
        return false;
    }
    if (g_rename(o->tmp_path, o->path) != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot create %s: %s", o->path, g_strerror(errno));
        return false;
    }
    g_clear_pointer(&o->tmp_path, g_free);
    return true;
}

void cli_output_free(cli_output *o)
{
    if (o == NULL)
        return;
    g_object_unref(o->stream);
    if (o->tmp_path != NULL)
        g_unlink(o->tmp_path);
    g_free(o->tmp_path);
    g_free(o->path);
    g_free(o);
}

static int usage(FILE *f)
{
    fputs("Usage: sealpost COMMAND [OPTIONS]\n"
          "\n"
          "Commands:\n"
          "  seal      encrypt a message into an envelope (or a carrier email with --mail),\n"
          "            under a password or a key held by a sealpost key server\n"
          "  open      decrypt an envelope or carrier email back to the original message,\n"
          "            with its password or key, or by signing in to its key server\n"
          "  inspect   show what an envelope says about itself, without opening it\n"
          "  scan      what the gateway's policy would do with a message, and why\n"
          "\n"
          "'sealpost COMMAND --help' describes a command; 'man sealpost' has the details.\n"
          "Exit status: 0 ok, 1 usage, 2 bad input, 3 wrong credentials, tampered or refused,\n"
          "4 service unavailable.\n",
          f);
    return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (!sp_crypto_init()) {
        fputs("sealpost: cannot initialise libsodium\n", stderr);
        return EXIT_INPUT;
    }
    sp_mime_init();
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        return usage(stdout);
    if (strcmp(cmd, "--version") == 0) {
        printf("sealpost %s (envelope format v%d)\n", SEALPOST_VERSION, SP_FORMAT_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "seal") == 0)
        return cmd_seal(argc - 1, argv + 1);
    if (strcmp(cmd, "open") == 0)
        return cmd_open(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "scan") == 0)
        return cmd_scan(argc - 1, argv + 1);
    fprintf(stderr, "sealpost: unknown command '%s'\n", cmd);
    return usage(stderr);
}
