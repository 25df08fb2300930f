// data.mjs - the clinical vocabulary the corpus draws on: ICD-10-CM FY2026
// codes (with FY2023 long descriptions where the code has one) and drug
// names that appear in the FDA Drugs@FDA product list. Both come from
// ../shared/data (override with SEALPOST_SHARED_DATA).

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';

// Categories common in real correspondence (diabetes, hypertension, asthma,
// depression, cancer, CKD, ...): the corpus samples codes under these.
const ICD_PREFIXES = ['E11', 'E10', 'I10', 'I25', 'I48', 'I50', 'J44', 'J45', 'F32', 'F33', 'F41',
  'F90', 'M54', 'M17', 'N18', 'C50', 'C34', 'C61', 'K21', 'K50', 'G47', 'G43', 'E78', 'E66', 'Z79',
  'O24', 'R07', 'R51', 'L40', 'B20', 'F10', 'F11', 'G40', 'N39', 'E03', 'D50', 'S52', 'M81'];

// Generic and brand names of common drugs; each is kept only if the FDA
// list has it (as active ingredient or brand), so every name is real.
const DRUG_CANDIDATES = ['metformin', 'lisinopril', 'atorvastatin', 'amlodipine', 'levothyroxine',
  'sertraline', 'omeprazole', 'gabapentin', 'warfarin', 'prednisone', 'albuterol',
  'hydrochlorothiazide', 'losartan', 'simvastatin', 'tamoxifen', 'methotrexate', 'apixaban',
  'furosemide', 'clopidogrel', 'escitalopram', 'fluoxetine', 'montelukast', 'pantoprazole',
  'tramadol', 'oxycodone', 'donepezil', 'carvedilol', 'spironolactone', 'lamotrigine', 'quetiapine',
  'risperidone', 'semaglutide', 'empagliflozin', 'rivaroxaban', 'buprenorphine', 'zolpidem',
  'Lipitor', 'Zoloft', 'Eliquis', 'Xarelto', 'Synthroid', 'Lantus', 'Ozempic', 'Jardiance',
  'Prozac', 'Seroquel', 'Plavix', 'Glucophage'];

export function loadData() {
  const base = process.env.SEALPOST_SHARED_DATA || new URL('../../../../../shared/data/', import.meta.url).pathname;
  const codes = readFileSync(join(base, 'icd10cm_fy2026_codes/icd10cm_codes_2026.txt'), 'utf8')
    .split('\n').map((s) => s.trim()).filter(Boolean);
  const desc = JSON.parse(gunzipSync(readFileSync(join(base, 'icd10cm_fy2023_desc/icd10.json.gz'))).toString('utf8'));
  const icd = codes
    .filter((c) => ICD_PREFIXES.includes(c.slice(0, 3)) && desc[c] && desc[c][1].length < 90)
    .map((c) => ({ code: c.length > 3 ? `${c.slice(0, 3)}.${c.slice(3)}` : c, desc: desc[c][1] }));
  const products = readFileSync(join(base, 'drugsatfda_products_2022/Products.txt'), 'utf8');
  const upper = products.toUpperCase();
  const drugs = DRUG_CANDIDATES.filter((d) => new RegExp(`\\b${d.toUpperCase()}\\b`).test(upper));
  const codeSet = new Set(codes);
  return { icd, drugs, codeSet };
}
