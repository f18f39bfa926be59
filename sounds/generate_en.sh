#!/usr/bin/env bash
# Regenerates the English prompts in sounds/en/ (and the one English sentence in
# the Japanese set, sounds/ja/language_offer.wav) with flite and sox.
#
# A script of its own rather than a mode of generate.sh: it needs neither Open
# JTalk nor the Mei voice download, and a LANG=en switch would collide with the
# locale variable every shell already sets.
#
# The WAVs are committed, so a fresh machine needs no TTS; run this only to
# change a text, then listen and commit the result.
#
#   sudo apt-get install -y flite sox
#   bash sounds/generate_en.sh                  # all prompts
#   bash sounds/generate_en.sh greeting menu    # only the named ones
#   bash sounds/generate_en.sh language_offer   # only ja/language_offer.wav
#
# Settings (environment):
#   FLITE_VOICE   flite voice (default "slt": cmu_us_slt, built into Debian's flite)
#   STRETCH       flite duration_stretch (default 1.1: a little slower reads
#                 better over a phone line, like SPEED 0.95 for the Japanese set)
#
# Every file in sounds/ja/ has a twin of the same name here (numbers/ too), so a
# dialplan language that points at sounds/en finds every prompt the Japanese
# flow plays. Output: 8 kHz, mono, 16-bit PCM WAV, as for sounds/ja.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/en"
voice=${FLITE_VOICE:-slt}
stretch=${STRETCH:-1.1}

die() { echo "generate_en.sh: $*" >&2; exit 1; }

for tool in flite sox soxi; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install flite sox)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# say DEST LEAD TAIL TEXT — synthesise TEXT into DEST with LEAD/TAIL seconds of
# silence around the trimmed speech. The sox chain is generate.sh's, so both
# languages have the same band, trim and -3 dBFS peak level.
say() {
    local dest=$1 lead=$2 tail=$3 text=$4
    mkdir -p "$(dirname "$dest")"
    printf '%s\n' "$text" >"$work/text.txt"
    flite -voice "$voice" --setf duration_stretch="$stretch" -f "$work/text.txt" -o "$work/raw.wav"
    sox -D "$work/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$dest" \
        gain -6 highpass 100 rate -v 8000 \
        silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse \
        gain -n -3 pad "$lead" "$tail"
    echo "${dest#"$here"/}: $(soxi -D "$dest") s  $text"
}

# Pads as in generate.sh: a prompt plays alone; a fragment is joined to others
# into one sentence; a sentence end is followed by another sentence.
prompt() { say "$out/$1.wav" 0.2 0.4 "$2"; }
fragment() { say "$out/$1.wav" 0.03 0.05 "$2"; }
sentence_end() { say "$out/$1.wav" 0.03 0.4 "$2"; }

# Texts: the Japanese ones of generate.sh, translated. Times and dates are
# written out in words because flite reads "8:30" and "29th" unreliably;
# "J-LIS" is written as it is said ("Jay-Liss"), not letter by letter.
declare -A texts=(
    [greeting]="Thank you for calling. This is the Zama City My Number Card call center."
    [outside_hours]="Thank you for calling. We are closed for today. Our hours are from eight thirty in the morning to eight in the evening, and we are also open on weekends and public holidays. We are sorry, but please call again during our opening hours."
    [closed_year_end]="Thank you for calling. We are closed for the New Year holidays, from December twenty-ninth to January third. Please call again on January fourth, from eight thirty in the morning."
    [closed_special]="Thank you for calling. We are closed today. We apologize for the inconvenience. Please call again another day."
    [closed_holiday]="Thank you for calling. We are closed today for a public holiday. Please call again on the next business day."
    [please_wait]="All our lines are very busy at the moment. Please stay on the line."
    [transfer_city]="We will now connect you to the city office in charge. Please stay on the line."
    [goodbye]="Thank you for calling. Goodbye."
    [recording_notice]="This call will be recorded to improve the quality of our service."
    [jlis_maintenance]="Today, some services are not available because of system maintenance by Jay-Liss. We apologize for the inconvenience, and thank you for your understanding."
    [menu]="For questions about applying for or receiving your My Number Card, press 1. For all other questions, press 2."
    [invalid_choice]="The number you entered is not valid. Please choose again."
    [city_closed]="We are sorry. The city office in charge is open on weekdays, from eight thirty in the morning to five fifteen in the afternoon. Please call again during those hours."
    [transfer_failed]="We are sorry. We could not connect you to the office in charge. Please try again later."
    [no_operator]="We are unable to connect you to an operator at the moment."
    # The callback step (on_early_limit): the number the caller used is kept on the record.
    [callback_taken]="We have taken your request for a call back. The city will call you back on the next business day, at the number you are calling from. Thank you for calling."
    # Answers to an operator's feature code (*50, *51, *52) on a desk phone.
    [feature_paused]="You are now on a break."
    [feature_available]="You are now available for calls."
    [feature_logged_out]="You are now logged out."
    [feature_refused]="This phone is not registered."
    # Only the twin of ja/language_offer; an English caller's flow has no reason to play it.
    [language_offer]="For English, please press 9."
)

# Queue announcements, spliced like the Japanese ones (crates/dialplan/src/announce.rs):
# "You are currently" + "number 3" + "in line." and
# "The estimated waiting time is" + "about 5 minutes." + "Thank you for your patience."
# English needs no counter forms, but the same file names keep one composition
# for every language. "number 3" rather than "third": ordinals as short as
# "first" are under 0.2 s of speech and get lost between the joins. Japanese
# ends the wait sentence with a bare "です。"; English has nothing to say there,
# so the minutes end the sentence themselves (full stop, a breath after) and
# wait_suffix is a short closing sentence of its own.
declare -A fragments=(
    [numbers/position_prefix]="You are currently"
    [numbers/wait_prefix]="The estimated waiting time is"
)
for n in $(seq 1 30); do fragments[numbers/position_$n]="number $n"; done
declare -A sentence_ends=(
    [numbers/position_suffix]="in line."
    [numbers/wait_suffix]="Thank you for your patience."
    [numbers/position_many]="Many callers are waiting at the moment."
    [numbers/wait_over_hour]="The estimated waiting time is more than one hour."
    [numbers/wait_soon]="You will be connected shortly."
    [numbers/wait_minutes_1]="about 1 minute."
)
for n in $(seq 2 60); do sentence_ends[numbers/wait_minutes_$n]="about $n minutes."; done

wanted() {
    local name
    for name in "${selected[@]}"; do
        [[ "$name" == "$1" || "$name" == "${1#numbers/}" ]] && return 0
    done
    return 1
}

selected=("$@")
mkdir -p "$out/numbers"
for name in $(printf '%s\n' "${!texts[@]}" | sort); do
    if [[ ${#selected[@]} -eq 0 ]] || wanted "$name"; then prompt "$name" "${texts[$name]}"; fi
done
for name in $(printf '%s\n' "${!fragments[@]}" | sort -V); do
    if [[ ${#selected[@]} -eq 0 ]] || wanted "$name"; then fragment "$name" "${fragments[$name]}"; fi
done
for name in $(printf '%s\n' "${!sentence_ends[@]}" | sort -V); do
    if [[ ${#selected[@]} -eq 0 ]] || wanted "$name"; then sentence_end "$name" "${sentence_ends[$name]}"; fi
done
# The Japanese menu's offer of English, spoken in English (played from sounds/ja).
if [[ ${#selected[@]} -eq 0 ]] || wanted language_offer; then
    say "$here/ja/language_offer.wav" 0.2 0.4 "${texts[language_offer]}"
fi
# Hold music has no language: the English set plays the same file.
if [[ ${#selected[@]} -eq 0 ]] || wanted hold_music; then
    [[ -f "$here/ja/hold_music.wav" ]] || die "ja/hold_music.wav missing: run generate.sh hold_music first"
    cp "$here/ja/hold_music.wav" "$out/hold_music.wav"
    echo "en/hold_music.wav: copied from ja/"
fi
