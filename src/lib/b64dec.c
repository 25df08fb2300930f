/*
 * b64dec.c - strict streaming base64 decoding; see b64dec.h.
 *
 * Each input piece is validated and compacted (white space dropped) into a
 * buffer in one pass; complete groups are decoded by EVP_DecodeBlock and the
 * last 0-3 characters carried to the next piece.
 */
#include "b64dec.h"

#include "sp_error.h"

#include <openssl/evp.h>
#include <string.h>

#define PIECE (64 * 1024)

enum { BAD = 0, ALPHA, PAD, SPACE };

/* Class of each byte: the alphabet, '=', the white space allowed, or bad. */
static const uint8_t cls[256] = {
    ['A'] = ALPHA,  ['B'] = ALPHA,  ['C'] = ALPHA,  ['D'] = ALPHA, ['E'] = ALPHA, ['F'] = ALPHA,
    ['G'] = ALPHA,  ['H'] = ALPHA,  ['I'] = ALPHA,  ['J'] = ALPHA, ['K'] = ALPHA, ['L'] = ALPHA,
    ['M'] = ALPHA,  ['N'] = ALPHA,  ['O'] = ALPHA,  ['P'] = ALPHA, ['Q'] = ALPHA, ['R'] = ALPHA,
    ['S'] = ALPHA,  ['T'] = ALPHA,  ['U'] = ALPHA,  ['V'] = ALPHA, ['W'] = ALPHA, ['X'] = ALPHA,
    ['Y'] = ALPHA,  ['Z'] = ALPHA,  ['a'] = ALPHA,  ['b'] = ALPHA, ['c'] = ALPHA, ['d'] = ALPHA,
    ['e'] = ALPHA,  ['f'] = ALPHA,  ['g'] = ALPHA,  ['h'] = ALPHA, ['i'] = ALPHA, ['j'] = ALPHA,
    ['k'] = ALPHA,  ['l'] = ALPHA,  ['m'] = ALPHA,  ['n'] = ALPHA, ['o'] = ALPHA, ['p'] = ALPHA,
    ['q'] = ALPHA,  ['r'] = ALPHA,  ['s'] = ALPHA,  ['t'] = ALPHA, ['u'] = ALPHA, ['v'] = ALPHA,
    ['w'] = ALPHA,  ['x'] = ALPHA,  ['y'] = ALPHA,  ['z'] = ALPHA, ['0'] = ALPHA, ['1'] = ALPHA,
    ['2'] = ALPHA,  ['3'] = ALPHA,  ['4'] = ALPHA,  ['5'] = ALPHA, ['6'] = ALPHA, ['7'] = ALPHA,
    ['8'] = ALPHA,  ['9'] = ALPHA,  ['+'] = ALPHA,  ['/'] = ALPHA, ['='] = PAD,   [' '] = SPACE,
    ['\t'] = SPACE, ['\n'] = SPACE, ['\r'] = SPACE,
};

struct sp_b64dec {
    uint8_t text[PIECE + 4]; /* validated characters: carry + current piece */
    size_t have;
    uint8_t out[(PIECE + 4) / 4 * 3];
    unsigned pad;  /* '=' seen so far (0, 1 or 2) */
    bool pad_sent; /* the padded group was decoded: nothing may follow */
    sp_sink_fn sink;
    void *sink_ctx;
};

static bool bad(GError **err, const char *why)
{
    g_set_error(err, SP_ERROR, SP_ERR_TAMPERED,
                "the payload is not valid base64 (%s): the envelope was modified or damaged", why);
    return false;
}

sp_b64dec *sp_b64dec_new(sp_sink_fn sink, void *sink_ctx)
{
    sp_b64dec *d = g_new0(sp_b64dec, 1);
    d->sink = sink;
    d->sink_ctx = sink_ctx;
    return d;
}

/* Validate and compact in[0..len) (len <= PIECE) onto d->text. */
static bool take(sp_b64dec *d, const uint8_t *in, size_t len, GError **err)
{
    uint8_t *t = d->text;
    size_t have = d->have;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        switch (cls[c]) {
        case ALPHA:
            if (d->pad)
                return bad(err, "data after its end");
            t[have++] = c;
            break;
        case PAD:
            /* '=' stands only third or fourth in a group, and only at the end. */
            if (have % 4 < 2 || d->pad_sent || (d->pad && have % 4 != 3))
                return bad(err, "misplaced '='");
            d->pad++;
            t[have++] = c;
            break;
        case SPACE:
            break;
        default:
            return bad(err, "a character outside the alphabet");
        }
    }
    d->have = have;
    return true;
}

static bool decode_groups(sp_b64dec *d, GError **err)
{
    size_t n4 = d->have / 4 * 4;
    if (n4 == 0)
        return true;
    if (d->pad_sent)
        return bad(err, "data after its end");
    int n = EVP_DecodeBlock(d->out, d->text, (int)n4);
    if (n < 0)
        return bad(err, "undecodable group");
    size_t outl = (size_t)n;
    if (d->pad && n4 == d->have) {
        outl -= d->pad; /* EVP_DecodeBlock counts padding as zero bytes */
        d->pad_sent = true;
    }
    memmove(d->text, d->text + n4, d->have - n4);
    d->have -= n4;
    return outl == 0 || d->sink(d->sink_ctx, d->out, outl, err);
}

bool sp_b64dec_update(sp_b64dec *d, const uint8_t *in, size_t len, GError **err)
{
    while (len > 0) {
        size_t n = MIN(len, (size_t)PIECE);
        if (!take(d, in, n, err) || !decode_groups(d, err))
            return false;
        in += n;
        len -= n;
    }
    return true;
}

bool sp_b64dec_finish(sp_b64dec *d, GError **err)
{
    if (d->have != 0)
        return bad(err, "it ends inside a group of four characters");
    return true;
}

void sp_b64dec_free(sp_b64dec *d)
{
    g_free(d);
}
