// The console's audio: the microphone (asked for once per session and kept), the WebRTC
// connection to the engine, the remote audio's playback, device selection, mute, the
// microphone's level and the received audio's spectrum (for the browser test).
//
// The engine is ICE-lite with its own host candidate in the answer, so the connection has no
// STUN or TURN servers and no trickling: the offer is sent once ICE gathering is complete.

import { toneShare, rms, meterReading } from './spectrum.mjs';

/** Gathering host candidates takes milliseconds; this only bounds a browser that stalls. */
const GATHER_LIMIT_MS = 3000;
/** 48 kHz / 4096 ≈ 11.7 Hz per bin: fine enough to tell test tones apart. */
const REMOTE_FFT_SIZE = 4096;
/** Codecs the engine relays to the caller without transcoding, preferred in the offer. */
const PREFERRED_CODECS = ['audio/PCMU', 'audio/PCMA'];

export function createMedia({ audioElement }) {
  let micStream = null;
  let micDeviceId = '';
  let muted = false;
  let pc = null;
  let sender = null;
  let context = null;
  let micAnalyser = null;
  let micSource = null;
  let remoteAnalyser = null;
  let remoteSource = null;
  let onConnectionFailed = () => {};

  function audioContext() {
    if (!context) context = new AudioContext();
    return context;
  }

  function constraints() {
    const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (micDeviceId) audio.deviceId = { exact: micDeviceId };
    return { audio, video: false };
  }

  async function microphone() {
    if (!micStream) {
      micStream = await navigator.mediaDevices.getUserMedia(constraints());
      applyMute();
      watchMicrophone();
    }
    return micStream;
  }

  function micTrack() {
    return micStream ? micStream.getAudioTracks()[0] ?? null : null;
  }

  function applyMute() {
    const track = micTrack();
    if (track) track.enabled = !muted;
  }

  function watchMicrophone() {
    if (micSource) micSource.disconnect();
    const ctx = audioContext();
    micSource = ctx.createMediaStreamSource(micStream);
    micAnalyser = ctx.createAnalyser();
    micAnalyser.fftSize = 1024;
    micSource.connect(micAnalyser);
  }

  function watchRemote(stream) {
    if (remoteSource) remoteSource.disconnect();
    const ctx = audioContext();
    remoteSource = ctx.createMediaStreamSource(stream);
    remoteAnalyser = ctx.createAnalyser();
    remoteAnalyser.fftSize = REMOTE_FFT_SIZE;
    remoteAnalyser.smoothingTimeConstant = 0.3;
    // Analysed only: the <audio> element plays it (and must, or Chrome delivers silence to
    // Web Audio from a remote WebRTC stream).
    remoteSource.connect(remoteAnalyser);
  }

  function preferG711(transceiver) {
    const capabilities = globalThis.RTCRtpReceiver?.getCapabilities?.('audio');
    if (!capabilities || typeof transceiver.setCodecPreferences !== 'function') return;
    const rank = (codec) => {
      const i = PREFERRED_CODECS.indexOf(codec.mimeType);
      return i === -1 ? PREFERRED_CODECS.length : i;
    };
    const codecs = [...capabilities.codecs].sort((a, b) => rank(a) - rank(b));
    try {
      transceiver.setCodecPreferences(codecs);
    } catch {
      // Keeping the browser's order is fine: the engine picks from the offer.
    }
  }

  function closePeer() {
    if (pc) {
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
    pc = null;
    sender = null;
  }

  return {
    /**
     * A new connection from the (kept) microphone; resolves to the complete SDP offer.
     * Asking for the microphone first also lets the browser put its real host addresses
     * in the offer instead of mDNS names.
     */
    async offer() {
      const stream = await microphone();
      closePeer();
      const connection = new RTCPeerConnection({ iceServers: [] });
      pc = connection;
      const track = micTrack();
      sender = connection.addTrack(track, stream);
      const transceiver = connection.getTransceivers().find((t) => t.sender === sender);
      if (transceiver) preferG711(transceiver);
      connection.ontrack = (event) => {
        const remote = event.streams[0] ?? new MediaStream([event.track]);
        audioElement.srcObject = remote;
        audioElement.play().catch(() => {});
        watchRemote(remote);
      };
      connection.onconnectionstatechange = () => {
        if (connection === pc && connection.connectionState === 'failed') onConnectionFailed();
      };
      await connection.setLocalDescription(await connection.createOffer());
      await gatheringComplete(connection);
      return connection.localDescription.sdp;
    },

    async acceptAnswer(sdp) {
      if (!pc) throw new Error('no offer is pending');
      await pc.setRemoteDescription({ type: 'answer', sdp });
    },

    /** Called when an established connection fails (the console then offers anew). */
    onFailure(callback) {
      onConnectionFailed = callback;
    },

    setMuted(on) {
      muted = Boolean(on);
      applyMute();
    },

    isMuted() {
      return muted;
    },

    /** Switches the microphone, also in a connection that is up (no renegotiation). */
    async selectMicrophone(deviceId) {
      micDeviceId = deviceId;
      if (!micStream) return;
      const next = await navigator.mediaDevices.getUserMedia(constraints());
      const track = next.getAudioTracks()[0];
      if (sender && track) await sender.replaceTrack(track);
      for (const old of micStream.getTracks()) old.stop();
      micStream = next;
      applyMute();
      watchMicrophone();
    },

    /** Whether the output device can be chosen here (HTMLMediaElement.setSinkId). */
    canSelectOutput() {
      return typeof audioElement.setSinkId === 'function';
    },

    async selectOutput(deviceId) {
      if (typeof audioElement.setSinkId === 'function') await audioElement.setSinkId(deviceId);
      if (context && typeof context.setSinkId === 'function') await context.setSinkId(deviceId);
    },

    /** Microphones and outputs; labels are empty until the microphone has been allowed. */
    async devices() {
      if (!navigator.mediaDevices?.enumerateDevices) return { inputs: [], outputs: [] };
      const all = await navigator.mediaDevices.enumerateDevices();
      const pick = (kind) => all
        .filter((d) => d.kind === kind)
        .map((d) => ({ id: d.deviceId, label: d.label }));
      return { inputs: pick('audioinput'), outputs: pick('audiooutput') };
    },

    currentMicrophone() {
      return micTrack()?.getSettings?.().deviceId ?? micDeviceId;
    },

    /** The microphone's level for the meter, 0…1. */
    micLevel() {
      if (!micAnalyser) return 0;
      const samples = new Float32Array(micAnalyser.fftSize);
      micAnalyser.getFloatTimeDomainData(samples);
      return meterReading(rms(samples));
    },

    /** Share of the received audio's voice-band energy at `hz` (see spectrum.mjs). */
    remoteLevel(hz) {
      if (!remoteAnalyser || !context) return 0;
      const bins = new Float32Array(remoteAnalyser.frequencyBinCount);
      remoteAnalyser.getFloatFrequencyData(bins);
      return toneShare(bins, context.sampleRate, hz);
    },

    /** Web Audio waits for a user gesture in some browsers; called on every click and key. */
    resume() {
      if (context && context.state === 'suspended') context.resume().catch(() => {});
      if (audioElement.srcObject && audioElement.paused) audioElement.play().catch(() => {});
    },

    audioContext,

    /** Ends the connection and releases the microphone (sign-out, taken over). */
    close() {
      closePeer();
      if (micStream) for (const track of micStream.getTracks()) track.stop();
      micStream = null;
      if (micSource) micSource.disconnect();
      if (remoteSource) remoteSource.disconnect();
      micSource = null;
      micAnalyser = null;
      remoteSource = null;
      remoteAnalyser = null;
      audioElement.srcObject = null;
    },
  };
}

function gatheringComplete(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      pc.removeEventListener('icegatheringstatechange', check);
      clearTimeout(limit);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') finish();
    };
    const limit = setTimeout(finish, GATHER_LIMIT_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
