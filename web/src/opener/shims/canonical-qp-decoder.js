// shims/canonical-qp-decoder.js - replaces postal-mime's quoted-printable
// decoder for attachments; build.mjs redirects postal-mime's import here.
//
// postal-mime's decoder ends every hard line with "\n", including the last
// one, so a quoted-printable text attachment downloads with other bytes than
// were sent. In quoted-printable a hard line break stands for CRLF (RFC 2045
// §6.7), and the line end after the last line belongs to the boundary that
// follows (RFC 2046 §5.1.1). This subclass keeps postal-mime's decoding of
// each line and only fixes the breaks: CRLF between lines, none at the end.
import QPDecoder from '../../../node_modules/postal-mime/src/qp-decoder.js';

const CHR_EQUALS = 0x3d;

export default class CanonicalQPDecoder extends QPDecoder {
  constructor() {
    super();
    this.pendingBreak = false;
  }

  update(line) {
    if (this.pendingBreak) {
      this.writeByte(0x0d);
      this.writeByte(0x0a);
      this.pendingBreak = false;
    }
    super.update(line);
    const soft = line.length > 0 && line[line.length - 1] === CHR_EQUALS;
    if (!soft) {
      // Take back the "\n" postal-mime wrote (always the last byte written,
      // in the current buffer), and decide on the break at the next line.
      this.bufferPos--;
      this.pendingBreak = true;
    }
  }
}
