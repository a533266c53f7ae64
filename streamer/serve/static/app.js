// ser-serve's page: the microphone (or a dropped recording) streamed to /v1/stream, and the
// server's results on a live timeline. No build step, no dependencies.
"use strict";

const COLOURS = {
  angry: "#d62728", fearful: "#9467bd", sad: "#1f77b4", happy: "#e6b800", surprised: "#ff7f0e",
  neutral: "#8c8c8c", calm: "#2ca02c", disgust: "#8c564b", boredom: "#17becf",
};
const REPLAY_SPEED = 4; // a dropped file is sent at 4x real time (the server allows 10x)
const WINDOW_MS = 60000; // the strip shows the last minute
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const state = { ws: null, stopCapture: null, finals: [], events: 0, frames: 0, ctx: null };
window.serPage = state; // for tests and the curious

function status(text) { $("status").textContent = text; }

function socketUrl() {
  const url = new URL("/v1/stream", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const token = params.get("token");
  if (token) url.searchParams.set("token", token);
  return url.href;
}

function connect(rate, onOpen) {
  const ws = new WebSocket(socketUrl());
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    ws.send(JSON.stringify({
      type: "start", partials: true, metadata: { client: "ser-serve page" },
      audio: { encoding: "pcm_s16le", sample_rate: rate, channels: 1 },
    }));
    onOpen(ws);
  };
  ws.onmessage = (message) => onEvent(JSON.parse(message.data));
  ws.onclose = (e) => {
    if (!$("status").textContent.startsWith("session closed")) {
      status(`connection closed (${e.code}${e.reason ? ": " + e.reason : ""})`);
    }
    stopCapture();
  };
  state.ws = ws;
  $("mic").disabled = true;
  $("stop").disabled = false;
}

function onEvent(event) {
  state.events += 1;
  if (event.type === "session.started") {
    status(`session ${event.session_id}: ${event.config.audio.sample_rate} Hz, ` +
           `model ${event.model.name}`);
  } else if (event.type === "partial") {
    $("partial").textContent = `speaking… ${describe(event)}`;
  } else if (event.type === "final") {
    addFinal(event);
  } else if (event.type === "error" || event.type === "warning") {
    status(`${event.type}: ${event.code}: ${event.message}`);
  } else if (event.type === "session.closed") {
    status(`session closed: ${event.reason}, ${event.utterances} utterances`);
  }
}

function describe(event) {
  const pct = Math.round(event.confidence * 100);
  return event.shown === "uncertain" ? `uncertain (leaning ${event.label} ${pct} %)`
                                      : `${event.label} ${pct} %`;
}

function addFinal(event) {
  state.finals.push(event);
  $("partial").textContent = "";
  const li = document.createElement("li");
  li.className = "final" + (event.shown === "uncertain" ? " uncertain" : "");
  li.dataset.startMs = event.start_ms;
  li.dataset.endMs = event.end_ms;
  li.dataset.label = event.label;
  li.style.borderLeftColor = COLOURS[event.label] || "#999";
  const side = event.channel ? ` (channel ${event.channel})` : "";
  li.textContent = `${(event.start_ms / 1000).toFixed(2)}–${(event.end_ms / 1000).toFixed(2)} s` +
                   `  ${describe(event)}${side}`;
  $("timeline").appendChild(li);
  drawStrip();
}

function drawStrip() {
  const strip = $("strip");
  strip.textContent = "";
  const end = Math.max(WINDOW_MS, ...state.finals.map((f) => f.end_ms));
  const start = end - WINDOW_MS;
  for (const f of state.finals.filter((f) => f.end_ms > start)) {
    const span = document.createElement("span");
    span.style.left = `${(100 * (f.start_ms - start)) / WINDOW_MS}%`;
    span.style.width = `${(100 * (f.end_ms - f.start_ms)) / WINDOW_MS}%`;
    span.style.background = COLOURS[f.label] || "#999";
    span.style.opacity = f.shown === "uncertain" ? 0.45 : 1;
    span.title = describe(f);
    strip.appendChild(span);
  }
}

function stopCapture() {
  if (state.stopCapture) state.stopCapture();
  state.stopCapture = null;
  $("mic").disabled = false;
  $("stop").disabled = true;
}

function stop() {
  stopCapture();
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send('{"type":"stop"}');
}

async function startMic() {
  const media = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  let ctx, source;
  try { // 16 kHz when the browser resamples the microphone itself (Chromium does)
    ctx = new AudioContext({ sampleRate: 16000 });
    source = ctx.createMediaStreamSource(media);
  } catch (e) { // otherwise the device's rate, stated in the start message
    ctx = new AudioContext();
    source = ctx.createMediaStreamSource(media);
  }
  state.ctx = ctx;
  await ctx.audioWorklet.addModule("worklet.js");
  const node = new AudioWorkletNode(ctx, "ser-capture");
  const mute = ctx.createGain();
  mute.gain.value = 0;
  source.connect(node).connect(mute).connect(ctx.destination);
  connect(ctx.sampleRate, (ws) => {
    node.port.onmessage = (m) => {
      state.frames += 1;
      if (ws.readyState === WebSocket.OPEN) ws.send(m.data);
    };
  });
  state.stopCapture = () => { media.getTracks().forEach((t) => t.stop()); ctx.close(); };
}

async function replay(file) {
  const ctx = new AudioContext();
  const buffer = await ctx.decodeAudioData(await file.arrayBuffer());
  ctx.close();
  const mono = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = buffer.getChannelData(c);
    for (let i = 0; i < data.length; i++) mono[i] += data[i] / buffer.numberOfChannels;
  }
  const pcm = Int16Array.from(mono, (x) => Math.round(Math.max(-1, Math.min(1, x)) * 32767));
  const rate = buffer.sampleRate;
  let stopped = false;
  state.stopCapture = () => { stopped = true; };
  connect(rate, async (ws) => {
    const step = Math.round(rate / 10);
    for (let at = 0; at < pcm.length && !stopped; at += step) {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(pcm.slice(at, at + step));
      await new Promise((r) => setTimeout(r, 100 / REPLAY_SPEED));
    }
    if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"stop"}');
  });
}

function fail(e) { status(`error: ${e.message || e}`); stopCapture(); }

$("mic").onclick = () => startMic().catch(fail);
$("stop").onclick = stop;
$("file").onchange = (e) => { if (e.target.files[0]) replay(e.target.files[0]).catch(fail); };
const drop = $("drop");
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files[0]) replay(e.dataTransfer.files[0]).catch(fail);
};
if (params.get("autostart") === "mic") startMic().catch(fail);
