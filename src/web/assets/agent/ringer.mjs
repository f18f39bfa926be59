// A soft ring while a call is offered, made with Web Audio (no sound files): two short
// 440/480 Hz bursts every three seconds, quiet enough not to startle a headset wearer.

const PERIOD_MS = 3000;
const BURST_S = 0.4;
const GAP_S = 0.2;
const LEVEL = 0.06;

export function createRinger(audioContext) {
  let timer = null;

  function burst() {
    let ctx;
    try {
      ctx = audioContext();
    } catch {
      return;
    }
    if (ctx.state === 'suspended') return;
    const gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    const start = ctx.currentTime + 0.02;
    for (const offset of [0, BURST_S + GAP_S]) {
      gain.gain.setValueAtTime(LEVEL, start + offset);
      gain.gain.setValueAtTime(0, start + offset + BURST_S);
    }
    const end = start + 2 * BURST_S + GAP_S;
    for (const hz of [440, 480]) {
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      osc.connect(gain);
      osc.start(start);
      osc.stop(end);
      osc.onended = () => {
        osc.disconnect();
        gain.disconnect();
      };
    }
  }

  return {
    /** Rings while `on`; calling it again with the same value changes nothing. */
    set(on) {
      if (on && timer === null) {
        burst();
        timer = setInterval(burst, PERIOD_MS);
      } else if (!on && timer !== null) {
        clearInterval(timer);
        timer = null;
      }
    },
  };
}
