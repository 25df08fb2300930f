// shims/pass-through-decoder.js - replaces postal-mime's decoder for parts
// without a transfer encoding (7bit, 8bit, binary); build.mjs redirects
// postal-mime's import here.
//
// postal-mime's own decoder re-joins the part's lines with "\n", so a text
// or message/rfc822 attachment sent with CRLF line ends (as every RFC 5322
// message is) would download with different bytes than were sent. postal-mime
// hands each line over as a view into the one buffer of the whole message,
// without its line end; the lines of a part are contiguous there, so the part
// is exactly the bytes from the first line's start to the last line's end.
// The line end after the last line belongs to the boundary that follows
// (RFC 2046 §5.1.1) and is rightly left out.

export default class PassThroughDecoder {
  constructor() {
    this.buffer = null;
    this.start = 0;
    this.end = 0;
  }

  update(line) {
    if (this.buffer === null) {
      this.buffer = line.buffer;
      this.start = line.byteOffset;
    } else if (line.buffer !== this.buffer) {
      throw new Error('PassThroughDecoder: lines from different buffers');
    }
    this.end = line.byteOffset + line.byteLength;
  }

  finalize() {
    return this.buffer === null ? new ArrayBuffer(0) : this.buffer.slice(this.start, this.end);
  }
}
