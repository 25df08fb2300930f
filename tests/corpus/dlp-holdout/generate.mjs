#!/usr/bin/env node
// tests/corpus/dlp-holdout/generate.mjs - an independent holdout corpus for
// the DLP policy engine (issue 5), written without looking at the development
// corpus in tests/corpus/dlp. Deterministic (fixed seed), no npm packages.
// Writes messages/*.eml and labels.json next to this file:
//   labels.json: { "file.eml": { expect, category, why, form, hard? } }
// Usage: node tests/corpus/dlp-holdout/generate.mjs
// Then:  scripts/eval --corpus tests/corpus/dlp-holdout

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'messages');

// ---------- deterministic randomness ----------
let seed = 0x5eab05;
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const ri = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = (a) => a[Math.floor(rnd() * a.length)];
const digits = (n) => Array.from({ length: n }, () => ri(0, 9)).join('');
const pad = (v, n) => String(v).padStart(n, '0');

// ---------- valid identifiers ----------
function ssnParts() {
  let area;
  do area = ri(1, 899); while (area === 666);
  return [pad(area, 3), pad(ri(1, 99), 2), pad(ri(1, 9999), 4)];
}
function itinParts() {
  const groups = [];
  for (let g = 70; g <= 99; g++) if (g !== 89 && g !== 93) groups.push(g);
  return [String(ri(900, 999)), String(pick(groups)), pad(ri(0, 9999), 4)];
}
function luhnCheck(body) {
  // check digit to append to body
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}
function luhnOk(num) {
  return luhnCheck(num.slice(0, -1)) === num.slice(-1);
}
function card(brand) {
  let prefix, len;
  switch (brand) {
    case 'visa': prefix = '4' + digits(5); len = 16; break;
    case 'mc': prefix = String(ri(51, 55)) + digits(4); len = 16; break;
    case 'mc2': prefix = String(ri(2221, 2720)) + digits(2); len = 16; break;
    case 'amex': prefix = pick(['34', '37']) + digits(4); len = 15; break;
    default: prefix = '6011' + digits(2); len = 16; break;
  }
  const body = prefix + digits(len - prefix.length - 1);
  return body + luhnCheck(body);
}
function fmtCard(n, sep = ' ') {
  if (n.length === 15) return [n.slice(0, 4), n.slice(4, 10), n.slice(10)].join(sep);
  return n.match(/.{4}/g).join(sep);
}
function badLuhn(n) {
  const last = Number(n.slice(-1));
  return n.slice(0, -1) + String((last + ri(1, 9)) % 10);
}
function aba() {
  // first two digits 01-12 or 21-32 (Fed districts)
  for (;;) {
    const fed = pick([ri(1, 12), ri(21, 32)]);
    const d = (pad(fed, 2) + digits(6)).split('').map(Number);
    const s = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5]);
    const c = (10 - (s % 10)) % 10;
    return d.join('') + c;
  }
}
function abaOk(r) {
  const d = r.split('').map(Number);
  return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])) % 10 === 0;
}
function badAba() {
  const r = aba();
  return r.slice(0, 8) + String((Number(r[8]) + ri(1, 9)) % 10);
}
function npi() {
  const body = pick(['1', '2']) + digits(8);
  return body + luhnCheck('80840' + body);
}
function dea() {
  const d = Array.from({ length: 6 }, () => ri(0, 9));
  const c = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10;
  return pick(['A', 'B', 'F', 'M']) + pick('ABCDGHKLMPRSTW'.split('')) + d.join('') + c;
}
function mbi() {
  const A = 'ACDEFGHJKMNPQRTUVWXY'.split('');
  const AN = [...A, ...'0123456789'.split('')];
  const N = '0123456789'.split('');
  return [String(ri(1, 9)), pick(A), pick(AN), pick(N), pick(A), pick(AN), pick(N), pick(A), pick(A), pick(N), pick(N)].join('');
}
const acct = (n = ri(8, 12)) => String(ri(1, 9)) + digits(n - 1);

// sanity checks on the generators themselves
for (let k = 0; k < 200; k++) {
  if (!abaOk(aba())) throw new Error('aba generator');
  for (const b of ['visa', 'mc', 'mc2', 'amex', 'disc']) if (!luhnOk(card(b))) throw new Error('card generator');
}
if (!abaOk('021000021') || !luhnOk('80840' + '1234567893')) throw new Error('validator self-test');

// ---------- people, places ----------
const FIRST = ['Maria', 'James', 'Aisha', 'Tomasz', 'Priya', 'Daniel', 'Keiko', 'Luis', 'Fatima', 'Owen', 'Grace', 'Hiroshi', 'Nadia', 'Marcus', 'Elena', 'Samuel', 'Ingrid', 'Kwame', 'Rosa', 'Declan'];
const LAST = ['Alvarez', 'Okafor', 'Lindqvist', 'Nguyen', 'Brennan', 'Kowalski', 'Haddad', 'Patel', 'Moreau', 'Whitfield', 'Tanaka', 'Osei', 'Romero', 'Fischer', 'Delacroix', 'Mbeki', 'Sorensen', 'Castillo'];
const name = () => `${pick(FIRST)} ${pick(LAST)}`;
const DOM = ['riverbend-health.org', 'northgate-clinic.com', 'acme-logistics.com', 'brightpath.io', 'mapleleaf-ins.com', 'harborcu.org', 'summitpayroll.net', 'lakeside-pharmacy.com', 'oakridge-law.com', 'corvid-labs.com'];
const RCPT = ['gmail.com', 'outlook.com', 'yahoo.com', 'partner-billing.com', 'icloud.com', 'protonmail.com'];
const addr = (n, d) => `${n.toLowerCase().replace(/[^a-z]+/g, '.')}@${d}`;
const date = () => `${pad(ri(1, 12), 2)}/${pad(ri(1, 28), 2)}/${ri(1938, 2004)}`;
const isoDate = () => `${ri(1938, 2004)}-${pad(ri(1, 12), 2)}-${pad(ri(1, 28), 2)}`;

// ---------- MIME ----------
let msgNo = 0;
function hdrs(h) {
  const from = h.from || addr(name(), pick(DOM));
  const to = h.to || addr(name(), pick(RCPT));
  msgNo++;
  const lines = [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${h.subject}`,
    `Date: ${['Mon', 'Tue', 'Wed', 'Thu', 'Fri'][msgNo % 5]}, ${ri(1, 28)} Oct 2026 ${pad(ri(7, 18), 2)}:${pad(ri(0, 59), 2)}:00 -0500`,
    `Message-ID: <holdout-${msgNo}.${ri(1000, 9999)}@${from.split('@')[1]}>`,
    'MIME-Version: 1.0',
  ];
  if (h.extra) lines.push(...h.extra);
  return lines.join('\r\n');
}
function qp(text) {
  const out = [];
  for (const line of text.split('\n')) {
    let enc = '';
    for (const ch of Buffer.from(line, 'utf8')) {
      const c = String.fromCharCode(ch);
      enc += (ch === 61 || ch > 126 || (ch < 32 && ch !== 9)) ? '=' + ch.toString(16).toUpperCase().padStart(2, '0') : c;
    }
    if (/[ \t]$/.test(enc)) enc = enc.slice(0, -1) + '=' + enc.charCodeAt(enc.length - 1).toString(16).toUpperCase().padStart(2, '0');
    // soft line breaks every 60 chars, never inside an =XX escape
    while (enc.length > 60) {
      let cut = 60;
      if (enc[cut - 1] === '=') cut -= 1;
      else if (enc[cut - 2] === '=') cut -= 2;
      out.push(enc.slice(0, cut) + '=');
      enc = enc.slice(cut);
    }
    out.push(enc);
  }
  return out.join('\r\n');
}
const b64 = (text) => Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g).join('\r\n');
const crlf = (t) => t.replace(/\r?\n/g, '\r\n');

function part(type, body, enc, extra = []) {
  const ct = type.includes('charset') || !type.startsWith('text/') ? type : `${type}; charset=utf-8`;
  const encoded = enc === 'qp' ? qp(body) : enc === 'base64' ? b64(body) : crlf(body);
  const cte = enc === 'qp' ? 'quoted-printable' : enc === 'base64' ? 'base64' : '8bit';
  return [`Content-Type: ${ct}`, `Content-Transfer-Encoding: ${cte}`, ...extra, '', encoded].join('\r\n');
}
function single(h, type, body, enc = '8bit') {
  return hdrs(h) + '\r\n' + part(type, body, enc) + '\r\n';
}
function multi(h, sub, parts) {
  const b = `=_holdout_${msgNo + 1}_${ri(100000, 999999)}`;
  return hdrs(h) + `\r\nContent-Type: multipart/${sub}; boundary="${b}"\r\n\r\nThis is a multi-part message in MIME format.\r\n` +
    parts.map((p) => `--${b}\r\n${p}\r\n`).join('') + `--${b}--\r\n`;
}
function attach(type, filename, body, enc = 'base64') {
  return part(type, body, enc, [`Content-Disposition: attachment; filename="${filename}"`]);
}
const htmlWrap = (inner) => `<!DOCTYPE html><html><head><meta charset="utf-8"><style>td{padding:4px;border:1px solid #ccc}</style></head><body style="font-family:Arial,sans-serif">${inner}</body></html>`;
const stripTags = (h) => h.replace(/<style[^]*?<\/style>/g, "").replace(/<[^>]+>/g, ' ').replace(/&nbsp;/g, ' ').replace(/&middot;/g, '·').replace(/[ \t]+/g, ' ');
function alt(h, text, html, enc = 'qp') {
  return multi(h, 'alternative', [part('text/plain', text, enc), part('text/html', html, enc)]);
}
const altH = (h, html) => alt(h, stripTags(html), html);
function quote(text) {
  return text.split('\n').map((l) => '> ' + l).join('\n');
}
const SIG = () => `\n--\n${name()}\n${pick(['Patient Accounts', 'Member Services', 'HR Operations', 'Accounts Payable', 'Front Desk', 'Treasury'])}\nPhone (${ri(201, 989)}) 555-${pad(ri(100, 199), 4)}\n`;
const FILLER = [
  'Let me know if anything else is needed on your side.',
  'Thanks again for your patience while we sorted this out.',
  'I will be out of the office Friday, so please reply before then if possible.',
  'Please disregard the earlier message, it had the wrong attachment.',
  'Have a good weekend.',
  'Looping in the team for visibility.',
];

// ---------- corpus ----------
const labels = {};
const msgs = [];
function add(slug, expect, category, why, form, text, hard = false) {
  const file = `${pad(msgs.length + 1, 3)}-${slug}.eml`;
  msgs.push([file, text]);
  labels[file] = { expect, category, why, form, ...(hard ? { hard: true } : {}) };
}
const E = 'encrypt', D = 'deliver';

// ===== POSITIVES: HIPAA =====
{
  // clinical handoff: pt., DOB:, dx with ICD, Rx
  for (let k = 0; k < 3; k++) {
    const pt = name(), dob = date();
    const icd = pick(['E11.65', 'I10', 'J44.1', 'N18.4', 'F32.1', 'M17.11']);
    const drug = pick(['metformin 1000 mg BID', 'lisinopril 20mg daily', 'sertraline 50 mg qd', 'apixaban 5 mg bid', 'atorvastatin 40mg qhs']);
    const body = `Hi Dr. ${pick(LAST)},\n\nQuick handoff on the pt. we discussed this morning.\n\nPt: ${pt}\nDOB: ${dob}\nDx: ${icd}\nRx: ${drug}\n\nShe was seen for follow-up; A1c trending down, BP 138/86. Please review the med list before Thursday.\n\n${pick(FILLER)}\n${SIG()}`;
    add('handoff-pt-dob', E, 'hipaa', 'patient DOB next to diagnosis code and prescription', k === 1 ? 'qp' : 'plain',
      single({ subject: pick(['pt handoff', 'Re: tomorrow\'s clinic', 'follow up - ' + pt.split(' ')[1]]), from: addr(name(), 'northgate-clinic.com') }, 'text/plain', body, k === 1 ? 'qp' : '8bit'));
  }
  // MRN# with keyword only (health-only identifier)
  for (let k = 0; k < 4; k++) {
    const mrn = ['MRN#', 'mrn:', 'Med Rec #', 'Medical Record No.'][k] + ' ' + [digits(8), 'RB' + digits(7), digits(3) + '-' + digits(4), '00' + digits(6)][k];
    const body = `Please pull the chart for ${name()} (${mrn}) before the 2pm meeting.\nRecords requested the discharge summary and the last two imaging reports.\n\n${pick(FILLER)}\n${SIG()}`;
    add('mrn-keyword', E, 'hipaa', 'medical record number with its keyword (health identifier by itself)', 'plain',
      single({ subject: 'chart pull request', from: addr(name(), 'riverbend-health.org') }, 'text/plain', body));
  }
  // EOB letter, member ID + procedure, HTML table
  for (let k = 0; k < 3; k++) {
    const mid = pick(['XJH', 'MBR', 'W'] ) + digits(9);
    const cpt = pick(['99214 Office visit, est. patient', '71046 Chest X-ray 2 views', '80053 Comprehensive metabolic panel', '45378 Colonoscopy, diagnostic']);
    const html = htmlWrap(`<p>Dear ${name()},</p><p>This is not a bill. Your <b>Explanation of Benefits</b> for a recent claim is below.</p>
<table><tr><td>Member ID</td><td>${mid}</td></tr><tr><td>Claim #</td><td>${digits(11)}</td></tr>
<tr><td>Service</td><td>${cpt}</td></tr><tr><td>Provider</td><td>Riverbend Medical Group</td></tr>
<tr><td>Billed</td><td>$${ri(120, 2400)}.00</td></tr><tr><td>You owe</td><td>$${ri(0, 90)}.00</td></tr></table>
<p>Diagnosis: ${pick(['R07.9 chest pain, unspecified', 'K21.9 gastro-esophageal reflux disease', 'Z12.11 screening for colon cancer'])}</p><p>Mapleleaf Insurance Member Services</p>`);
    add('eob-html', E, 'hipaa', 'EOB: member ID with its keyword, procedure and diagnosis', 'html-qp',
      alt({ subject: 'Your Explanation of Benefits is ready', from: 'no-reply@mapleleaf-ins.com' }, stripTags(html), html));
  }
  // pharmacy notice with Medicare MBI, dashed and plain
  for (let k = 0; k < 3; k++) {
    const m = mbi();
    const shown = k === 1 ? `${m.slice(0, 4)}-${m.slice(4, 7)}-${m.slice(7)}` : m;
    const body = `Lakeside Pharmacy - prescription ready notice\n\nMedicare #: ${shown}\nRx: ${pick(['Eliquis 5mg', 'Jardiance 10 mg', 'Xarelto 20mg', 'Januvia 100 mg'])} #90\nPart D plan billed; copay $${ri(0, 47)}.00.\n\nPick up within 10 days or the prescription is returned to stock.\n`;
    add('pharmacy-mbi', E, 'hipaa', 'Medicare beneficiary identifier (health identifier by itself) with prescription', k === 1 ? 'plain-dashed-mbi' : 'plain',
      single({ subject: 'Your prescription is ready', from: 'notices@lakeside-pharmacy.com' }, 'text/plain', body));
  }
  // MBI alone in a short HR/benefits note (no other health words)
  {
    const m = mbi();
    add('mbi-alone', E, 'hipaa', 'Medicare MBI alone, labelled with "Medicare number"', 'plain',
      single({ subject: 'form for dad' }, 'text/plain', `hey - the form wants his Medicare number, it's ${m}. card is in the blue folder if you need to double check.\n`));
  }
  // lowercase everything, "my social is" + diagnosis from a patient
  for (let k = 0; k < 2; k++) {
    const [a, g, s] = ssnParts();
    const body = `hi, this is ${pick(FIRST).toLowerCase()} calling about my bill. they said the claim was denied because my info didnt match. my social is ${a} ${g} ${s} and i was in for my ${pick(['knee replacement', 'chemo infusion', 'asthma flare', 'colonoscopy'])} on the 3rd. can someone call me back\n`;
    add('patient-social-lower', E, 'hipaa', 'SSN with spaces ("my social is") near a procedure/condition', 'plain',
      single({ subject: 'bill question', to: 'billing@riverbend-health.org' }, 'text/plain', body));
  }
  // forwarded thread with MRN deep in quoted text
  for (let k = 0; k < 3; k++) {
    const inner = `Patient: ${name()}\nMRN: ${digits(7)}\nAdmit: 10/0${ri(1, 9)}/2026  Dx: ${pick(['sepsis', 'pneumonia', 'CHF exacerbation', 'acute pancreatitis'])}\nAttending wants the culture results faxed.`;
    let thread = inner;
    for (let d = 0; d < 3; d++) thread = `On Oct ${ri(1, 20)}, 2026, ${name()} wrote:\n${quote(thread)}\n`;
    const body = `FYI - see below, can you handle?\n\n${pick(FILLER)}\n\n` + '-'.repeat(10) + ' Forwarded message ' + '-'.repeat(10) + '\n' + thread;
    add('fwd-deep-mrn', E, 'hipaa', 'MRN with keyword and diagnosis inside 4-level quoted forward', 'plain-fwd',
      single({ subject: 'Fwd: Re: Re: cultures', from: addr(name(), 'riverbend-health.org') }, 'text/plain', body, k === 2 ? 'base64' : '8bit'));
  }
  // insurance claim reply, patient account + DOB + procedure
  for (let k = 0; k < 2; k++) {
    const body = `Re: claim ${digits(10)}\n\nThank you for your inquiry. We have reprocessed the claim for the patient below.\n\nPatient name: ${name()}\nDate of birth: ${pick([date(), isoDate()])}\nSubscriber ID: ${pick(['H', 'Q'])}${digits(8)}\nProcedure: MRI lumbar spine w/o contrast (72148)\nDiagnosis: M54.50 low back pain\n\nThe corrected EOB will be mailed within 7-10 business days.\n${SIG()}`;
    add('claim-reply', E, 'hipaa', 'DOB and subscriber ID with procedure and diagnosis', 'plain', single({ subject: 'RE: claim reprocessing', from: addr(name(), 'mapleleaf-ins.com') }, 'text/plain', body));
  }
  // lab results CSV attachment
  {
    const rows = ['mrn,last,first,dob,test,result,flag'];
    for (let r = 0; r < 6; r++) rows.push([digits(8), pick(LAST), pick(FIRST), isoDate(), pick(['HbA1c', 'LDL', 'TSH', 'eGFR', 'PSA']), (rnd() * 10).toFixed(1), pick(['H', 'L', 'N'])].join(','));
    add('lab-csv', E, 'hipaa', 'CSV attachment: MRN and DOB columns with lab tests', 'csv-attachment',
      multi({ subject: 'october abnormal labs', from: addr(name(), 'northgate-clinic.com') }, 'mixed', [part('text/plain', 'Attached is the list for callbacks.\n'), attach('text/csv', 'abnormal_labs_oct.csv', rows.join('\n') + '\n')]));
  }
  // referral with DEA + NPI of prescriber + patient DOB + controlled med
  {
    const body = `Prior authorization request\n\nPrescriber NPI: ${npi()}  DEA: ${dea()}\nPatient DOB: ${date()}\nMember #: ${digits(10)}\nMedication: oxycodone-acetaminophen 5/325 mg q6h prn\nDiagnosis: G89.29 other chronic pain\n\nPlease fax determination to the number on file.\n`;
    add('prior-auth', E, 'hipaa', 'patient DOB and member number with controlled-substance Rx and diagnosis', 'plain', single({ subject: 'PA request', from: addr(name(), 'northgate-clinic.com') }, 'text/plain', body));
  }
  // HTML with the MRN split by markup
  {
    const m = digits(8);
    const html = htmlWrap(`<p>Discharge summary attached for <b>${name()}</b>.</p><p>MRN: <span style="color:#333">${m.slice(0, 4)}</span><span>${m.slice(4)}</span></p><p>Discharge diagnosis: community-acquired pneumonia. Follow-up with PCP in 7 days; continue azithromycin.</p>`);
    add('html-split-mrn', E, 'hipaa', 'MRN split across <span> elements with diagnosis', 'html-only', single({ subject: 'discharge summary', from: addr(name(), 'riverbend-health.org') }, 'text/html', html, 'qp'));
  }
  // therapy note, DOB in words-ish context with Latin-1 charset
  {
    const body = `Nota clínica - sesión de terapia\nPaciente: José ${pick(LAST)}\nFecha de nacimiento / DOB: ${date()}\nDiagnóstico: F41.1 trastorno de ansiedad generalizada\nPlan: continuar sertralina 100 mg.\n`;
    const h = hdrs({ subject: 'nota clinica', from: addr(name(), 'northgate-clinic.com') });
    const latin = Buffer.from(body, 'latin1');
    add('latin1-therapy', E, 'hipaa', 'DOB with ICD code and drug, ISO-8859-1 quoted-printable', 'plain-latin1-qp',
      h + '\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
      Array.from(latin).map((c) => (c > 126 || c === 61 ? '=' + c.toString(16).toUpperCase().padStart(2, '0') : c === 10 ? '\r\n' : String.fromCharCode(c))).join('') + '\r\n');
  }
  // subject-only: MRN in the subject line
  {
    add('subject-mrn', E, 'hipaa', 'MRN with keyword and condition in the Subject only', 'subject',
      single({ subject: `MRN ${digits(8)} - biopsy results (melanoma) for review`, from: addr(name(), 'northgate-clinic.com') }, 'text/plain', 'see subject, pls call me\n'));
  }
  // patient ID in a text attachment named report
  {
    const att = `PATIENT ID: ${digits(9)}\nNAME: ${name().toUpperCase()}\nEXAM: CT ABDOMEN/PELVIS W CONTRAST\nIMPRESSION: 1. Acute appendicitis without perforation.\n`;
    add('radiology-txt', E, 'hipaa', 'patient ID with keyword in a text attachment with radiology impression', 'txt-attachment',
      multi({ subject: 'read for tonight', from: addr(name(), 'riverbend-health.org') }, 'mixed', [part('text/plain', 'Report attached.\n'), attach('text/plain', 'ct_report.txt', att)]));
  }
  // dental claim: SSN with slashes? -> use SS# unformatted + dental procedure
  {
    const [a, g, s] = ssnParts();
    add('dental-ssno', E, 'hipaa', 'SS# unformatted next to dental procedure and periodontitis', 'plain',
      single({ subject: 'dental claim rejected', to: 'claims@partner-billing.com' }, 'text/plain', `Resubmitting: subscriber SS# ${a}${g}${s}, D4341 scaling and root planing, dx periodontitis. Please advise.\n`));
  }
}

// ===== POSITIVES: IDENTITY =====
{
  for (let k = 0; k < 2; k++) {
    const [a, g, s] = ssnParts();
    add('ssn-payroll', E, 'identity', 'SSN in a payroll correction', 'plain',
      single({ subject: 'W-2 correction', from: addr(name(), 'summitpayroll.net') }, 'text/plain', `Hi,\n\nThe W-2 we issued has the wrong SSN. Employee: ${name()}\nIncorrect: ${ssnParts().join('-')}\nCorrect SSN: ${a}-${g}-${s}\n\nWe'll file a W-2c this week.\n${SIG()}`));
  }
  {
    const [a, g, s] = ssnParts();
    add('ssn-dots', E, 'identity', 'SSN written with dots after "SSN"', 'plain', single({ subject: 'application' }, 'text/plain', `Name: ${name()}\nSSN ${a}.${g}.${s}\nAddress: ${ri(10, 999)} Elm St\n`));
  }
  {
    const [a, g, s] = ssnParts();
    add('ssn-slashes', E, 'identity', 'SSN written with slashes after "social security #"', 'plain', single({ subject: 'for the lease' }, 'text/plain', `landlord needs it by friday. social security # ${a}/${g}/${s}\nthanks!!\n`));
  }
  {
    const [a, g, s] = ssnParts();
    add('ssn-upper-ssno', E, 'identity', 'uppercase "SS NO." label', 'plain', single({ subject: 'BENEFICIARY FORM' }, 'text/plain', `BENEFICIARY: ${name().toUpperCase()}\nSS NO. ${a}-${g}-${s}\nRELATIONSHIP: SPOUSE\n`));
  }
  // onboarding CSV
  for (let k = 0; k < 2; k++) {
    const rows = ['employee_id,first_name,last_name,ssn,start_date,dept'];
    for (let r = 0; r < 5; r++) rows.push([`E${digits(5)}`, pick(FIRST), pick(LAST), ssnParts().join('-'), '2026-11-02', pick(['Ops', 'Sales', 'IT'])].join(','));
    add('onboarding-csv', E, 'identity', 'HR onboarding CSV with SSN column', 'csv-attachment',
      multi({ subject: 'new hires for Nov 2', from: addr(name(), 'acme-logistics.com') }, 'mixed', [part('text/plain', 'New hire file attached for benefits enrollment.\n'), attach(k ? 'application/vnd.ms-excel' : 'text/csv', 'new_hires_1102.csv', rows.join('\r\n') + '\r\n')]));
  }
  // HTML table onboarding
  {
    const html = htmlWrap(`<h3>I-9 / onboarding checklist</h3><table><tr><th>Employee</th><th>SSN</th><th>Start</th></tr>` +
      [0, 1, 2].map(() => `<tr><td>${name()}</td><td>${ssnParts().join('-')}</td><td>11/16/2026</td></tr>`).join('') + '</table>');
    add('onboarding-html', E, 'identity', 'SSNs in an HTML table', 'html-base64', alt({ subject: 'I-9 checklist', from: addr(name(), 'acme-logistics.com') }, stripTags(html), html, 'base64'));
  }
  // ITIN
  for (let k = 0; k < 2; k++) {
    const [a, g, s] = itinParts();
    add('itin', E, 'identity', 'ITIN on a tax document request', 'plain', single({ subject: '1040 prep', from: addr(name(), 'oakridge-law.com') }, 'text/plain', `Your ITIN ${a}-${g}-${s} is on the 1040 draft. Please confirm the spelling of your name and sign page 2.\n`));
  }
  // passport
  {
    add('passport-us', E, 'identity', 'US passport number with keyword', 'plain', single({ subject: 'travel booking' }, 'text/plain', `For the visa letter: passport no. ${digits(9)}, issued 2019, expires 2029. Nationality USA.\n`));
    add('passport-alpha', E, 'identity', 'next-gen US passport (letter + 8 digits) with "Passport #"', 'plain', single({ subject: 'conference registration' }, 'text/plain', `Full name: ${name()}\nPassport #: ${pick(['A', 'C', 'E'])}${digits(8)}\nDate of expiry: 2031-04-30\n`));
  }
  // driver's licence
  {
    add('dl-ca', E, 'identity', "California driver's licence with DL#", 'plain', single({ subject: 'rental car' }, 'text/plain', `DL# ${pick(['D', 'F', 'B'])}${digits(7)} (CA), exp 2028. Additional driver: my wife.\n`));
    add('dl-fl', E, 'identity', "Florida driver's license with dashes", 'plain', single({ subject: 'background check' }, 'text/plain', `Driver's License Number: ${pick(['S', 'M', 'R'])}${digits(3)}-${digits(3)}-${digits(2)}-${digits(3)}-${digits(1)}\nState: FL\n`));
    add('dl-ny', E, 'identity', "NY driver license 9 digits with 'drivers lic'", 'plain', single({ subject: 'fw: id' }, 'text/plain', `drivers lic ${digits(3)} ${digits(3)} ${digits(3)} NY\n`));
  }
  // SSN in forwarded thread, base64
  {
    const [a, g, s] = ssnParts();
    const body = `Can you check whether this got to the auditor?\n\n-----Original Message-----\nFrom: ${name()}\nSent: Tuesday, October 13, 2026 9:14 AM\nSubject: vendor setup\n\nThe contractor's TIN is his SSN: ${a}-${g}-${s}. W-9 attached separately.\n`;
    add('fwd-ssn-b64', E, 'identity', 'SSN inside an Outlook-style forwarded message, base64 body', 'plain-base64-fwd', single({ subject: 'FW: vendor setup' }, 'text/plain', body, 'base64'));
  }
  // SSN with no keyword at all, dashed
  {
    add('ssn-bare-dashed', E, 'identity', 'dashed valid SSN with a name, no keyword', 'plain', single({ subject: 'here you go' }, 'text/plain', `${name()}\n${ssnParts().join('-')}\nborn in Ohio\n`));
  }
}

// ===== POSITIVES: CARD =====
{
  const brands = ['visa', 'mc', 'mc2', 'amex', 'disc', 'visa', 'mc'];
  brands.forEach((b, k) => {
    const c = card(b);
    const sep = [' ', '-', '', ' ', '-', ' ', ''][k];
    const phr = [
      `Please charge the deposit to my card: ${fmtCard(c, sep)} exp ${pad(ri(1, 12), 2)}/${ri(27, 31)} CVV ${digits(3)}.`,
      `cc# ${fmtCard(c, sep)}  exp ${pad(ri(1, 12), 2)}/${ri(27, 31)}`,
      `Card number ${c}, billing zip ${digits(5)}.`,
      `Use the company Amex/Visa on file? No - new one: ${fmtCard(c, sep)}.`,
      `CARD: ${fmtCard(c, sep)} NAME ON CARD: ${name().toUpperCase()}`,
      `Payment details\nCardholder: ${name()}\nNumber: ${fmtCard(c, sep)}\nExpiry: ${pad(ri(1, 12), 2)}/${ri(27, 31)}`,
      `hotel needs a card to hold the room, here's mine ${c} exp ${pad(ri(1, 12), 2)}${ri(27, 31)}`,
    ][k];
    add('card-' + b, E, 'card', `valid ${b} card number (Luhn + prefix)`, 'plain', single({ subject: pick(['booking', 'deposit', 'payment for invoice', 'hold the room']) }, 'text/plain', phr + '\n\n' + pick(FILLER) + '\n'));
  });
  {
    const c = card('visa');
    const html = htmlWrap(`<p>Order summary</p><table><tr><td>Card</td><td><span>${c.slice(0, 8)}</span><span>${c.slice(8)}</span></td></tr><tr><td>Exp</td><td>08/29</td></tr></table>`);
    add('card-html-split', E, 'card', 'card number split by <span> in an HTML table', 'html-qp', alt({ subject: 'order form' }, stripTags(html), html));
  }
  {
    const c = card('mc');
    add('card-qp-fwd', E, 'card', 'card number inside quoted reply, quoted-printable', 'plain-qp-fwd',
      single({ subject: 'Re: catering order' }, 'text/plain', `Got it, thanks.\n\nOn Oct 9, 2026, ${name()} wrote:\n> Caterer asked for the card again – it's ${fmtCard(c)} (exp 11/28).\n> Thanks!\n`, 'qp'));
  }
  {
    const rows = ['name,card_number,exp,amount'];
    for (let r = 0; r < 3; r++) rows.push([name(), card(pick(['visa', 'mc', 'amex'])), `${pad(ri(1, 12), 2)}/${ri(27, 30)}`, `${ri(20, 900)}.00`].join(','));
    add('card-csv', E, 'card', 'CSV of donor card numbers', 'csv-attachment', multi({ subject: 'pledges to process' }, 'mixed', [part('text/plain', 'Pledge batch attached.\n'), attach('text/csv', 'pledges.csv', rows.join('\n') + '\n')]));
  }
  {
    const c = card('visa');
    add('card-dots', E, 'card', 'card number with dots as separators', 'plain', single({ subject: 'payment' }, 'text/plain', `my visa is ${fmtCard(c, '.')} exp 05/28\n`));
  }
}

// ===== POSITIVES: BANK =====
{
  const tmpl = [
    (r, a) => `Wire instructions for closing:\nBank: Harbor Credit Union\nABA/Routing: ${r}\nAccount #: ${a}\nBeneficiary: ${name()}\nReference: escrow ${digits(6)}\n`,
    (r, a) => `Direct deposit change\nRouting number ${r}\nChecking account number ${a}\nEffective next pay period.\n`,
    (r, a) => `RTN: ${r}\nDDA: ${a}\nPlease update vendor master.`,
    (r, a) => `hi - for the refund, my routing # is ${r} and acct # ${a}. checking. thx`,
    (r, a) => `ACH DETAILS\nROUTING NO ${r}\nACCOUNT NO ${a}\nACCOUNT TYPE SAVINGS`,
    (r, a) => `Remit via ACH to: Corvid Labs LLC, ABA ${r}, Acct ${a}. Invoice ${digits(5)} due net 30.`,
  ];
  tmpl.forEach((t, k) => {
    const r = aba(), a = acct();
    add('bank-' + k, E, 'bank', 'valid ABA routing number with account number and keyword', 'plain', single({ subject: pick(['wire instructions', 'direct deposit', 'vendor banking update', 'refund']) , from: addr(name(), pick(DOM)) }, 'text/plain', t(r, a) + '\n' + SIG()));
  });
  {
    const r = aba(), a = acct();
    const html = htmlWrap(`<table><tr><td>Routing (ABA)</td><td>${r}</td></tr><tr><td>Account number</td><td>${a}</td></tr><tr><td>Bank</td><td>First Lakeside Bank</td></tr></table>`);
    add('bank-html', E, 'bank', 'ABA and account in an HTML table', 'html-qp', alt({ subject: 'payroll setup - banking', from: addr(name(), 'summitpayroll.net') }, stripTags(html), html));
  }
  {
    const rows = ['employee,routing,account,type,pct'];
    for (let r = 0; r < 4; r++) rows.push([name(), aba(), acct(), pick(['checking', 'savings']), '100'].join(','));
    add('bank-csv', E, 'bank', 'direct-deposit CSV with routing and account columns', 'csv-attachment', multi({ subject: 'dd file', from: addr(name(), 'summitpayroll.net') }, 'mixed', [part('text/plain', 'DD changes for this cycle attached.\n'), attach('text/csv', 'direct_deposit.csv', rows.join('\n') + '\n')]));
  }
  {
    const r = aba(), a = acct();
    add('bank-fwd', E, 'bank', 'routing and account deep in a forwarded wire request', 'plain-fwd', single({ subject: 'FW: FW: urgent wire' }, 'text/plain', `please process today\n\n> > From: ${name()}\n> > Routing: ${r}\n> > Account: ${a}\n> > Amount: $${ri(10, 90)},${digits(3)}.00\n`));
  }
}

// ===== POSITIVES: FLAGS / SENSITIVITY =====
{
  ['[SECURE] board minutes', '[secure] salary review', 'Secure: offer letter', 'SECURE: contract redlines', '[Encrypt] Q3 forecast', 'RE: [encrypt] legal hold'].forEach((s, k) => {
    add('flag-subject', E, 'flag', 'sender flag in subject', 'plain', single({ subject: s }, 'text/plain', `See attached. ${pick(FILLER)}\n`));
  });
  add('flag-header', E, 'flag', 'X-Sealpost-Encrypt: yes header', 'plain', single({ subject: 'notes', extra: ['X-Sealpost-Encrypt: yes'] }, 'text/plain', 'Notes from today.\n'));
  add('flag-header-case', E, 'flag', 'X-Sealpost-Encrypt: YES (uppercase)', 'plain', single({ subject: 'numbers', extra: ['X-SEALPOST-ENCRYPT: YES'] }, 'text/plain', 'Numbers as discussed.\n'));
  add('sensitivity-cc', E, 'sensitivity', 'Sensitivity: Company-Confidential', 'plain', single({ subject: 'reorg plan', extra: ['Sensitivity: Company-Confidential'] }, 'text/plain', 'Draft of the reorg plan.\n'));
  add('sensitivity-private', E, 'sensitivity', 'Sensitivity: Private', 'plain', single({ subject: 'personal', extra: ['Sensitivity: Private'] }, 'text/plain', 'Can we talk tomorrow?\n'));
}

// ===== NEGATIVES: ORDINARY BUSINESS =====
{
  const biz = [
    ['lunch friday?', 'Want to grab lunch Friday at 12:30? The new place on 5th has a patio.'],
    ['Q4 planning deck', 'Attached is the draft Q4 planning deck. Slides 4-9 need numbers from finance by Wednesday.'],
    ['Re: printer on 3', 'The printer on the third floor is jammed again. Facilities ticket #48213 is open.'],
    ['team offsite', 'The offsite is at the lake lodge on Nov 14. Bus leaves at 8:00 sharp. Bring layers.'],
    ['contract renewal', 'The renewal with our janitorial vendor is up on 12/31. I recommend a 2-year term at the same rate.'],
    ['Your order has shipped', 'Your order #112-4439021-7782156 has shipped. Estimated delivery: Oct 22.'],
    ['Meeting notes', 'Action items: (1) Dana to update the roadmap; (2) IT to provision 12 laptops; (3) revisit pricing in Jan.'],
    ['expense policy reminder', 'Reminder: receipts over $75 need to be attached in Concur within 30 days.'],
    ['Welcome aboard!', 'Please welcome Priya to the data team. She joins us from Chicago and loves bouldering.'],
    ['Re: holiday party', 'DJ confirmed. We still need two volunteers for the coat check.'],
    ['server maintenance', 'Maintenance window Saturday 02:00-04:00 UTC. Expect brief VPN outages.'],
    ['quarterly newsletter', 'In this issue: our new Denver office, customer wins, and a recipe for chili from the cafeteria.'],
  ];
  biz.forEach(([s, b], k) => add('biz', D, 'business', 'ordinary business mail, no identifiers', k % 3 === 0 ? 'html-qp' : 'plain',
    k % 3 === 0 ? alt({ subject: s }, b + '\n', htmlWrap(`<p>${b}</p>`)) : single({ subject: s }, 'text/plain', b + '\n\n' + pick(FILLER) + '\n' + SIG())));
  add('biz-secure-word', D, 'business', '"secure" mentioned in the body, not a subject flag', 'plain', single({ subject: 'Re: securing the warehouse' }, 'text/plain', 'Please make sure the warehouse doors are secure: we had a break-in last week. [secure] tags go in the subject, not here.\n'));
  add('biz-secure-later', D, 'business', '"secure" in the middle of the subject without brackets/colon', 'plain', single({ subject: 'How we secure our supply chain' }, 'text/plain', 'Blog draft attached for review.\n'));
  add('biz-sensitivity-normal', D, 'business', 'Sensitivity: Normal header', 'plain', single({ subject: 'status', extra: ['Sensitivity: Normal'] }, 'text/plain', 'All green this week.\n'));
  add('biz-sealpost-no', D, 'business', 'X-Sealpost-Encrypt: no', 'plain', single({ subject: 'status 2', extra: ['X-Sealpost-Encrypt: no'] }, 'text/plain', 'Still green.\n'));
}

// ===== NEGATIVES: HEALTH CONTENT WITHOUT IDENTIFIERS =====
{
  const news = [
    ['Flu season is here', 'Flu shots are available at all Riverbend locations. People with diabetes, asthma or COPD are at higher risk of complications. Ask your pharmacist about Tamiflu if symptoms start.'],
    ['Heart Health Month', 'Hypertension (ICD-10 I10) affects nearly half of US adults. Medications like lisinopril and amlodipine, plus diet changes, lower the risk of stroke.'],
    ['Clinic hours update', 'Starting November 3, the dermatology clinic opens at 7:30 am. Call 617-555-0143 to book. Walk-ins for mole checks on Fridays.'],
    ['Grand rounds: sepsis bundles', 'This Thursday: Dr. Okafor on early sepsis recognition, lactate thresholds and antibiotic timing. CME credit available. Room B204, 12:00.'],
    ['Coding update FY2026', 'New codes this year include refinements in E11 (type 2 diabetes) and F32 (depressive episode). Review E11.65 vs E11.9 documentation tips in the attached guide.'],
    ['Wellness challenge', 'Join the 10,000-steps challenge! Walking lowers blood pressure and helps manage depression and anxiety.'],
    ['Drug shortage notice', 'Amoxicillin oral suspension and methylphenidate ER remain on the FDA shortage list. Consider alternatives per formulary.'],
  ];
  news.forEach(([s, b], k) => add('healthnews', D, 'health-news', 'health content without any patient identifier', k % 2 ? 'html-qp' : 'plain',
    k % 2 ? alt({ subject: s, from: 'news@riverbend-health.org' }, b + '\n', htmlWrap(`<h2>${s}</h2><p>${b}</p>`)) : single({ subject: s, from: 'news@riverbend-health.org' }, 'text/plain', b + '\n\nUnsubscribe: https://riverbend-health.org/u\n')));
  add('cancer-fundraising', D, 'health-news', 'cancer fundraising event, no patient data', 'plain', single({ subject: 'Walk for the Cure - sign up!' }, 'text/plain', 'Our cancer fundraising walk is Oct 25. Every mile supports breast cancer and leukemia research. Register by 10/20; teams of 4-10. Questions: call 555-0199.\n'));
  add('sick-note', D, 'health-news', 'employee says they are sick, no identifiers', 'plain', single({ subject: 'out sick' }, 'text/plain', 'Hi, I have the flu and a fever, so I will be out today. Took ibuprofen, going back to bed.\n'));
}

// ===== HARD NEGATIVES =====
{
  // invalid SSN areas / groups / serials and published samples
  const bad = ['000-' + pad(ri(1, 99), 2) + '-' + pad(ri(1, 9999), 4), '666-' + pad(ri(1, 99), 2) + '-' + pad(ri(1, 9999), 4), pad(ri(1, 665), 3) + '-00-' + pad(ri(1, 9999), 4), pad(ri(1, 665), 3) + '-' + pad(ri(1, 99), 2) + '-0000', '078-05-1120', '219-09-9999', '9' + pad(ri(0, 99), 2) + '-' + pad(ri(10, 49), 2) + '-' + pad(ri(1, 9999), 4)];
  const why = ['area 000', 'area 666', 'group 00', 'serial 0000', 'Woolworth wallet sample 078-05-1120', 'SSA advertising sample 219-09-9999', '9xx area with a group that is not an ITIN group'];
  bad.forEach((s, k) => add('hard-ssn', D, 'hard-ssn', `SSN-shaped but invalid: ${why[k]}`, 'plain',
    single({ subject: pick(['form test', 'training example', 'placeholder data']) }, 'text/plain', `For the training slide, use the example SSN ${s} so nobody pastes a real one. Employee: Jane Doe.\n`), true));
  add('hard-masked-ssn', D, 'hard-ssn', 'masked SSN (last four only)', 'plain', single({ subject: 'verification' }, 'text/plain', 'We verified your identity using your SSN ending in XXX-XX-' + digits(4) + '. No further action is needed.\n'), true);
  add('hard-serial', D, 'hard-ssn', 'unformatted 9-digit device serial number that happens to satisfy SSN rules, no SSN keyword', 'plain', single({ subject: 'RMA for scanner' }, 'text/plain', `RMA request: barcode scanner model ZX-40, serial ${pad(ri(100, 665), 3)}${pad(ri(10, 99), 2)}${pad(ri(1000, 9999), 4)}, dead on arrival. Ship label please.\n`), true);
  add('hard-zip-phone', D, 'hard-ssn', 'ZIP+4 codes and phone numbers only', 'plain', single({ subject: 'mailing list' }, 'text/plain', `Send the brochures to 02139-4307 and 60614-2210. Questions: (312) 555-0178 or 800-555-0123.\n`), true);

  // cards: Luhn failures, test numbers, last-4, order numbers
  for (let k = 0; k < 3; k++) {
    const c = badLuhn(card(pick(['visa', 'mc', 'amex'])));
    add('hard-card-luhn', D, 'hard-card', 'card-shaped number failing Luhn (order / reference number)', 'plain', single({ subject: 'order status' }, 'text/plain', `Your order reference ${fmtCard(c)} is being processed. Track it in your account.\n`), true);
  }
  ['4111 1111 1111 1111', '4242424242424242', '5555 5555 5555 4444', '3782 822463 10005', '6011 1111 1111 1117', '4012888888881881'].forEach((c) => add('hard-card-test', D, 'hard-card', `published payment test number ${c}`, 'plain', single({ subject: 'Stripe sandbox setup' }, 'text/plain', `For the sandbox, use card number ${c} with any future expiry and any CVC. Do not use real cards in staging.\n`), true));
  add('hard-card-last4', D, 'hard-card', 'card referenced only by last four digits', 'plain', single({ subject: 'Your receipt' }, 'text/plain', `Thanks for your purchase! Charged $42.18 to Visa ending in ${digits(4)}. Auth code ${digits(6)}.\n`), true);
  add('hard-ups', D, 'hard-card', 'UPS and FedEx tracking numbers', 'plain', single({ subject: 'tracking' }, 'text/plain', `UPS: 1Z${digits(3)}X${digits(2)}${digits(10)}\nFedEx: ${digits(12)}\nUSPS: 9400 ${digits(4)} ${digits(4)} ${digits(4)} ${digits(4)} ${digits(2)}\n`), true);
  add('hard-isbn', D, 'hard-card', 'ISBN-13 numbers in a reading list', 'plain', single({ subject: 'reading list' }, 'text/plain', 'Book club picks:\n- ISBN 978-0-14-312755-0\n- ISBN 9780307387899\n- ISBN 978-1-5247-6348-1\n'), true);
  add('hard-imei', D, 'hard-card', 'phone IMEI (15 digits, Luhn-valid, not a card)', 'plain', single({ subject: 'lost phone' }, 'text/plain', `IMEI: ${(() => { const b = '35' + digits(12); return b + luhnCheck(b); })()}\nPlease blacklist the device.\n`), true);
  add('hard-lottery', D, 'hard-card', 'office lottery pool numbers', 'plain', single({ subject: 'powerball pool' }, 'text/plain', `This week's numbers: 04 11 23 38 61 PB 09. Ticket serial 4417 2290 3381 0063. $5 to Dana by Friday.\n`), true);
  add('hard-gift-card', D, 'hard-card', 'store gift card number (not a payment card brand prefix)', 'plain', single({ subject: 'thank you gift' }, 'text/plain', `Gift card code: 7777 ${digits(4)} ${digits(4)} ${digits(4)}, PIN on the back. Enjoy!\n`), true);

  // bank: invalid ABA + account, ABA without account, masked account
  for (let k = 0; k < 2; k++) add('hard-aba-bad', D, 'hard-bank', 'routing-shaped number failing the ABA checksum, with account', 'plain', single({ subject: 'payment info' }, 'text/plain', `Routing: ${badAba()}\nAccount: ${acct()}\n`), true);
  add('hard-aba-only', D, 'hard-bank', 'public bank routing number alone (branch info page), no account number', 'plain', single({ subject: 'branch info' }, 'text/plain', `Harbor CU routing number is ${aba()}. Branch hours 9-5, Saturday 9-12.\n`), true);
  add('hard-acct-masked', D, 'hard-bank', 'statement notice with masked account', 'plain', single({ subject: 'statement ready' }, 'text/plain', `Your statement for checking acct ending 4471 is ready. Log in to view. Routing numbers are never requested by email.\n`), true);
  add('hard-invoice-no', D, 'hard-bank', 'customer account / invoice numbers, no routing number', 'plain', single({ subject: 'invoice INV-88210' }, 'text/plain', `Customer account number: ${acct(10)}\nInvoice: INV-88210\nPO: 4500${digits(6)}\nAmount due: $1,280.00\n`), true);

  // health-ish hard negatives
  add('hard-npi-footer', D, 'hard-health', "doctor's public NPI in a practice website/newsletter footer: NPI is a public provider identifier (NPPES registry), no patient information, so no PHI", 'html-qp',
    altH({ subject: 'New cardiology services at Northgate', from: 'info@northgate-clinic.com' }, htmlWrap(`<p>We now offer echocardiograms and stress tests for heart disease and atrial fibrillation.</p><hr><p style="font-size:10px">Dr. ${name()}, MD, FACC &middot; NPI ${npi()} &middot; 12 Harbor Rd, Suite 4 &middot; Tel 555-0100</p>`)), true);
  add('hard-npi-sig', D, 'hard-health', 'provider NPI and DEA in an email signature about scheduling, no patient data', 'plain',
    single({ subject: 'call schedule December', from: addr(name(), 'northgate-clinic.com') }, 'text/plain', `I can take Dec 12 and Dec 26 call. Clinic coverage for oncology is set.\n\n--\nDr. ${name()}, MD\nNPI ${npi()} | DEA ${dea()}\n`), true);
  add('hard-icd-part', D, 'hard-health', 'part numbers shaped like ICD codes, with a 9-digit PO number', 'plain', single({ subject: 'parts order' }, 'text/plain', `Please reorder: E11.9 bracket x40, J45.909 hinge x12, I10 washer x500. PO ${digits(9)}. Ship to dock 3.\n`), true);
  add('hard-pet-vet', D, 'hard-health', "pet's birthday and vet vaccine visit: veterinary records are not PHI", 'plain', single({ subject: 'Biscuit vet visit' }, 'text/plain', `Biscuit (DOB: 04/05/2019) is due for rabies and Bordetella vaccines. The vet also prescribed carprofen for his arthritis.\n`), true);
  add('hard-study-ids', D, 'hard-health', 'de-identified research subject codes with diagnoses (no identifiers)', 'plain', single({ subject: 'interim data' }, 'text/plain', 'Subjects S-014, S-022 and S-031 met the primary endpoint (HbA1c < 7%). S-019 withdrew due to nausea on semaglutide.\n'), true);
  add('hard-drug-ad', D, 'hard-health', 'pharmacy marketing with drug names and phone/coupon numbers', 'html-qp', altH({ subject: 'Save on your prescriptions', from: 'deals@lakeside-pharmacy.com' }, htmlWrap(`<p>Save up to 80% on atorvastatin, metformin and lisinopril! Coupon code RX${digits(6)}. BIN 610014 PCN DRX GROUP ${digits(6)}. Call 1-800-555-0142.</p>`)), true);
  add('hard-date-meeting', D, 'hard-health', 'meeting date near clinical words but not a date of birth', 'plain', single({ subject: 'M&M conference' }, 'text/plain', 'Morbidity and mortality conference moved to 11/19/2026. Cases: post-op pneumonia, missed appendicitis.\n'), true);
  add('hard-cancer-fund-card-last4', D, 'hard-health', 'cancer fundraising receipt with masked card and donor count', 'plain', single({ subject: 'Thank you for supporting cancer research' }, 'text/plain', `Your donation of $50 to our cancer fundraising campaign (card ending ${digits(4)}) is tax deductible. Tax ID 84-${digits(7)}.\n`), true);
  add('hard-ein', D, 'hard-misc', 'employer EIN (2-7 format), not a personal identifier', 'plain', single({ subject: 'W-9' }, 'text/plain', `Our EIN is ${ri(10, 99)}-${digits(7)}. W-9 attached on request.\n`), true);
  add('hard-version', D, 'hard-misc', 'software version / build numbers and a dotted IP', 'plain', single({ subject: 'release notes' }, 'text/plain', `Build 512.44.8871 is live on 10.24.118.7. Rollback tag v4.11.1111.\n`), true);
  add('hard-mrn-word', D, 'hard-misc', '"MRN" used as an abbreviation for something else (Mail Reference Number) with a short code', 'plain', single({ subject: 'returned mail' }, 'text/plain', 'Returned envelope batch MRN B-17, 42 pieces, bad addresses. Please update the CRM.\n'), true);
  add('hard-flag-quoted', D, 'hard-misc', 'body quotes the flag instructions; subject has no flag', 'plain', single({ subject: 'How to send encrypted mail' }, 'text/plain', 'To encrypt a message, start the subject with [secure] or secure: and the gateway will do the rest.\n'), true);
}


// ===== ADDITIONS: encodings, attachments, more layouts =====
{
  // UTF-16 text body with an MBI and a condition
  const m = mbi();
  const body = `Medicare card on file: MBI ${m}\nPatient reports worsening COPD, on tiotropium.\n`;
  const u16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]).toString('base64').match(/.{1,76}/g).join('\r\n');
  add('utf16-mbi', E, 'hipaa', 'MBI with COPD in a UTF-16LE base64 body', 'plain-utf16',
    hdrs({ subject: 'intake note', from: addr(name(), 'northgate-clinic.com') }) + '\r\nContent-Type: text/plain; charset=UTF-16\r\nContent-Transfer-Encoding: base64\r\n\r\n' + u16 + '\r\n');
  // billing statement: DOB + diagnosis, base64 HTML
  const html = htmlWrap(`<p>Statement for services</p><table><tr><td>Guarantor</td><td>${name()}</td></tr><tr><td>Patient DOB</td><td>${date()}</td></tr><tr><td>Service</td><td>Physical therapy, 12 visits (rotator cuff tear S46.011A)</td></tr><tr><td>Balance</td><td>$${ri(40, 900)}.15</td></tr></table>`);
  add('statement-dob', E, 'hipaa', 'patient DOB with PT and ICD code in base64 HTML statement', 'html-base64', alt({ subject: 'Your statement', from: 'billing@riverbend-health.org' }, stripTags(html), html, 'base64'));
  // JSON attachment with SSNs
  const json = JSON.stringify({ employees: [0, 1, 2].map(() => ({ name: name(), ssn: ssnParts().join('-'), dept: 'Ops' })) }, null, 2);
  add('hr-json', E, 'identity', 'HRIS JSON export with ssn fields', 'json-attachment', multi({ subject: 'export for benefits vendor', from: addr(name(), 'acme-logistics.com') }, 'mixed', [part('text/plain', 'Export attached.\n'), attach('application/json', 'hris_export.json', json + '\n')]));
  // XML attachment with ITIN
  const [a, g, s2] = itinParts();
  add('tax-xml', E, 'identity', 'ITIN in an XML attachment', 'xml-attachment', multi({ subject: 'e-file payload', from: addr(name(), 'oakridge-law.com') }, 'mixed', [part('text/plain', 'Payload attached for review.\n'), attach('application/xml', 'return.xml', `<?xml version="1.0"?>\n<Return><Taxpayer><Name>${name()}</Name><TIN type="ITIN">${a}-${g}-${s2}</TIN></Taxpayer></Return>\n`)]));
  // Amex with &nbsp; separators in HTML only
  const c = card('amex');
  add('card-nbsp', E, 'card', 'Amex with &nbsp; separators, HTML-only body', 'html-only', single({ subject: 'corporate card for travel' }, 'text/html', htmlWrap(`<p>Book it on the corporate Amex: ${c.slice(0, 4)}&nbsp;${c.slice(4, 10)}&nbsp;${c.slice(10)}, exp 03/29.</p>`), 'qp'));
  // negatives
  add('hard-epoch', D, 'hard-misc', 'Unix timestamps and request IDs in a log excerpt', 'plain', single({ subject: 'error spike' }, 'text/plain', `ts=1761234567 req=${digits(9)} status=502\nts=1761234612 req=${digits(9)} status=502\nupstream timeout on api-2.\n`), true);
  add('hard-docket', D, 'hard-misc', 'court docket and Bates numbers', 'plain', single({ subject: 'filing', from: addr(name(), 'oakridge-law.com') }, 'text/plain', `Case No. 1:24-cv-0${digits(4)}; production Bates ACME-${digits(7)} through ACME-${digits(7)}. Opposition due 11/12/2026.\n`), true);
  add('hard-appt', D, 'hard-health', 'appointment reminder with date and clinic phone, no patient identifier', 'plain', single({ subject: 'Appointment reminder', from: 'noreply@northgate-clinic.com' }, 'text/plain', 'Reminder: you have an appointment at the Northgate orthopedics clinic on 11/04/2026 at 10:30. Reply C to confirm or call 555-0100 to reschedule.\n'), true);
  add('hard-account-word', D, 'hard-bank', 'valid routing number on a remittance page that mentions "account manager" but has no account number', 'plain', single({ subject: 'new remittance address' }, 'text/plain', `Please note our new lockbox address. For ACH, your account manager will send the form; our bank's routing number is ${aba()}.\n`), true);
  add('biz-html-phones', D, 'business', 'HTML contact directory with phone and extension numbers', 'html-qp', altH({ subject: 'updated phone list' }, htmlWrap('<table>' + [0, 1, 2, 3].map(() => `<tr><td>${name()}</td><td>(${ri(201, 989)}) 555-${pad(ri(100, 199), 4)}</td><td>x${digits(4)}</td></tr>`).join('') + '</table>')));
}

// ---------- write ----------
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
for (const [f, t] of msgs) writeFileSync(join(OUT, f), t);
writeFileSync(join(HERE, 'labels.json'), JSON.stringify(labels, null, 1) + '\n');
const pos = Object.values(labels).filter((l) => l.expect === E).length;
console.log(`wrote ${msgs.length} messages (${pos} encrypt, ${msgs.length - pos} deliver, ${Object.values(labels).filter((l) => l.hard).length} hard) to ${OUT}`);
