// ids.mjs - deterministic random source and generators/validators for the
// identifiers the DLP corpus plants: SSN, ITIN, NPI, DEA, MBI, payment
// cards, ABA routing numbers. Validators mirror the rules in
// src/lib/detect.h; the generator uses them to prove that every planted
// positive is real and that no negative carries a valid value by accident.

// mulberry32: a tiny seeded PRNG, so the corpus is identical on every run.
export function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  const pick = (arr) => arr[Math.floor(next() * arr.length)];
  const digits = (n) => Array.from({ length: n }, () => int(0, 9)).join('');
  const chance = (p) => next() < p;
  const shuffle = (arr) => {
    const a2 = arr.slice();
    for (let i = a2.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [a2[i], a2[j]] = [a2[j], a2[i]];
    }
    return a2;
  };
  return { next, int, pick, digits, chance, shuffle };
}

const pad = (n, w) => String(n).padStart(w, '0');
const onlyDigits = (s) => s.replace(/\D/g, '');

export function luhnOk(s) {
  const d = onlyDigits(s);
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let v = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return d.length > 0 && sum % 10 === 0;
}

// The digit that makes body + digit pass Luhn.
export function luhnCheckDigit(body) {
  for (let c = 0; c <= 9; c++) if (luhnOk(body + c)) return String(c);
  throw new Error('unreachable');
}

// ---- SSN / ITIN ----
export const SSN_SAMPLES = ['078051120', '219099999', '123456789'];

export function ssnOk(s) {
  const d = onlyDigits(s);
  if (d.length !== 9) return false;
  const area = +d.slice(0, 3), group = +d.slice(3, 5), serial = +d.slice(5);
  if (area === 0 || area === 666 || area >= 900) return false;
  if (group === 0 || serial === 0) return false;
  return !SSN_SAMPLES.includes(d);
}

export function itinOk(s) {
  const d = onlyDigits(s);
  if (d.length !== 9 || d[0] !== '9') return false;
  const g = +d.slice(3, 5);
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99);
}

export function genSsn(r) {
  for (;;) {
    const d = pad(r.int(1, 899), 3) + pad(r.int(1, 99), 2) + pad(r.int(1, 9999), 4);
    if (ssnOk(d)) return d;
  }
}

export function genItin(r) {
  for (;;) {
    const d = '9' + r.digits(2) + pad(r.int(50, 99), 2) + pad(r.int(1, 9999), 4);
    if (itinOk(d)) return d;
  }
}

export const fmt324 = (d, sep = '-') => d.slice(0, 3) + sep + d.slice(3, 5) + sep + d.slice(5);

// ---- NPI: Luhn over "80840" + the 10 digits ----
export function npiOk(s) {
  const d = onlyDigits(s);
  return d.length === 10 && (d[0] === '1' || d[0] === '2') && luhnOk('80840' + d);
}

export function genNpi(r) {
  const base = r.pick(['1', '2']) + r.digits(8);
  return base + luhnCheckDigit('80840' + base);
}

// ---- DEA: 2 letters + 7 digits; (d1+d3+d5) + 2*(d2+d4+d6) ends in d7 ----
export function deaOk(s) {
  const m = /^([A-Z])([A-Z9])(\d{7})$/.exec(s);
  if (!m) return false;
  const d = m[3].split('').map(Number);
  const sum = d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5]);
  return sum % 10 === d[6];
}

export function genDea(r, lastName) {
  const first = r.pick(['A', 'B', 'F', 'G', 'M']);
  const second = lastName[0].toUpperCase();
  const d = r.digits(6).split('').map(Number);
  const check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10;
  return first + second + d.join('') + check;
}

// ---- Medicare Beneficiary Identifier ----
const MBI_LETTERS = 'ACDEFGHJKMNPQRTUVWXY';
const MBI_ALNUM = MBI_LETTERS + '0123456789';

export function mbiOk(s) {
  const c = s.replace(/-/g, '');
  if (c.length !== 11) return false;
  const L = `[${MBI_LETTERS}]`, A = `[${MBI_ALNUM}]`;
  return new RegExp(`^[1-9]${L}${A}\\d${L}${A}\\d${L}${L}\\d\\d$`).test(c);
}

export function genMbi(r) {
  const L = () => r.pick(MBI_LETTERS), A = () => r.pick(MBI_ALNUM), D = () => String(r.int(0, 9));
  return String(r.int(1, 9)) + L() + A() + D() + L() + A() + D() + L() + L() + D() + D();
}

export const fmtMbi = (m) => m.slice(0, 4) + '-' + m.slice(4, 7) + '-' + m.slice(7);

// ---- Payment cards ----
// Published test numbers (payment processors' docs); the issue counts them
// as not real.
export const TEST_CARDS = [
  '4111111111111111', '4012888888881881', '4242424242424242', '4000056655665556',
  '5555555555554444', '5105105105105100', '378282246310005', '371449635398431',
  '6011111111111117', '6011000990139424', '3530111333300000', '3566002020360505',
];

// Brand of a Luhn-valid number by prefix and length (broad, so the
// negative-safety check errs on the side of caution), or null.
export function cardBrand(s) {
  const d = onlyDigits(s);
  const n = d.length;
  if (n < 12 || n > 19 || !luhnOk(d)) return null;
  const p2 = +d.slice(0, 2), p3 = +d.slice(0, 3), p4 = +d.slice(0, 4), p6 = +d.slice(0, 6);
  if (d[0] === '4' && [13, 16, 19].includes(n)) return 'visa';
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n === 16) return 'mastercard';
  if ((p2 === 34 || p2 === 37) && n === 15) return 'amex';
  if ((p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) && n >= 16) return 'discover';
  if (p4 >= 3528 && p4 <= 3589 && n >= 16) return 'jcb';
  if (((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) && n >= 14) return 'diners';
  if (p2 === 62 && n >= 16) return 'unionpay';
  if ((p2 === 50 || (p2 >= 56 && p2 <= 69)) && n >= 12) return 'maestro';
  if (d[0] === '1' && n === 15) return 'uatp';
  return null;
}

export const cardOk = (s) => cardBrand(s) !== null && !TEST_CARDS.includes(onlyDigits(s));

export function genCard(r, brand) {
  const spec = {
    visa: [() => '4' + r.digits(5), 16],
    mastercard: [() => r.pick(['51', '52', '53', '54', '55']) + r.digits(4), 16],
    mc2: [() => String(r.int(2221, 2720)) + r.digits(2), 16],
    amex: [() => r.pick(['34', '37']) + r.digits(4), 15],
    discover: [() => '6011' + r.digits(2), 16],
  }[brand];
  for (;;) {
    const pre = spec[0]();
    const body = pre + r.digits(spec[1] - pre.length - 1);
    const num = body + luhnCheckDigit(body);
    if (cardOk(num)) return num;
  }
}

export function fmtCard(d, sep = ' ') {
  if (d.length === 15) return [d.slice(0, 4), d.slice(4, 10), d.slice(10)].join(sep);
  return d.match(/.{1,4}/g).join(sep);
}

// ---- ABA routing: valid Federal Reserve prefix and 3-7-1 checksum ----
export function abaOk(s) {
  const d = onlyDigits(s);
  if (d.length !== 9) return false;
  const p = +d.slice(0, 2);
  if (!((p <= 12) || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p === 80)) return false;
  const w = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  return d.split('').reduce((acc, c, i) => acc + w[i] * +c, 0) % 10 === 0;
}

export function genAba(r) {
  for (;;) {
    const p = r.pick(['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12',
      '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32']);
    const body = p + r.digits(6);
    for (let c = 0; c <= 9; c++) if (abaOk(body + c)) return body + c;
  }
}
