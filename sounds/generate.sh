#!/usr/bin/env bash
# Regenerates the Japanese prompts in sounds/ja/ with Open JTalk and sox.
# The English set (sounds/en/) and ja/language_offer.wav, the Japanese menu's
# offer of English spoken in English, come from generate_en.sh (flite).
#
# The WAVs are committed, so a fresh machine needs no TTS; run this only to
# change a text or the voice, then listen and commit the result.
#
#   sudo apt-get install -y open-jtalk open-jtalk-mecab-naist-jdic sox
#   bash sounds/generate.sh            # all prompts
#   bash sounds/generate.sh greeting   # only the named ones
#
# Settings (environment):
#   OPEN_JTALK_DICT   naist-jdic folder (default: found with dpkg -L)
#   OPEN_JTALK_VOICE  .htsvoice file (default: "Mei" from the pyopenjtalk-plus
#                     wheel on PyPI, downloaded once into $VOICE_CACHE)
#   VOICE_CACHE       where the wheel's voice is kept (default ~/.cache/madoguchi-voice)
#   SPEED             open_jtalk -r speech rate (default 0.95: a little slower
#                     reads better over a phone line)
#
# Output: 8 kHz, mono, 16-bit PCM WAV — the rate G.711 is sent at, so the
# engine's resampler passes them through and the repo stays small.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/ja"
speed=${SPEED:-0.95}

# Pinned so that a re-run reproduces the committed files; any wheel of this
# release carries the same voice file.
voice_wheel="pyopenjtalk-plus==0.4.1.post10"
voice_sha256="f3be49a6838904a6c218790b64e07c3e83c1886e995dca284b413caab19184de"

die() { echo "generate.sh: $*" >&2; exit 1; }

for tool in open_jtalk sox; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install open-jtalk open-jtalk-mecab-naist-jdic sox)"
done

find_dict() {
    if [[ -n "${OPEN_JTALK_DICT:-}" ]]; then
        echo "$OPEN_JTALK_DICT"
        return
    fi
    local sys
    sys=$(dpkg -L open-jtalk-mecab-naist-jdic 2>/dev/null | grep '/sys\.dic$' | head -n1) ||
        true
    [[ -n "$sys" ]] || die "naist-jdic not found: install open-jtalk-mecab-naist-jdic or set OPEN_JTALK_DICT"
    dirname "$sys"
}

find_voice() {
    if [[ -n "${OPEN_JTALK_VOICE:-}" ]]; then
        echo "$OPEN_JTALK_VOICE"
        return
    fi
    local cache=${VOICE_CACHE:-$HOME/.cache/madoguchi-voice}
    local voice="$cache/mei_normal.htsvoice"
    if [[ ! -f "$voice" ]]; then
        mkdir -p "$cache"
        echo "downloading the Mei voice ($voice_wheel) into $cache" >&2
        python3 -m pip download --quiet --no-deps --only-binary=:all: \
            --python-version 3.11 --platform manylinux_2_28_x86_64 \
            -d "$cache/wheel" "$voice_wheel" >&2
        python3 - "$cache" <<'PY'
import glob, sys, zipfile
cache = sys.argv[1]
(wheel,) = glob.glob(cache + "/wheel/*.whl")
with zipfile.ZipFile(wheel) as z:
    for name in ("mei_normal.htsvoice", "LICENSE_mei_normal.htsvoice"):
        with open(f"{cache}/{name}", "wb") as f:
            f.write(z.read("pyopenjtalk/htsvoice/" + name))
PY
    fi
    echo "$voice_sha256  $voice" | sha256sum --check --quiet >&2 ||
        echo "generate.sh: warning: $voice differs from the voice the committed prompts were made with" >&2
    echo "$voice"
}

dict=$(find_dict)
voice=$(find_voice)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# say NAME LEAD TAIL TEXT — synthesise TEXT into $out/NAME.wav with LEAD/TAIL
# seconds of silence around the trimmed speech.
say() {
    local name=$1 lead=$2 tail=$3 text=$4
    local dest="$out/$name.wav"
    mkdir -p "$(dirname "$dest")"
    printf '%s\n' "$text" >"$work/text.txt"
    open_jtalk -x "$dict" -m "$voice" -r "$speed" -ow "$work/raw.wav" "$work/text.txt"
    # highpass: the voice's rumble below 100 Hz is lost on a phone line anyway
    # and only eats headroom; rate comes before gain so the level is measured
    # on what is actually sent; silence…reverse twice trims both ends so the
    # pads below are exact; gain -n -3 gives every prompt the same peak level;
    # gain -6 first is headroom for the filters' overshoot; -D keeps the silence digital
    # zero (no dither) so re-runs are bit-identical.
    sox -D "$work/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$dest" \
        gain -6 highpass 100 rate -v 8000 \
        silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse \
        gain -n -3 pad "$lead" "$tail"
    echo "$name.wav: $(soxi -D "$dest") s  $text"
}

# A prompt plays alone: some air before, a breath after.
prompt() { say "$1" 0.2 0.4 "$2"; }
# A fragment is concatenated with others into one sentence: keep the joins tight.
fragment() { say "$1" 0.03 0.05 "$2"; }
# The last fragment of a sentence (or a whole one among fragments): tight start, a
# breath after, so the next sentence of the announcement does not run on.
sentence_end() { say "$1" 0.03 0.4 "$2"; }

# Texts. Open JTalk reads "J-LIS" letter by letter, so it is spelt as spoken.
declare -A texts=(
    [greeting]="お電話ありがとうございます。こちらは座間市マイナンバーカード相談コールセンターです。"
    [outside_hours]="お電話ありがとうございます。本日の受付は終了しました。受付時間は、午前8時30分から午後8時までです。土日祝日も受け付けております。恐れ入りますが、受付時間内におかけ直しください。"
    [closed_year_end]="お電話ありがとうございます。年末年始の、12月29日から1月3日までは休業とさせていただいております。1月4日の午前8時30分以降に、おかけ直しください。"
    [closed_special]="お電話ありがとうございます。本日は臨時休業とさせていただいております。ご迷惑をおかけして申し訳ございません。恐れ入りますが、後日あらためておかけ直しください。"
    [closed_holiday]="お電話ありがとうございます。本日は祝日のため、休業しております。恐れ入りますが、翌営業日にあらためておかけ直しください。"
    [please_wait]="ただいま電話が大変混み合っております。このままお待ちください。"
    [transfer_city]="市の担当窓口におつなぎします。このままお待ちください。"
    [goodbye]="お電話ありがとうございました。失礼いたします。"
    [recording_notice]="品質向上のため、通話を録音させていただきます。"
    [jlis_maintenance]="本日は、ジェイリスのシステムメンテナンスのため、一部のサービスがご利用いただけません。ご不便をおかけしますが、ご了承ください。"
    [menu]="マイナンバーカードの申請や受け取りについてのお問い合わせは、1を、それ以外のお問い合わせは、2を、押してください。"
    [invalid_choice]="入力された番号が正しくありません。もう一度お選びください。"
    [city_closed]="申し訳ございません。市の担当窓口の受付時間は、平日の午前8時30分から午後5時15分までです。恐れ入りますが、受付時間内におかけ直しください。"
    [transfer_failed]="申し訳ございません。ただいま担当窓口におつなぎできませんでした。恐れ入りますが、しばらくしてからおかけ直しください。"
    [no_operator]="ただいま、オペレーターにおつなぎできません。"
    # The callback step (on_early_limit): the number the caller used is kept on the record.
    [callback_taken]="折り返しのお電話をご希望として承りました。おかけいただいた電話番号に、翌営業日に市からお電話いたします。お電話ありがとうございました。"
    # Answers to an operator's feature code (*50, *51, *52) on a desk phone.
    [feature_paused]="休憩に切り替えました。"
    [feature_available]="受付可能に切り替えました。"
    [feature_logged_out]="ログアウトしました。"
    [feature_refused]="この電話機は登録されていません。"
)

# Queue announcements are spliced from whole words, because a Japanese
# counter changes the number's sound (いっぷん, さんぷん, ろっぷん, はっぷん,
# じゅっぷん): "現在、" + "3番目" + "にお待ちいただいております。",
# "お待ち時間は" + "約5分" + "です。". Beyond the recorded numbers (31st, over 60
# minutes) and under a minute, a whole sentence replaces the spliced one. The
# engine's composition is crates/dialplan/src/announce.rs.
declare -A fragments=(
    [numbers/position_prefix]="現在、"
    [numbers/wait_prefix]="お待ち時間は"
)
for n in $(seq 1 30); do fragments[numbers/position_$n]="${n}番目"; done
for n in $(seq 1 60); do fragments[numbers/wait_minutes_$n]="約${n}分"; done
declare -A sentence_ends=(
    [numbers/position_suffix]="にお待ちいただいております。"
    [numbers/wait_suffix]="です。"
    [numbers/position_many]="現在、大変多くのお客様がお待ちです。"
    [numbers/wait_over_hour]="お待ち時間は、1時間以上の見込みです。"
    [numbers/wait_soon]="まもなくおつなぎします。"
)

# hold_music — ~20 s loop built from sine tones only: four chords of a
# I–vi–IV–V progression in C, each with four soft plucked melody notes on top.
# All tones sit inside the 300–3400 Hz telephone band or just below it.
hold_music() {
    # Synthesised at 32 kHz and filtered down, so the plucks' upper harmonics
    # are removed instead of folding back into the band as inharmonic tones.
    local dest="$out/hold_music.wav" note=1.25 chord=5 synth_rate=32000
    local -a pads=("261.63 329.63 392.00" "220.00 261.63 329.63" "349.23 440.00 523.25" "196.00 246.94 293.66")
    local -a tunes=("659.25 783.99 1046.50 783.99" "659.25 880.00 1046.50 880.00"
        "698.46 880.00 1046.50 880.00" "587.33 783.99 987.77 783.99")
    local i f parts=()
    for i in 0 1 2 3; do
        local -a tones=(${pads[$i]}) melody=()
        sox -D -n -r $synth_rate -c 1 -b 16 "$work/pad$i.wav" \
            synth $chord sine "${tones[0]}" synth $chord sine mix "${tones[1]}" \
            synth $chord sine mix "${tones[2]}" fade h 0.4 $chord 0.6 vol 0.25
        local j=0
        for f in ${tunes[$i]}; do
            sox -D -n -r $synth_rate -c 1 -b 16 "$work/m$i$j.wav" synth $note pluck "$f" fade q 0.005 $note 1.0 vol 0.5
            melody+=("$work/m$i$j.wav")
            j=$((j + 1))
        done
        sox -D "${melody[@]}" "$work/mel$i.wav"
        sox -D -m "$work/pad$i.wav" "$work/mel$i.wav" "$work/bar$i.wav"
        parts+=("$work/bar$i.wav")
    done
    # gain -n -14: background level, well under the speech prompts' -3 dBFS.
    sox -D "${parts[@]}" -r 8000 -c 1 -b 16 -e signed-integer "$dest" \
        lowpass 2500 rate -v 8000 gain -n -14
    echo "hold_music.wav: $(soxi -D "$dest") s"
}

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
for name in $(printf '%s\n' "${!sentence_ends[@]}" | sort); do
    if [[ ${#selected[@]} -eq 0 ]] || wanted "$name"; then sentence_end "$name" "${sentence_ends[$name]}"; fi
done
if [[ ${#selected[@]} -eq 0 ]] || wanted hold_music; then hold_music; fi
