// ser-serve's capture: the microphone's channels downmixed, clamped to [-1, 1] and sent to the
// page as 16-bit PCM in 20 ms frames, at the AudioContext's rate (16 kHz when the browser can
// resample the microphone itself; otherwise its own rate, which the start message states).
class SerCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.round(sampleRate / 50);
    this.frame = new Int16Array(this.size);
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const n = input[0].length;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let c = 0; c < input.length; c++) sum += input[c][i];
      const x = Math.max(-1, Math.min(1, sum / input.length));
      this.frame[this.filled++] = x < 0 ? Math.round(x * 32768) : Math.round(x * 32767);
      if (this.filled === this.size) {
        this.port.postMessage(this.frame.buffer, [this.frame.buffer]); // detaches this.frame
        this.frame = new Int16Array(this.size);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("ser-capture", SerCapture);
