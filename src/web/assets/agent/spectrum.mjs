// Energy of one frequency in an AnalyserNode spectrum, relative to the rest of the voice band.
// The browser test uses it (window.madoguchi.remoteLevel) to tell which tone the console
// receives: a clean tone at `hz` gives close to 1, silence or another tone close to 0.

/** Voice band the share is taken of (G.711 carries up to 4 kHz). */
export const BAND_LOW_HZ = 100;
export const BAND_HIGH_HZ = 4000;
/** The analyser's Blackman window spreads a pure tone over about ±3 bins. */
export const TONE_HALF_WIDTH_BINS = 3;

/**
 * Share (0…1) of the band's power that lies within ±TONE_HALF_WIDTH_BINS of `hz`.
 * `decibels` is AnalyserNode.getFloatFrequencyData's output (dB per bin, -Infinity for none),
 * `sampleRate` the AudioContext's; bin i is centred on i · sampleRate / (2 · bins).
 */
export function toneShare(decibels, sampleRate, hz) {
  const bins = decibels.length;
  if (!bins || !(sampleRate > 0) || !(hz > 0)) return 0;
  const binHz = sampleRate / (2 * bins);
  const target = Math.round(hz / binHz);
  const low = Math.max(0, Math.floor(BAND_LOW_HZ / binHz));
  const high = Math.min(bins - 1, Math.ceil(BAND_HIGH_HZ / binHz));
  let band = 0;
  let tone = 0;
  for (let i = low; i <= high; i += 1) {
    const db = decibels[i];
    const power = Number.isFinite(db) ? 10 ** (db / 10) : 0;
    band += power;
    if (Math.abs(i - target) <= TONE_HALF_WIDTH_BINS) tone += power;
  }
  return band > 0 ? tone / band : 0;
}

/** Root-mean-square of time-domain samples (−1…1), for the microphone's level meter. */
export function rms(samples) {
  if (!samples.length) return 0;
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

/** A level meter's reading (0…1) for an RMS value: −60 dBFS and below shows empty. */
export function meterReading(rmsValue) {
  if (!(rmsValue > 0)) return 0;
  const db = 20 * Math.log10(rmsValue);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}
