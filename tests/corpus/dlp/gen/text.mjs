// text.mjs - people, organisations, dates and small helpers the corpus
// builders share. Names include Latin-1 accents so ISO-8859-1 messages
// carry real 8-bit text.

export const FIRST = ['Maria', 'James', 'Aisha', 'Robert', 'Linda', 'Wei', 'Carlos', 'Fatima', 'David',
  'Olga', 'José', 'Zoë', 'François', 'Priya', 'Michael', 'Grace', 'Kwame', 'Hannah', 'Luis', 'Ingrid',
  'Thomas', 'Yuki', 'Patricia', 'Ahmed', 'Sofía', 'Daniel', 'Chloé', 'Samuel', 'Nadia', 'Brian'];
export const LAST = ['Garcia', 'Smith', 'Okafor', 'Johnson', 'Nguyen', 'Müller', 'Patel', 'Brown',
  'Kowalski', 'Haddad', 'Larsen', 'Martínez', 'O\'Brien', 'Chen', 'Dubois', 'Williams', 'Tanaka',
  'Rossi', 'Andersson', 'Khan', 'Hernández', 'Murphy', 'Schmidt', 'Lopez', 'Davis', 'Novak'];

export const ORGS = {
  clinic: ['riverbend-clinic.org', 'northwind-health.org', 'stlukes-medical.org', 'lakeview-hospital.org'],
  payer: ['bluepeak-health.com', 'unitycare-insurance.com', 'meridian-benefits.com'],
  billing: ['clearclaim-billing.com', 'medrev-partners.com'],
  corp: ['fabrikam.com', 'contoso.com', 'tailspin-toys.com', 'northwind-traders.com', 'adatum.com'],
  bank: ['firstharbor-bank.com', 'granite-credit.org', 'pinecrest-financial.com'],
  law: ['lakeside-legal.com', 'morgan-hale-law.com', 'bright-ellis.com'],
  vendor: ['parts-direct.com', 'officehub.com', 'cloudmetrics.io', 'shipfast-logistics.com'],
  news: ['news.techweekly.com', 'mail.healthyliving.org', 'updates.cityarts.org', 'digest.devtools.io'],
  charity: ['hope-cancer-fund.org', 'pinkribbon-walk.org'],
};

export const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const MONTHS_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

const pad2 = (n) => String(n).padStart(2, '0');

export function person(r) {
  const first = r.pick(FIRST), last = r.pick(LAST);
  const local = `${first}.${last}`.normalize('NFD').replace(/[^A-Za-z.]/g, '').toLowerCase();
  return { first, last, name: `${first} ${last}`, local };
}

export function addr(r, kind, p = person(r)) {
  const dom = r.pick(ORGS[kind]);
  return { ...p, email: `${p.local}@${dom}`, domain: dom };
}

// A date in 2025 for headers and prose.
export function msgDate(r, i) {
  const d = new Date(Date.UTC(2025, 0, 2) + i * 17 * 3600 * 1000 + r.int(0, 3599) * 1000);
  const wd = DAYS[(d.getUTCDay() + 6) % 7];
  return {
    header: `${wd}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
      `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`,
    us: `${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())}/${d.getUTCFullYear()}`,
    iso: d.toISOString().slice(0, 10),
    long: `${MONTHS_LONG[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`,
  };
}

// A birth date between 1935 and 2005 in one of several written forms.
export function birthDate(r) {
  const y = r.int(1935, 2005), m = r.int(1, 12), d = r.int(1, 28);
  const forms = [
    `${pad2(m)}/${pad2(d)}/${y}`,
    `${y}-${pad2(m)}-${pad2(d)}`,
    `${MONTHS_LONG[m - 1]} ${d}, ${y}`,
    `${m}/${d}/${y}`,
    `${d} ${MONTHS[m - 1]} ${y}`,
  ];
  return { y, m, d, text: r.pick(forms), iso: `${y}-${pad2(m)}-${pad2(d)}` };
}

export function phone(r) {
  const a = r.int(201, 989), b = r.int(200, 989), c = r.digits(4);
  return r.pick([`(${a}) ${b}-${c}`, `${a}-${b}-${c}`, `+1 ${a} ${b} ${c}`, `${a}.${b}.${c}`]);
}

export const money = (r, lo, hi) => `$${r.int(lo, hi).toLocaleString('en-US')}.${String(r.int(0, 99)).padStart(2, '0')}`;

export function signature(p, title, org, r) {
  return `\n${p.name}\n${title}, ${org}\n${phone(r)}`;
}

// Quote a previous message the way mail clients do.
export function quote(prevAuthor, prevDate, text) {
  return `\nOn ${prevDate}, ${prevAuthor} wrote:\n` + text.split('\n').map((l) => (l.startsWith('>') ? `>${l}` : `> ${l}`)).join('\n');
}

export const LOREM_BUSINESS = [
  'Thanks for pulling this together so quickly.',
  'Let me know if the timeline still works on your side.',
  'I have copied the team so everyone has the same picture.',
  'We can go over the details on Thursday\'s call.',
  'Happy to jump on a quick call if that is easier.',
  'The numbers below are still preliminary, so please do not forward yet.',
  'Attaching the latest version for reference.',
  'Please review before end of day if you can.',
];
