// mime.mjs - build RFC 5322 / MIME messages as bytes: text and HTML parts
// in several charsets (UTF-8, ISO-8859-1, UTF-16) and transfer encodings
// (7bit, 8bit, quoted-printable, base64), attachments, and multipart
// alternative/mixed nesting. Output is deterministic (boundaries count up).

let boundaryCounter = 0;
export function resetBoundaries() {
  boundaryCounter = 0;
}

function encodeCharset(text, charset) {
  switch (charset.toLowerCase()) {
    case 'utf-8':
    case 'us-ascii':
      return Buffer.from(text, 'utf8');
    case 'iso-8859-1': {
      for (const ch of text) if (ch.codePointAt(0) > 255) throw new Error(`not latin1: ${ch}`);
      return Buffer.from(text, 'latin1');
    }
    case 'utf-16': // with a byte-order mark, little-endian
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf-16le':
      return Buffer.from(text, 'utf16le');
    default:
      throw new Error(`charset ${charset}`);
  }
}

// Quoted-printable (RFC 2045 6.7): soft breaks at 76 columns, so long
// lines (and identifiers on them) are split by "=\n".
export function qpEncode(buf) {
  const out = [];
  let line = '';
  const flush = (soft) => {
    out.push(line + (soft ? '=' : ''));
    line = '';
  };
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x0a) {
      if (line.endsWith(' ') || line.endsWith('\t')) {
        const last = line.charCodeAt(line.length - 1);
        line = line.slice(0, -1) + '=' + last.toString(16).toUpperCase().padStart(2, '0');
      }
      flush(false);
      continue;
    }
    let tok;
    if ((b >= 33 && b <= 126 && b !== 61) || b === 32 || b === 9) tok = String.fromCharCode(b);
    else tok = '=' + b.toString(16).toUpperCase().padStart(2, '0');
    if (line.length + tok.length > 75) flush(true);
    line += tok;
  }
  if (line.length) out.push(line);
  return out.join('\n');
}

export function b64Encode(buf) {
  return (buf.toString('base64').match(/.{1,76}/g) || ['']).join('\n');
}

// RFC 2047 encoded word for a header value when it is not plain ASCII.
export function encodeHeaderValue(v) {
  if (/^[\x20-\x7e]*$/.test(v)) return v;
  return `=?UTF-8?B?${Buffer.from(v, 'utf8').toString('base64')}?=`;
}

export function encodeAddress(name, addr) {
  if (!name) return addr;
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name}" <${addr}>`;
  return `${encodeHeaderValue(name)} <${addr}>`;
}

// A leaf part: {type, text | bytes, charset, cte, filename, disposition}.
function renderLeaf(p) {
  const hdr = [];
  let payload;
  if (p.bytes !== undefined) {
    payload = p.bytes;
    hdr.push(`Content-Type: ${p.type}${p.filename ? `; name="${p.filename}"` : ''}`);
  } else {
    const charset = p.charset || 'utf-8';
    payload = encodeCharset(p.text, charset);
    hdr.push(`Content-Type: ${p.type}; charset="${charset}"${p.filename ? `; name="${p.filename}"` : ''}`);
  }
  let cte = p.cte || '7bit';
  if (cte === '7bit' && payload.some((b) => b > 127 || b === 0)) cte = 'quoted-printable';
  hdr.push(`Content-Transfer-Encoding: ${cte}`);
  if (p.filename) hdr.push(`Content-Disposition: ${p.disposition || 'attachment'}; filename="${p.filename}"`);
  let body;
  if (cte === 'base64') body = Buffer.from(b64Encode(payload) + '\n');
  else if (cte === 'quoted-printable') body = Buffer.from(qpEncode(payload) + '\n');
  else body = Buffer.concat([payload, Buffer.from(payload.length && payload[payload.length - 1] === 10 ? '' : '\n')]);
  return { hdr, body };
}

function renderPart(p) {
  if (!p.multipart) return renderLeaf(p);
  const boundary = `=_sealpost_corpus_${String(++boundaryCounter).padStart(4, '0')}`;
  const hdr = [`Content-Type: multipart/${p.multipart}; boundary="${boundary}"`];
  const chunks = [Buffer.from('This is a multi-part message in MIME format.\n')];
  for (const child of p.parts) {
    const r = renderPart(child);
    chunks.push(Buffer.from(`\n--${boundary}\n${r.hdr.join('\n')}\n\n`), r.body);
  }
  chunks.push(Buffer.from(`\n--${boundary}--\n`));
  return { hdr, body: Buffer.concat(chunks) };
}

// m: {from:[name,addr], to:[[name,addr]...], cc?, subject, date, messageId,
//     headers?: [[k,v]...], inReplyTo?, body: part}
export function renderMessage(m) {
  const h = [];
  h.push(`From: ${encodeAddress(...m.from)}`);
  h.push(`To: ${m.to.map((a) => encodeAddress(...a)).join(', ')}`);
  if (m.cc && m.cc.length) h.push(`Cc: ${m.cc.map((a) => encodeAddress(...a)).join(', ')}`);
  h.push(`Subject: ${encodeHeaderValue(m.subject)}`);
  h.push(`Date: ${m.date}`);
  h.push(`Message-ID: <${m.messageId}>`);
  if (m.inReplyTo) h.push(`In-Reply-To: <${m.inReplyTo}>`, `References: <${m.inReplyTo}>`);
  for (const [k, v] of m.headers || []) h.push(`${k}: ${v}`);
  h.push('MIME-Version: 1.0');
  const r = renderPart(m.body);
  return Buffer.concat([Buffer.from(h.concat(r.hdr).join('\n') + '\n\n'), r.body]);
}
