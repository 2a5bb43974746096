// The live page: microphone -> 16-bit PCM frames -> WS /v1/stream -> bars, beta, heatmaps.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { ws: null, audio: null, stream: null, results: 0 };

// Opened as /?token=T, the server set an HttpOnly cookie for this page's files and stream:
// take the token out of the address bar (and history) and keep it out of the stream URL,
// so it never reaches a log line.
if (new URLSearchParams(location.search).has("token")) {
  history.replaceState(null, "", location.pathname);
}

function streamUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/v1/stream`;
}

function setStatus(text, kind) {
  const el = $("status");
  el.textContent = text;
  el.className = "status " + (kind || "");
}

function toPcm16(floats) {
  const out = new Int16Array(floats.length);
  for (let i = 0; i < floats.length; i++) {
    const s = Math.max(-1, Math.min(1, floats[i]));
    out[i] = s < 0 ? s * 32768 : s * 32767;
  }
  return out;
}

async function start() {
  $("start").disabled = true;
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch (err) {
    setStatus("microphone refused: " + err.message, "error");
    $("start").disabled = false;
    return;
  }
  state.audio = new AudioContext();
  await state.audio.audioWorklet.addModule("/static/capture-worklet.js");
  const source = state.audio.createMediaStreamSource(state.stream);
  const node = new AudioWorkletNode(state.audio, "capture-processor");
  source.connect(node);
  const ws = new WebSocket(streamUrl());
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  ws.onopen = () => {
    const attribution = $("erasure").checked ? "erasure" : "attention";
    ws.send(JSON.stringify({ type: "start", sample_rate: state.audio.sampleRate, segmentation: "vad", maps: true, attribution }));
  };
  ws.onmessage = (event) => onMessage(JSON.parse(event.data));
  ws.onclose = (event) => {
    setStatus(`closed (${event.code}${event.reason ? ": " + event.reason : ""})`, event.code === 1000 ? "" : "error");
    stopAudio();
  };
  node.port.onmessage = (event) => {
    const floats = event.data;
    let energy = 0;
    for (const v of floats) energy += v * v;
    $("level").value = Math.min(1, 4 * Math.sqrt(energy / floats.length));
    if (ws.readyState === WebSocket.OPEN && state.ready) ws.send(toPcm16(floats).buffer);
  };
}

function stopAudio() {
  state.ready = false;
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  if (state.audio) state.audio.close();
  state.stream = state.audio = null;
  $("start").disabled = false;
  ["end", "stop", "send-text"].forEach((id) => ($(id).disabled = true));
}

function onMessage(msg) {
  if (msg.type === "ready") {
    state.ready = true;
    setStatus(`streaming at ${msg.sample_rate} Hz, vad ${msg.vad}`, "live");
    ["end", "stop", "send-text"].forEach((id) => ($(id).disabled = false));
  } else if (msg.type === "speech_start") {
    $("vad").textContent = "speech";
    $("vad").className = "vad speech";
  } else if (msg.type === "result") {
    $("vad").textContent = "silence";
    $("vad").className = "vad";
    showResult(msg);
  } else if (msg.type === "warning" || msg.type === "error" || msg.type === "notice") {
    setStatus(`${msg.type}: ${msg.message}`, msg.type === "error" ? "error" : "live");
  }
}

function showBars(result) {
  const bars = $("bars");
  bars.innerHTML = "";
  for (const emotion of result.emotions) {
    const p = result.probabilities[emotion] ?? 0;
    const row = document.createElement("div");
    row.className = "bar" + (result.predicted.includes(emotion) ? " on" : "");
    row.dataset.emotion = emotion;
    row.innerHTML = `<span>${emotion}</span><div class="track"><div class="fill" style="width:${(100 * p).toFixed(1)}%"></div></div><span>${p.toFixed(2)}</span>`;
    bars.appendChild(row);
  }
  const beta = result.beta_mean;
  $("beta-fill").style.left = beta === null ? "50%" : `calc(${(100 * beta).toFixed(1)}% - 2px)`;
  $("beta-value").textContent = beta === null ? "not defined for this model" : `beta = ${beta.toFixed(3)}`;
  $("live-transcript").textContent = result.transcript || "(no transcript)";
}

function frameLabels(result) {
  return (result.frame_times || []).map((t) => t[0].toFixed(2) + "s");
}

function showResult(msg) {
  const result = msg.result;
  showBars(result);
  state.results += 1;
  document.body.dataset.results = state.results;
  const card = document.createElement("div");
  card.className = "utterance";
  card.dataset.utterance = msg.utterance;
  const source = result.transcript_source ? ` (${result.transcript_source})` : "";
  card.innerHTML = `
    <div class="meta">utterance ${msg.utterance}: ${msg.start_s.toFixed(2)}-${msg.end_s.toFixed(2)} s of the stream,
      ended by ${msg.reason}, answered ${msg.server_timings_ms.since_end.toFixed(0)} ms after it closed</div>
    <div class="decision">${result.predicted.join(", ") || "no emotion above threshold"}</div>
    <div class="transcript">${escapeHtml(result.transcript || "(no transcript)")}${source}</div>
    <div class="meta">beta ${result.beta_mean === null ? "-" : result.beta_mean.toFixed(3)};
      top words: ${topWords(result)}; word map: ${escapeHtml(result.attribution_method)}</div>`;
  const signed = ["contribution", "erasure"].includes(result.attribution_method);
  const against = result.logits_centred ? ", read against the other emotions" : "";
  const how = signed ? ` (red raised it, blue lowered it${against})` : "";
  if (result.attribution && result.words.length) {
    const what = result.attribution_method === "erasure" ? "removing each word" : "the words";
    addHeatmap(card, result.attribution, result.emotions, result.words, `what ${what} did to each emotion${how}`, signed);
  } else if (result.frame_attribution) {
    addHeatmap(card, result.frame_attribution, result.emotions, frameLabels(result), `what the audio frames did to each emotion${how}`, signed);
  }
  if (result.alignment && result.words.length) {
    addHeatmap(card, result.alignment, result.words, frameLabels(result), "alignment: which audio frames each word attended to");
  }
  if (result.notes && result.notes.length) {
    const notes = document.createElement("div");
    notes.className = "notes";
    notes.textContent = result.notes.join(" ");
    card.appendChild(notes);
  }
  $("utterances").prepend(card);
}

function addHeatmap(card, matrix, rows, cols, title, signed = false) {
  const canvas = document.createElement("canvas");
  canvas.className = "heatmap";
  drawHeatmap(canvas, matrix, rows, cols, title, signed);
  card.appendChild(canvas);
}

function topWords(result) {
  const parts = [];
  for (const emotion of result.predicted) {
    const words = (result.top_words[emotion] || []).map((w) => w[0]);
    if (words.length) parts.push(`${emotion}: ${words.join(", ")}`);
  }
  return parts.length ? escapeHtml(parts.join("; ")) : "-";
}

function escapeHtml(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

function sendTranscript() {
  const text = $("transcript").value.trim();
  if (text && state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify({ type: "transcript", text }));
  }
}

$("start").addEventListener("click", start);
$("send-text").addEventListener("click", sendTranscript);
$("transcript").addEventListener("keydown", (e) => { if (e.key === "Enter") sendTranscript(); });
$("end").addEventListener("click", () => state.ws && state.ws.send(JSON.stringify({ type: "end_utterance" })));
$("stop").addEventListener("click", () => state.ws && state.ws.send(JSON.stringify({ type: "stop" })));
