/*
 * text.h - bench-scan's inputs (text.c): the test text and its chunks, and
 * the 20 KB message, all built deterministically from the DLP corpus.
 */
#ifndef SCANBENCH_TEXT_H
#define SCANBENCH_TEXT_H

#include "scanbench.h"

#include <gmime/gmime.h>

typedef struct {
    char *text;
    size_t len;
    bool utf8; /* the whole text is valid UTF-8 */
    guint corpus_messages;
    size_t corpus_bytes; /* extracted text of one pass over the corpus */
    sb_chunks chunks;
} sb_text;

/* About bytes of test text from the .eml files in dir, cut into chunks of
 * at most chunk bytes (each ends after a space or line break when one is
 * near). */
bool sb_text_build(const char *dir, size_t bytes, size_t chunk, sb_text *out, GError **err);
void sb_text_clear(sb_text *t);

/* The first clinical message of dir that is plain text, padded with the
 * business messages' text to about size bytes; *name: its file name. */
bool sb_message_build(const char *dir, size_t size, GString **out, char **name, GError **err);
GMimeMessage *sb_message_parse(const GString *m);

#endif
