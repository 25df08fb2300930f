/*
 * opener.h - the visible HTML around an envelope's blocks: the document head
 * with its Content-Security-Policy, and the outside of the envelope.
 *
 * The CSP allows only the inline style (by hash), data:/blob: images and no
 * network at all. The browser opener (web/) plugs in here.
 */
#ifndef SP_OPENER_H
#define SP_OPENER_H

/* Everything from <!DOCTYPE html> to just before the header block.
 * Caller frees. */
char *sp_opener_head(void);

/* Everything after the payload block, to </html>. Caller frees. */
char *sp_opener_foot(void);

#endif
