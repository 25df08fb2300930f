#!/bin/sh
# test_lexicons.sh - check the health lexicons in data/lexicons/.
#
# What a user of the DLP scanner relies on: each file is one entry per line,
# sorted in byte order, unique, in the documented character set; the ICD list
# holds every FY2026 code; known drug and clinical terms are present and
# ordinary words ("regular", "care", a given name) are not; the weak terms
# stay out of the strong list. When the shared data is present the files are
# rebuilt in a temporary directory and must be byte-identical (reproducible).
#
# Usage: tests/unit/test_lexicons.sh [REPO_DIR] [SHARED_DATA_DIR]
set -eu

repo=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
data=${2:-$repo/../shared/data}
lex=$repo/data/lexicons
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# check_format FILE REGEX: sorted (C locale), unique, every line matches.
check_format() {
	f=$lex/$1
	[ -s "$f" ] || { fail "$f is missing or empty: run scripts/make-lexicons"; return; }
	LC_ALL=C sort -c -u "$f" 2>/dev/null || fail "$1 is not sorted and unique (LC_ALL=C sort -u)"
	bad=$(LC_ALL=C grep -cvE "$2" "$f" || true)
	[ "$bad" = 0 ] || fail "$1: $bad lines do not match $2, e.g. $(LC_ALL=C grep -vE "$2" "$f" | head -3 | tr '\n' ' ')"
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || fail "$1 does not end with a newline"
}

# has FILE ENTRY... : each entry is a whole line of FILE.
has() {
	f=$1
	shift
	for e in "$@"; do
		grep -qxF -- "$e" "$lex/$f" || fail "$f lacks '$e'"
	done
}

# lacks FILE ENTRY... : no entry is a line of FILE.
lacks() {
	f=$1
	shift
	for e in "$@"; do
		if grep -qxF -- "$e" "$lex/$f"; then fail "$f has '$e', which it must not"; fi
	done
}

term='^[a-z][a-z0-9'"'"' -]{2,58}[a-z0-9]$'
check_format icd10cm-2026.txt '^[A-Z][0-9A-Z]{2,6}$'
check_format drugs.txt '^[a-z][a-z'"'"'-]{2,}[a-z]$'
check_format clinical.txt "$term"
check_format clinical-weak.txt "$term"

n=$(wc -l <"$lex/icd10cm-2026.txt")
[ "$n" -eq 74719 ] || fail "icd10cm-2026.txt has $n codes, expected 74719 (FY2026)"
[ -s "$lex/SOURCE.md" ] || fail "data/lexicons/SOURCE.md is missing"

# No multiword entry has more than 4 words or a double space.
if grep -qE '(\S+ ){4}\S+|  ' "$lex/clinical.txt" "$lex/clinical-weak.txt"; then
	fail "a clinical term has more than 4 words or a double space"
fi

has icd10cm-2026.txt E119 I10 U071 Z20822 M3581 C50911 F329 F32A O80 Z3A01
lacks icd10cm-2026.txt E11.9 e119 E11 A00 ABC1
has drugs.txt metformin lisinopril atorvastatin insulin aspirin prozac \
	acetaminophen amoxicillin adalimumab abilify ozempic
lacks drugs.txt regular extra strength plus care relief allergy heather \
	camila sodium hydrochloride chloride water alcohol oxygen kit
has clinical.txt biopsy chemotherapy dialysis colonoscopy 'mri scan' hba1c \
	diagnosis prognosis 'lab results' 'type 2 diabetes mellitus' \
	'chronic kidney disease' pneumonia melanoma 'multiple sclerosis' \
	'malignant neoplasm of breast' hepatitis schizophrenia
lacks clinical.txt cancer diabetes flu surgery hospital 'breast cancer' \
	'cancer fundraising' fundraising multiple benign regular other \
	unspecified 'air conditioner' meeting invoice
has clinical-weak.txt cancer diabetes influenza surgery 'breast cancer' \
	'heart attack' patient
lacks clinical-weak.txt 'cancer fundraising' fundraising meeting invoice \
	other adult school blood

# A term counts once: the strong and weak lists do not overlap, and the
# clinical lists do not repeat drug names.
for pair in 'clinical.txt clinical-weak.txt' 'clinical.txt drugs.txt' \
	'clinical-weak.txt drugs.txt'; do
	set -- $pair
	both=$(LC_ALL=C comm -12 "$lex/$1" "$lex/$2" | head -3 | tr '\n' ' ')
	[ -z "$both" ] || fail "$1 and $2 share entries: $both"
done

# Reproducible: a rebuild from the shared data gives the same bytes.
if [ -d "$data/icd10cm_fy2026_codes" ] && [ -r /usr/share/dict/american-english ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	python3 "$repo/scripts/make-lexicons" "$data" --out "$tmp"
	for f in icd10cm-2026.txt drugs.txt clinical.txt clinical-weak.txt; do
		cmp -s "$tmp/$f" "$lex/$f" || fail "$f differs from a rebuild: run scripts/make-lexicons $data"
	done
else
	echo "SKIP rebuild check: $data or /usr/share/dict/american-english is missing" >&2
fi

size=$(cat "$lex"/* | wc -c)
[ "$size" -lt 3000000 ] || fail "data/lexicons is $size bytes, over the 3 MB budget"

if [ "$fails" -ne 0 ]; then
	echo "test_lexicons: $fails failure(s)" >&2
	exit 1
fi
echo "test_lexicons: ok"
