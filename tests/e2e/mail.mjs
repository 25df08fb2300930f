// mail.mjs - the test messages of the browser suite, as RFC 5322 bytes.

import { deflateSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';

const CRLF = '\r\n';

/** Base64 in 76-character lines. */
export const b64lines = (bytes) => Buffer.from(bytes).toString('base64').replace(/.{76}/g, `$&${CRLF}`);

/** RFC 2047 B-encoded word for a UTF-8 header text. */
export const word = (text) => `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;

/** A PNG of w x h pixels of one colour (RGB), built without dependencies. */
export function png(w, h, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const head = (subject, extra = []) =>
  [
    'From: Alice Example <alice@example.org>',
    'To: Bob Recipient <bob@example.com>',
    'Cc: Carol <carol@example.net>',
    `Subject: ${subject}`,
    'Date: Mon, 16 Nov 2026 10:00:00 +0000',
    'Message-ID: <e2e-1@example.org>',
    'MIME-Version: 1.0',
    ...extra,
  ].join(CRLF);

export function plainText() {
  return Buffer.from(
    head('Your test results', ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit']) +
      CRLF + CRLF +
      [
        'Hello Bob,',
        '',
        'your results are ready. Details: https://portal.example.org/results?id=42.',
        'Questions? Write to mailto:care@example.org or call us.',
        'Not a link: javascript:alert(1) nor ftp://example.org/x',
        '',
        'Kind regards,',
        'Alice',
      ].join(CRLF) + CRLF,
  );
}

export const NON_ASCII_SUBJECT = 'Grüße aus Zürich – 東京 ✓';
export const NON_ASCII_BODY = 'Ça va? Привет, мир! 😀 Ünïcödé ∑ ≠ ∞';

export function nonAscii() {
  return Buffer.from(
    head(word(NON_ASCII_SUBJECT), ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64']) +
      CRLF + CRLF + b64lines(Buffer.from(`${NON_ASCII_BODY}\r\nhttps://example.org/ä?x=1\r\n`, 'utf8')) + CRLF,
  );
}

export const LOGO = png(120, 40, [31, 78, 121]);
export const PHOTO = png(64, 64, [200, 60, 40]);

export function htmlWithCid() {
  const html = `<!DOCTYPE html><html><head><style>
  .wrap { font-family: Georgia, serif; max-width: 560px; }
  h2 { color: #1f4e79; border-bottom: 2px solid #1f4e79; }
  .box { background: #f3f7fb; padding: 12px; border-radius: 6px; }
  .badge { background: url(cid:photo@e2e) no-repeat; width: 64px; height: 64px; display: inline-block; }
</style></head><body>
<div class="wrap">
<p><img src="cid:logo@e2e" alt="Example Clinic logo" width="120" height="40"></p>
<h2>Appointment confirmed</h2>
<p class="box" style="color: #333; font-size: 15px">Dear Bob, your appointment is on <b>2 December</b> at 09:30.</p>
<p>See <a href="https://clinic.example.org/appointments">your appointments</a>.</p>
<span class="badge" id="badge"></span>
<table style="width:100%"><tr><td style="background:#fee">Room</td><td>3.14</td></tr></table>
</div></body></html>`;
  const b = 'rel-boundary-1';
  const a = 'alt-boundary-1';
  return Buffer.from(
    head('Appointment confirmed', [`Content-Type: multipart/alternative; boundary="${a}"`]) + CRLF + CRLF +
      `--${a}${CRLF}Content-Type: text/plain; charset=utf-8${CRLF}${CRLF}Dear Bob, your appointment is on 2 December.${CRLF}` +
      `--${a}${CRLF}Content-Type: multipart/related; boundary="${b}"${CRLF}${CRLF}` +
      `--${b}${CRLF}Content-Type: text/html; charset=utf-8${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${b64lines(Buffer.from(html))}${CRLF}` +
      `--${b}${CRLF}Content-Type: image/png${CRLF}Content-ID: <logo@e2e>${CRLF}Content-Disposition: inline; filename="logo.png"${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${b64lines(LOGO)}${CRLF}` +
      `--${b}${CRLF}Content-Type: image/png${CRLF}Content-ID: <photo@e2e>${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${b64lines(PHOTO)}${CRLF}` +
      `--${b}--${CRLF}--${a}--${CRLF}`,
  );
}

/** A message with attachments: binary, a non-ASCII file name, a
 * quoted-printable text, a calendar invitation and an attached message
 * (itself with an attachment). */
export function withAttachments() {
  const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(150 * 1024)]);
  const notes = Buffer.from('Résumé: 3 items\r\nΩ = 42\r\n', 'utf8');
  // Quoted-printable: hard breaks stand for CRLF, '=' at a line end is a soft
  // break, and the last line's end belongs to the boundary.
  const minutesQp = [
    'Minutes: caf=C3=A9 at 9 =3D early',
    'A long line that the sender wrapped with a soft line break right here=',
    ' and that goes on.',
    '',
    'Last line',
  ].join(CRLF);
  const minutes = Buffer.from(
    'Minutes: café at 9 = early\r\nA long line that the sender wrapped with a soft line break right here and that goes on.\r\n\r\nLast line',
    'utf8',
  );
  const ics = [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//sealpost//e2e//EN', 'METHOD:REQUEST', 'BEGIN:VEVENT',
    'UID:e2e-1@example.org', 'DTSTAMP:20261116T100000Z', 'DTSTART:20261202T083000Z', 'DTEND:20261202T090000Z',
    'SUMMARY:Check-up', 'END:VEVENT', 'END:VCALENDAR', '',
  ].join(CRLF);
  const innerAtt = Buffer.from('inner attachment bytes\n');
  const ib = 'inner-boundary';
  const inner = Buffer.from(
    [
      'From: Dr. Dave <dave@example.org>',
      'To: Alice Example <alice@example.org>',
      'Subject: Lab report (forwarded)',
      'Date: Sun, 15 Nov 2026 08:00:00 +0000',
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${ib}"`,
      '',
      `--${ib}`,
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>The <b>inner</b> message body.</p><script>top.__pwned="inner"</script>',
      `--${ib}`,
      'Content-Type: text/plain; name="inner.txt"',
      'Content-Disposition: attachment; filename="inner.txt"',
      '',
      innerAtt.toString().trimEnd(),
      `--${ib}--`,
      '',
    ].join(CRLF),
  );
  const m = 'mixed-boundary-1';
  const part = (headers, body) => `--${m}${CRLF}${headers.join(CRLF)}${CRLF}${CRLF}${body}${CRLF}`;
  const msg = Buffer.concat([
    Buffer.from(head('Documents for you', [`Content-Type: multipart/mixed; boundary="${m}"`]) + CRLF + CRLF),
    Buffer.from(part(['Content-Type: text/plain; charset=utf-8'], 'Please find the documents attached.')),
    Buffer.from(part(['Content-Type: application/pdf; name="report.pdf"', 'Content-Disposition: attachment; filename="report.pdf"', 'Content-Transfer-Encoding: base64'], b64lines(pdf))),
    Buffer.from(part(["Content-Type: text/plain; charset=utf-8", "Content-Disposition: attachment; filename*=UTF-8''R%C3%A9sum%C3%A9%20%CE%A9.txt", 'Content-Transfer-Encoding: base64'], b64lines(notes))),
    Buffer.from(part(['Content-Type: text/plain; charset=utf-8; name="minutes.txt"', 'Content-Disposition: attachment; filename="minutes.txt"', 'Content-Transfer-Encoding: quoted-printable'], minutesQp)),
    Buffer.from(part(['Content-Type: text/calendar; charset=utf-8; method=REQUEST', 'Content-Disposition: attachment; filename="invite.ics"'], ics)),
    Buffer.from(part(['Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="forwarded.eml"'], inner.toString('utf8'))),
    Buffer.from(`--${m}--${CRLF}`),
  ]);
  return { msg, pdf, notes, minutes, ics, inner };
}

/** About `size` bytes: a short text and one binary attachment. */
export function large(size) {
  const rawLen = Math.floor(((size - 1024) * 3) / 4 / 78 * 76);
  const data = randomBytes(rawLen);
  const m = 'big-boundary';
  const msg = Buffer.concat([
    Buffer.from(head('Scans (large)', [`Content-Type: multipart/mixed; boundary="${m}"`]) + CRLF + CRLF),
    Buffer.from(`--${m}${CRLF}Content-Type: text/plain; charset=utf-8${CRLF}${CRLF}The scans are attached.${CRLF}`),
    Buffer.from(`--${m}${CRLF}Content-Type: application/octet-stream; name="scans.bin"${CRLF}Content-Disposition: attachment; filename="scans.bin"${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}`),
    Buffer.from(b64lines(data)),
    Buffer.from(`${CRLF}--${m}--${CRLF}`),
  ]);
  return { msg, data };
}
