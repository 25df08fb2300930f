// positives.mjs - builders for messages the gateway must encrypt. Every
// builder plants at least one validated identifier (or a sender flag) and
// marks each identifier as ⟦value⟧ so the renderer can split it with HTML
// markup; the marks never reach the written message.

import * as id from './ids.mjs';
import { addr, person, birthDate, phone, money, signature, quote, msgDate } from './text.mjs';

const M = (v) => `⟦${v}⟧`;

function clinicalBits(r, data, n = 2) {
  const dx = r.shuffle(data.icd).slice(0, n);
  const meds = r.shuffle(data.drugs).slice(0, r.int(1, 3));
  return { dx, meds };
}
const dose = (r) => r.pick(['5 mg daily', '10 mg BID', '20 mg at bedtime', '500 mg BID', '25 mg daily', '40 mg daily', '0.5 mg weekly']);
const mrn = (r) => r.pick([r.digits(8), r.digits(7), `${r.int(10, 99)}-${r.digits(6)}`, `MR${r.digits(7)}`]);
const memberId = (r) => r.pick(['W', 'XKJ', 'BPH', 'UCI', 'M']) + r.digits(r.int(8, 10));

export const POSITIVE = {
  clinical(r, ctx) {
    const doc = addr(r, 'clinic'), to = addr(r, 'clinic'), pt = person(r);
    const { dx, meds } = clinicalBits(r, ctx.data);
    const dob = birthDate(r);
    const m = mrn(r);
    const v = ctx.i % 7;
    const dxLines = dx.map((d) => `- ${d.desc} (${d.code})`).join('\n');
    const medLines = meds.map((d) => `- ${d} ${dose(r)}`).join('\n');
    if (v === 0) {
      return {
        subject: `Discharge summary - ${pt.last}`,
        from: doc, to: [to], why: 'discharge summary: name + MRN + DOB + diagnoses and drugs',
        text: `Hi Dr. ${to.last},\n\nDischarge summary for your patient, for follow-up next week.\n\nPatient: ${pt.name}\nMRN: ${M(m)}\nDOB: ${M(dob.text)}\n\nDiagnoses:\n${dxLines}\n\nDischarge medications:\n${medLines}\n\nFollow up in clinic in 2 weeks; labs before the visit.\n${signature(doc, 'MD', 'Riverbend Clinic', r)}`,
      };
    }
    if (v === 1) {
      return {
        subject: `Referral: ${pt.name}`, from: doc, to: [to],
        why: 'referral letter: name + date of birth near diagnosis and medication',
        text: `Dear Dr. ${to.last},\n\nI am referring ${pt.name} (date of birth ${M(dob.text)}) for evaluation of ${dx[0].desc.toLowerCase()}. ` +
          `ICD-10: ${dx[0].code}. Current therapy is ${meds[0]} ${dose(r)}, which has not been sufficient. ` +
          `Relevant history includes ${dx[1].desc.toLowerCase()} (${dx[1].code}).\n\nThank you for seeing this patient.\n${signature(doc, 'MD', 'Northwind Health', r)}`,
      };
    }
    if (v === 2) {
      return {
        subject: 'Lab results to review', from: doc, to: [to],
        why: 'lab note: patient MRN with keyword and clinical findings',
        text: `Can you review the A1c for ${pt.first} ${pt.last[0]}. (patient ID / MRN ${M(m)})? ` +
          `HbA1c 8.9%, fasting glucose 182 mg/dL. Working diagnosis ${dx[0].code} ${dx[0].desc}. ` +
          `I'd like to add ${meds[0]} ${dose(r)}.\n\nThanks,\n${doc.first}`,
      };
    }
    if (v === 3) {
      const d1 = msgDate(r, ctx.i);
      const first = `Handoff for bed 12: ${pt.name}, DOB ${M(dob.text)}, MRN ${M(m)}.\nAdmitted for ${dx[0].desc.toLowerCase()} (${dx[0].code}). ` +
        `On ${meds.join(', ')}. Watch potassium.`;
      return {
        subject: 'Re: night shift handoff', from: to, to: [doc],
        why: 'long thread: the patient identifiers and diagnosis are in the quoted handoff',
        text: `Thanks, all done. Potassium came back 4.1.\n\n${to.first}\n` +
          quote(doc.name, d1.long, `Quick follow-up, did the repeat BMP go out?\n${quote(to.name, d1.long, first)}`),
      };
    }
    if (v === 4) {
      const rows = ['name,dob,mrn,diagnosis_code,diagnosis'];
      for (let k = 0; k < r.int(3, 6); k++) {
        const p = person(r), b = birthDate(r), d = r.pick(ctx.data.icd);
        rows.push(`${p.name},${M(b.iso)},${M(mrn(r))},${d.code},"${d.desc}"`);
      }
      return {
        subject: 'Census for tomorrow', from: doc, to: [to],
        why: 'patient census CSV attachment: names, DOB, MRN, ICD-10 codes',
        text: `Attached is tomorrow's census for the clinic.\n\n${doc.first}`,
        attachments: [{ filename: 'census.csv', type: 'text/csv', text: rows.join('\n') + '\n' }],
      };
    }
    if (v === 5) {
      const json = JSON.stringify({
        resourceType: 'Bundle', entry: [
          { resource: { resourceType: 'Patient', name: [{ family: pt.last, given: [pt.first] }], birthDate: M(dob.iso), identifier: [{ type: 'MRN', value: M(m) }] } },
          { resource: { resourceType: 'Condition', code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: dx[0].code, display: dx[0].desc }] } } },
          { resource: { resourceType: 'MedicationStatement', medication: { text: meds[0] } } },
        ],
      }, null, 2);
      return {
        subject: 'FHIR export for the interface test', from: doc, to: [to],
        why: 'FHIR JSON attachment: patient with birthDate and MRN, condition, medication',
        text: `Here is the export you asked for.`,
        attachments: [{ filename: 'patient-bundle.json', type: 'application/json', text: json }],
      };
    }
    return {
      subject: `Progress note ${pt.last}, ${pt.first}`, from: doc, to: [to],
      why: 'progress note with MRN, DOB and assessment; lab report PDF attached (not scanned)',
      text: `Progress note\n\nName: ${pt.name}    MRN: ${M(m)}    DOB: ${M(dob.text)}\n\nS: Reports fatigue and poor sleep.\n` +
        `A/P: ${dx.map((d) => `${d.desc} - ${d.code}`).join('; ')}. Continue ${meds[0]}.\n\nLab report attached.`,
      attachments: [{ filename: 'lab-report.pdf', type: 'application/pdf', bytes: ctx.pdf(r) }],
    };
  },

  billing(r, ctx) {
    const from = addr(r, 'billing'), to = addr(r, r.pick(['payer', 'clinic'])), pt = person(r);
    const npi = id.genNpi(r), npi2 = id.genNpi(r), dx = r.shuffle(ctx.data.icd).slice(0, 3);
    const mem = memberId(r), dob = birthDate(r), claim = `CLM-${r.digits(9)}`;
    const cpt = r.pick(['99213', '99214', '93000', '80053', '36415', '71046']);
    const v = ctx.i % 4;
    if (v === 0) {
      return {
        subject: `Claim ${claim} denied - CO-16`, from, to: [to],
        why: 'claim denial: billing NPI, member ID, patient DOB and ICD-10 codes',
        text: `Hello,\n\nThe claim below was denied for missing information. Please correct and resubmit.\n\n` +
          `Claim: ${claim}\nBilling provider NPI: ${M(npi)}\nRendering NPI: ${M(npi2)}\nPatient: ${pt.name}\nMember ID: ${M(mem)}\n` +
          `Patient DOB: ${M(dob.text)}\nDiagnosis codes: ${dx.map((d) => d.code).join(', ')}\nCPT: ${cpt}  Billed: ${money(r, 90, 900)}\n${signature(from, 'Billing specialist', 'ClearClaim', r)}`,
      };
    }
    if (v === 1) {
      const rows = ['claim_id,member_id,patient_dob,npi,icd10_1,icd10_2,cpt,charge'];
      for (let k = 0; k < r.int(4, 8); k++) {
        const d = r.shuffle(ctx.data.icd);
        rows.push(`CLM-${r.digits(9)},${M(memberId(r))},${M(birthDate(r).iso)},${M(id.genNpi(r))},${d[0].code},${d[1].code},${r.pick(['99213', '99214', '80053'])},${r.int(80, 1200)}.00`);
      }
      return {
        subject: 'Resubmission batch for March', from, to: [to],
        why: 'claims CSV attachment: member IDs, DOBs, NPIs, ICD-10 codes',
        text: 'Attached is the corrected batch. Totals match the remittance.\n\nThanks',
        attachments: [{ filename: 'claims-batch.csv', type: 'text/csv', text: rows.join('\n') + '\n' }],
      };
    }
    if (v === 2) {
      const json = JSON.stringify({ claimId: claim, billingProvider: { npi: M(npi) }, subscriber: { memberId: M(mem), name: pt.name, dob: M(dob.iso) },
        diagnoses: dx.map((d) => d.code), lines: [{ cpt, units: 1, charge: r.int(90, 900) }] }, null, 2);
      return {
        subject: `837 test payload ${claim}`, from, to: [to],
        why: 'claim JSON attachment: NPI, member ID, DOB, diagnoses',
        text: 'Here is the payload that the clearinghouse rejected; it looks fine to me.',
        attachments: [{ filename: 'claim.json', type: 'application/json', text: json }],
      };
    }
    return {
      subject: `Re: patient balance question`, from, to: [to],
      why: 'billing question in a thread: member ID and DOB near diagnosis and drug',
      text: `I checked with the payer. The charge for ${pt.name} (member ID ${M(mem)}, DOB ${M(dob.text)}) was applied to the deductible. ` +
        `It was billed with ${dx[0].code} (${dx[0].desc}) and the ${r.pick(ctx.data.drugs)} refill.\n\nProvider NPI ${M(npi)}.`,
    };
  },

  insurance(r, ctx) {
    const from = addr(r, 'payer'), to = addr(r, r.pick(['clinic', 'corp'])), pt = person(r);
    const mbi = id.genMbi(r), dx = r.pick(ctx.data.icd), drug = r.pick(ctx.data.drugs);
    const pol = `${r.pick(['HPX', 'BPH', 'UCI'])}-${r.digits(4)}-${r.digits(4)}`;
    const v = ctx.i % 3;
    if (v === 0) {
      const mb = r.chance(0.5) ? id.fmtMbi(mbi) : mbi;
      return {
        subject: 'Medicare eligibility check', from, to: [to],
        why: 'Medicare Beneficiary Identifier (health-only identifier) with name',
        text: `Eligibility confirmed for ${pt.name}.\nMedicare Beneficiary Identifier (MBI): ${M(mb)}\nPart A and Part B active. Part D plan on file.\n\nRegards,\n${from.name}`,
      };
    }
    if (v === 1) {
      return {
        subject: 'Prior authorization approved', from, to: [to],
        why: 'prior authorization: member ID and policy number with diagnosis and drug',
        text: `Prior authorization for ${drug} has been approved.\n\nMember: ${pt.name}\nMember ID: ${M(memberId(r))}\nPolicy number: ${M(pol)}\n` +
          `Diagnosis: ${dx.desc} (${dx.code})\nValid through 12/31/2025.\n${signature(from, 'Utilization review', 'BluePeak Health', r)}`,
      };
    }
    return {
      subject: 'Your appeal', from, to: [to],
      why: 'appeal letter: MBI with diagnosis',
      text: `Dear ${pt.first} ${pt.last},\n\nWe received your appeal about the denied claim for ${dx.desc.toLowerCase()}. ` +
        `Your Medicare number ${M(id.fmtMbi(mbi))} is on file and a decision will follow within 30 days.\n\nUnityCare Member Services`,
    };
  },

  hr(r, ctx) {
    const from = addr(r, 'corp'), to = addr(r, 'corp'), emp = person(r);
    const ssn = id.genSsn(r), v = ctx.i % 6;
    const ssnTxt = r.pick([id.fmt324(ssn), id.fmt324(ssn), id.fmt324(ssn, ' '), ssn]);
    if (v === 0) {
      return {
        subject: `New hire paperwork - ${emp.name}`, from, to: [to],
        why: 'onboarding: SSN with keyword',
        text: `Hi ${to.first},\n\nPlease set up payroll for ${emp.name}, starting Monday.\nSSN: ${M(ssnTxt)}\nAddress: 42 Elm Street, Springfield\nW-4 attached separately.\n\nThanks!\n${from.first}`,
      };
    }
    if (v === 1) {
      return {
        subject: 'I-9 documents', from, to: [to],
        why: 'I-9: passport number and driver\'s licence with keywords',
        text: `Documents verified for ${emp.name}:\n- List A: U.S. passport, passport number ${M(r.pick([r.digits(9), 'C' + r.digits(8)]))}, expires 2031\n` +
          `- Driver's license: ${M(r.pick(['D', 'F', 'B']) + r.digits(7))} (CA)\n\nOriginals returned to the employee.`,
      };
    }
    if (v === 2) {
      return {
        subject: 'Contractor setup', from, to: [to],
        why: 'contractor tax ID: ITIN with keyword',
        text: `The new contractor does not have an SSN; use the ITIN instead.\nName: ${emp.name}\nITIN: ${M(id.fmt324(id.genItin(r)))}\nRate: ${money(r, 60, 140)}/h`,
      };
    }
    if (v === 3) {
      const rows = ['employee,ssn,start_date,department'];
      for (let k = 0; k < r.int(3, 7); k++) rows.push(`${person(r).name},${M(id.fmt324(id.genSsn(r)))},2025-0${r.int(1, 9)}-${r.int(10, 28)},${r.pick(['Sales', 'Ops', 'R&D'])}`);
      return {
        subject: 'Benefits enrollment roster', from, to: [to],
        why: 'roster CSV attachment with SSNs',
        text: 'Roster for the carrier attached. Please upload by Friday.',
        attachments: [{ filename: 'roster.csv', type: 'text/csv', text: rows.join('\n') + '\n' }],
      };
    }
    if (v === 4) {
      return {
        subject: 'Background check form', from, to: [to],
        why: 'background check: social security number and date of birth',
        text: `Candidate: ${emp.name}\nDate of birth: ${M(birthDate(r).text)}\nSocial Security Number: ${M(id.fmt324(ssn))}\nConsent signed on file.`,
      };
    }
    return {
      subject: 'Re: W-2 correction', from, to: [to],
      why: 'W-2 correction thread; the SSN is in the quoted message',
      text: `Done, the corrected W-2c is issued.\n` + quote(emp.name, 'Mon, 3 Feb 2025', `My W-2 shows the wrong SSN. The right one is ${M(id.fmt324(ssn))}. Can you fix it?\n\n${emp.first}`),
    };
  },

  banking(r, ctx) {
    const from = addr(r, r.pick(['corp', 'bank'])), to = addr(r, r.pick(['bank', 'corp']));
    const brand = r.pick(['visa', 'mastercard', 'mc2', 'amex', 'discover']);
    const card = id.genCard(r, brand), exp = `${String(r.int(1, 12)).padStart(2, '0')}/${r.int(26, 31)}`;
    const cardTxt = r.pick([id.fmtCard(card), id.fmtCard(card), id.fmtCard(card, '-'), card]);
    const aba = id.genAba(r), acct = r.digits(r.int(8, 12));
    const v = ctx.i % 5;
    if (v === 0) {
      return {
        subject: 'Card for the conference booking', from, to: [to],
        why: 'payment card number with expiry',
        text: `Please use the company card for the booking:\nCard number: ${M(cardTxt)}\nExp: ${exp}\nName on card: ${from.name}\n\nThanks`,
      };
    }
    if (v === 1) {
      return {
        subject: 'Wire instructions', from, to: [to],
        why: 'ABA routing number and account number with keywords',
        text: `Wire instructions for the deposit:\nBank: First Harbor Bank\nRouting number (ABA): ${M(aba)}\nAccount number: ${M(acct)}\nBeneficiary: Fabrikam LLC`,
      };
    }
    if (v === 2) {
      return {
        subject: 'Direct deposit form', from, to: [to],
        why: 'direct deposit: routing and checking account numbers',
        text: `Please update my direct deposit.\nRouting #: ${M(aba)}\nChecking account #: ${M(acct)}\n\n${from.first}`,
      };
    }
    if (v === 3) {
      return {
        subject: 'Refund request', from, to: [to],
        why: 'customer refund: card number in a reply thread',
        text: `Refund processed.\n` + quote(from.name, 'Tue, 4 Mar 2025', `I was charged twice on my ${brand === 'amex' ? 'Amex' : 'card'} ${M(cardTxt)}, expiry ${exp}. Please refund one charge.`),
      };
    }
    return {
      subject: 'Vendor payment details', from, to: [to],
      why: 'payment details table with card and bank account',
      text: `Vendor: Parts Direct\nPay by: credit card\nCard: ${M(cardTxt)} exp ${exp}\nBackup ACH routing ${M(aba)}, account ${M(acct)}`,
    };
  },

  legal(r, ctx) {
    const from = addr(r, 'law'), to = addr(r, r.pick(['corp', 'law'])), cl = person(r);
    const ssn = id.genSsn(r), aba = id.genAba(r), acct = r.digits(r.int(9, 12));
    const v = ctx.i % 3;
    if (v === 0) {
      return {
        subject: `Settlement agreement - ${cl.last}`, from, to: [to],
        why: 'settlement letter with claimant SSN',
        text: `Counsel,\n\nEnclosed is the executed settlement. For the 1099 reporting, the claimant's Social Security number is ${M(id.fmt324(ssn))}.\n` +
          `The settlement amount of ${money(r, 10000, 250000)} is payable within 30 days.\n\nSincerely,\n${from.name}\nLakeside Legal LLP`,
      };
    }
    if (v === 1) {
      return {
        subject: 'Settlement funds - wire details', from, to: [to],
        why: 'settlement payout: ABA routing and account numbers',
        text: `Please wire the settlement proceeds to our IOLTA trust account:\nABA routing: ${M(aba)}\nAccount no.: ${M(acct)}\nReference: ${cl.last} v. Contoso`,
      };
    }
    return {
      subject: 'Wage garnishment order', from, to: [to],
      why: 'garnishment order: debtor name, SSN and date of birth',
      text: `RE: Writ of garnishment\nDebtor: ${cl.name}\nSSN: ${M(id.fmt324(ssn))}\nDOB: ${M(birthDate(r).text)}\nPlease withhold 25% of disposable earnings.`,
    };
  },

  flagged(r, ctx) {
    const from = addr(r, 'corp'), to = addr(r, r.pick(['corp', 'vendor', 'law']));
    const topic = r.pick(['Q3 forecast', 'contract draft', 'board deck', 'pricing proposal', 'salary bands', 'acquisition memo', 'audit findings']);
    const body = `Hi ${to.first},\n\nHere is the ${topic} we discussed. Feedback by Friday, please.\n\n${from.first}`;
    const v = ctx.i % 10;
    const subjects = [`[secure] ${topic}`, `[SECURE] ${topic}`, `Secure: ${topic}`, `secure: ${topic}`, `[encrypt] ${topic}`,
      `RE: [Secure] ${topic}`, `[Encrypt] ${topic} v2`];
    if (v < 7) return { subject: subjects[v], from, to: [to], why: `sender flag in the subject: ${subjects[v].replace(topic, '').trim()}`, text: body };
    if (v === 7) return { subject: topic, from, to: [to], headers: [['X-Sealpost-Encrypt', 'yes']], why: 'header X-Sealpost-Encrypt: yes', text: body };
    if (v === 8) return { subject: topic, from, to: [to], headers: [['Sensitivity', 'Company-Confidential']], why: 'Sensitivity: Company-Confidential', text: body };
    return { subject: topic, from, to: [to], headers: [['Sensitivity', 'Private']], why: 'Sensitivity: Private', text: body };
  },
};

export { phone };
