// negatives.mjs - builders for messages that must be delivered as they
// are: ordinary business mail, newsletters, and hard negatives that look
// like sensitive data but are not (invalid SSNs, Luhn-failing order
// numbers, tracking numbers, ICD-shaped part numbers, published test
// cards, non-birth dates, binary attachments, flag look-alikes).

import * as id from './ids.mjs';
import { addr, person, phone, money, signature, quote, msgDate, LOREM_BUSINESS } from './text.mjs';

const pad = (n, w) => String(n).padStart(w, '0');

// 16 digits with a Visa/Mastercard-like prefix that fail Luhn.
function badLuhn16(r) {
  for (;;) {
    const d = r.pick(['4', '5']) + r.digits(15);
    if (!id.luhnOk(d)) return d;
  }
}

function invalidSsnShaped(r, k) {
  const kinds = [
    () => `000-${pad(r.int(1, 99), 2)}-${pad(r.int(1, 9999), 4)}`,
    () => `666-${pad(r.int(1, 99), 2)}-${pad(r.int(1, 9999), 4)}`,
    () => `9${r.digits(2)}-${pad(r.pick([r.int(1, 49), r.int(66, 69), 89, 93]), 2)}-${pad(r.int(1, 9999), 4)}`,
    () => `${pad(r.int(1, 665), 3)}-00-${pad(r.int(1, 9999), 4)}`,
    () => `${pad(r.int(1, 665), 3)}-${pad(r.int(1, 99), 2)}-0000`,
    () => '078-05-1120',
    () => '219-09-9999',
    () => '123-45-6789',
  ];
  return kinds[k % kinds.length]();
}

export const NEGATIVE = {
  business(r, ctx) {
    const from = addr(r, 'corp'), to = addr(r, 'corp'), d = msgDate(r, ctx.i + 40);
    const v = ctx.i % 5;
    const subjects = ['Project Atlas status', 'Offsite agenda', 'Budget review', 'Vendor quote comparison', 'Hiring plan Q4'];
    let text = `Hi ${to.first},\n\n${r.pick(LOREM_BUSINESS)} ${r.pick(LOREM_BUSINESS)}\n\n`;
    if (v === 0) text += `Milestones:\n- API freeze on ${d.us}\n- Beta build 2.14.3 to QA\n- ${r.int(12, 40)} open tickets, ${r.int(1, 9)} blockers\n`;
    if (v === 1) text += `We meet at 9:30 in room 4B, lunch at noon. Dial-in ${phone(r)}, PIN ${r.digits(6)}#.\nHotel: Harbor Inn, 100 Pier St, Portland OR 97209.\n`;
    if (v === 2) text += `Spend to date ${money(r, 100000, 900000)} of ${money(r, 900000, 2000000)}. Travel is ${r.int(3, 20)}% over plan.\n`;
    if (v === 3) text += `Quote A: ${money(r, 2000, 9000)} (net 30)\nQuote B: ${money(r, 2000, 9000)} (net 45)\nBoth include 3 years of support.\n`;
    if (v === 4) text += `Open roles: 2 backend, 1 designer. Interviews start ${d.long}.\n`;
    text += signature(from, r.pick(['Program manager', 'Director', 'Analyst']), 'Fabrikam', r);
    if (ctx.i % 4 === 0) text = `Sounds good, see you then.\n${from.first}\n` + quote(to.name, d.long, text);
    return { subject: (ctx.i % 4 === 0 ? 'Re: ' : '') + subjects[v], from, to: [to], why: 'ordinary business mail', text };
  },

  newsletter(r, ctx) {
    const from = addr(r, 'news'), to = addr(r, 'corp');
    const topics = ['Rust 2.0 rumours', 'the new CSS anchor positioning', 'our spring concert series', 'five tips for remote teams', 'the city arts grant winners'];
    const t = r.pick(topics);
    return {
      subject: `This week: ${t}`, from, to: [to], why: 'newsletter',
      text: `This week's issue\n\n1. ${t} - read more at https://${from.domain}/p/${r.int(1000, 9999)}\n2. Events on ${msgDate(r, ctx.i).long}\n3. Reader poll: ${r.int(40, 90)}% said yes.\n\nYou are receiving this because you subscribed. Unsubscribe: https://${from.domain}/u/${r.digits(8)}\n${r.int(100, 999)} Main St, Suite ${r.int(1, 500)}, Austin TX 78701`,
      htmlish: true,
    };
  },

  'health-newsletter'(r, ctx) {
    const from = addr(r, 'news'), to = addr(r, 'corp');
    const dx = r.shuffle(ctx.data.icd).slice(0, 2), drugs = r.shuffle(ctx.data.drugs).slice(0, 2);
    const v = ctx.i % 3;
    const texts = [
      `Living well with diabetes\n\nMany readers take ${drugs[0]} or ${drugs[1]}. Ask your pharmacist about interactions. Free flu shot clinic on ${msgDate(r, ctx.i).us}, 10am-2pm at the community center. Questions? Call ${phone(r)}.`,
      `Coding corner\n\nThe FY2026 update keeps ${dx[0].code} (${dx[0].desc}) and ${dx[1].code} (${dx[1].desc}). Document laterality and severity to avoid denials. Webinar on ${msgDate(r, ctx.i).long}.`,
      `Heart health month\n\nHigh blood pressure affects nearly half of adults. Lifestyle changes and drugs such as ${drugs[0]} help. Our cardiology team answers questions on ${msgDate(r, ctx.i).long}.`,
    ];
    return { subject: r.pick(['Your health digest', 'Coding corner: FY2026', 'Wellness newsletter']), from, to: [to], why: 'health newsletter: health content, no patient identifiers', text: texts[v], htmlish: true, hard: true };
  },

  fundraising(r, ctx) {
    const from = addr(r, 'charity'), to = addr(r, 'corp'), p = person(r), drug = r.pick(ctx.data.drugs);
    return {
      subject: r.pick(['Join our cancer fundraising walk', 'Cancer fundraising: meet Maria', 'Your gift matters']), from, to: [to],
      why: 'cancer fundraising appeal: survivor story with diagnosis and treatment, no identifiers', hard: true, htmlish: ctx.i % 2 === 0,
      text: `Dear friend,\n\nWhen ${p.name} was diagnosed with stage II breast cancer at 41, chemotherapy and ${drug} felt endless. Today ${p.first} is in remission and walks with us.\n\n` +
        `This year's cancer fundraising walk is on ${msgDate(r, ctx.i).long}. Every ${money(r, 25, 100)} funds a day of treatment support. Donate at https://${from.domain}/give or call ${phone(r)}.\n\nWith gratitude,\nThe Hope Fund team`,
    };
  },

  'hard-ssn'(r, ctx) {
    const from = addr(r, 'corp'), to = addr(r, 'corp'), bad = invalidSsnShaped(r, ctx.i);
    const v = ctx.i % 4;
    const texts = [
      `Reminder from security training: never paste an SSN into chat. The classic example is the wallet card SSN 078-05-1120, which thousands of people used as their own. For test records use numbers like ${bad}, which can never be issued.`,
      `QA note: the form now rejects SSN ${bad} as invalid, as it should. Error text: "Social Security number is not valid".`,
      `For the demo database, every employee's SSN is set to ${bad} (not a real number). Please keep it that way.`,
      `Field format: SSN (###-##-####), e.g. ${bad}. Dashes optional.`,
    ];
    return { subject: r.pick(['SSN validation bug', 'Demo data', 'Form spec update', 'Security tip of the week']), from, to: [to], why: `SSN-shaped number that fails the rules (${bad})`, text: texts[v] };
  },

  'hard-order'(r, ctx) {
    const from = addr(r, 'vendor'), to = addr(r, 'corp'), num = badLuhn16(r);
    const t = r.pick([id.fmtCard(num), num, id.fmtCard(num, '-')]);
    return {
      subject: `Order confirmation #${t}`, from, to: [to], why: '16-digit order number that fails Luhn', htmlish: ctx.i % 2 === 0,
      text: `Thank you for your order!\n\nOrder number: ${t}\nItems: ${r.int(1, 5)} x ergonomic chair\nTotal: ${money(r, 100, 2000)}\nPaid with card ending ${r.digits(4)}.\nEstimated delivery ${msgDate(r, ctx.i).long}.`,
    };
  },

  'hard-tracking'(r, ctx) {
    const from = addr(r, 'vendor'), to = addr(r, 'corp'), v = ctx.i % 3;
    const al = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
    const ups = '1Z' + Array.from({ length: 6 }, () => r.pick(al)).join('') + r.digits(10);
    const fedex = r.chance(0.5) ? r.digits(12) : r.digits(15);
    const usps = r.pick(['9400', '9205', '9361']) + r.digits(r.int(16, 18));
    const num = [ups, fedex, usps][v];
    const shown = v === 2 && r.chance(0.5) ? num.match(/.{1,4}/g).join(' ') : num;
    return {
      subject: `Your package has shipped`, from, to: [to], why: `${['UPS', 'FedEx', 'USPS'][v]} tracking number`,
      text: `Good news! Your order shipped via ${['UPS', 'FedEx', 'USPS'][v]}.\nTracking number: ${shown}\nTrack: https://${from.domain}/track?n=${num}\nQuestions: ${phone(r)}`,
    };
  },

  'hard-partno'(r, ctx) {
    const from = addr(r, 'vendor'), to = addr(r, 'corp');
    const parts = r.shuffle(['A01-234', 'Z99X', 'E11-9A', 'C50-22B', 'J45-100', 'K21-9Z', 'M54X-5', 'F32-BK', 'I10-200']).slice(0, 3);
    return {
      subject: 'Replacement parts quote', from, to: [to], why: 'part numbers shaped like ICD-10 codes',
      text: `Hi ${to.first},\n\nQuote for the line 3 repair:\n${parts.map((p) => `- ${p}  qty ${r.int(1, 20)}  ${money(r, 5, 400)}`).join('\n')}\nPO ${r.digits(7)}, ship date ${msgDate(r, ctx.i).us}.\n${signature(from, 'Sales', 'Parts Direct', r)}`,
    };
  },

  'hard-phone-invoice'(r, ctx) {
    const from = addr(r, 'vendor'), to = addr(r, 'corp'), v = ctx.i % 3;
    const texts = [
      `Invoice INV-2025-${r.digits(6)} is due on ${msgDate(r, ctx.i).us}. Amount ${money(r, 100, 9000)}. Remit questions to ${phone(r)} or fax ${phone(r)}.`,
      `Ticket #${r.digits(7)} has been updated. Priority P${r.int(1, 4)}. Call the service desk at ${phone(r)} (ext. ${r.int(100, 999)}) and quote case ${r.digits(8)}.`,
      `Customer no. ${r.digits(6)}, PO ${r.digits(7)}, invoice ${r.digits(8)}. Contact: ${phone(r)}, mobile ${phone(r)}.`,
    ];
    return { subject: r.pick(['Invoice reminder', 'Ticket update', 'Account statement']), from, to: [to], why: 'phone, invoice, ticket and case numbers', text: texts[v] };
  },

  'hard-date'(r, ctx) {
    const from = addr(r, 'corp'), to = addr(r, 'corp'), y = r.int(1950, 2004), m = r.int(1, 12), d = r.int(1, 28);
    const dt = r.pick([`${pad(m, 2)}/${pad(d, 2)}/${y}`, `${y}-${pad(m, 2)}-${pad(d, 2)}`]);
    const texts = [
      `The company was founded on ${dt}; the anniversary party is next month.`,
      `Lease start date ${dt}, renewal every 10 years. Building manager: ${phone(r)}.`,
      `Warranty on the old chiller started ${dt}. It is long out of coverage.`,
      `Archive request: records from ${dt} through ${pad(m, 2)}/${pad(d, 2)}/${y + 1} are in box ${r.int(10, 99)}.`,
    ];
    return { subject: r.pick(['Anniversary', 'Lease details', 'Archive request', 'Chiller warranty']), from, to: [to], why: 'dates that are not birth dates', text: texts[ctx.i % 4] };
  },

  'hard-testcard'(r, ctx) {
    const from = addr(r, 'corp'), to = addr(r, 'corp'), c = id.TEST_CARDS[ctx.i % id.TEST_CARDS.length];
    const shown = ctx.i % 2 ? id.fmtCard(c) : c;
    return {
      subject: r.pick(['Checkout integration test plan', 'Stripe sandbox setup', 'Re: payment form QA']), from, to: [to],
      why: `published test card number ${c}`,
      text: `For the sandbox, use the test card ${shown}, any future expiry (12/34) and CVC 123. Declines: use the processor's decline test numbers. Do not use real cards in staging.`,
    };
  },

  'hard-binary'(r, ctx) {
    const from = addr(r, 'corp'), to = addr(r, 'corp');
    return {
      subject: 'Q3 report (PDF)', from, to: [to], why: 'binary PDF attachment whose bytes contain digit runs; it is not text',
      text: `Report attached, ${r.int(10, 40)} pages.\n\n${from.first}`,
      attachments: [{ filename: `Q3-report-${ctx.i}.pdf`, type: 'application/pdf', bytes: ctx.pdf(r, true) }],
    };
  },

  'hard-flaglike'(r, ctx) {
    const from = addr(r, 'corp'), to = addr(r, 'corp'), v = ctx.i % 4;
    const subj = ['Security awareness training', 'Secure parking passes for Q3', 'Encryption rollout FAQ', 'Re: securing the VPN'][v];
    const headers = ctx.i % 2 ? [['X-Sealpost-Encrypt', 'no']] : [];
    return { subject: subj, from, to: [to], headers, why: 'subject or header that resembles a sender flag but is not one', text: `Hi all,\n\nDetails for ${subj.toLowerCase()} are on the intranet.\n\n${from.first}` };
  },
};
