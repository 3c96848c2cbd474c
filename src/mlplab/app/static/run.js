// Run page: a finished run's curves, pictures and diagnosis with a replay slider, or a live run's curves.
"use strict";

mlplab.header("runs");
const runName = decodeURIComponent(location.pathname.replace(/^\/run\//, ""));
const base = mlplab.apiRun(runName);
const state = { detail: null, at: null, digit: 0, unit: null, cell: null, seq: 0 };
const $ = (id) => document.getElementById(id);

document.title = `mlplab · ${runName}`;
$("title").textContent = runName;

// ---------------------------------------------------------------- loading

async function load() {
  let detail;
  try {
    detail = await mlplab.api(base);
  } catch (e) {
    $("summary").textContent = "";
    mlplab.showError($("error"), e);
    return;
  }
  state.detail = detail;
  renderHeader(detail);
  if (detail.complete) renderFinished(detail);
  else if (detail.live) startLive();
  else mlplab.showError($("error"), new Error(detail.error || "this run folder is incomplete: it has no model.npz."));
}

function renderHeader(d) {
  const status = d.live ? "live" : d.status;
  $("status").innerHTML = `<span class="badge ${mlplab.escape(status)}">${mlplab.escape(status)}</span>`;
  const c = d.config || {};
  const parts = [d.network, `${c.optimizer} lr ${c.lr}`, `batch ${c.batch_size}`,
                 `${d.iterations_done ?? 0} of ${c.iters} iterations`, `seed ${c.seed}`];
  if (c.train_size) parts.push(`${c.train_size} training images`);
  let text = parts.join(" · ");
  if (d.train_acc !== null && d.train_acc !== undefined) {
    text += ` — train ${mlplab.pct(d.train_acc)}, test ${mlplab.pct(d.test_acc)}${accuracyWhen(d)}`;
  }
  if (d.message) text += ` — ${d.message}`;
  $("summary").textContent = text;
  $("report-link").href = base + "/report.html";
  $("report-link").classList.toggle("hidden", !d.report);
  $("backprop-link").href = "/backprop/" + runName.split("/").map(encodeURIComponent).join("/");
  $("backprop-link").classList.toggle("hidden", !d.complete);
}

// The trainer evaluates the saved model after the last iteration; only a run that diverged between
// evaluations ends with an older measurement, and then the page says which.
function measuredSavedModel(d) {
  return Boolean(d.curves && d.curves.iterations.length && d.curves.iterations.at(-1) === d.iterations_done - 1);
}

function accuracyWhen(d) {
  if (d.live && d.lastEval !== undefined) return ` (evaluation after iteration ${d.lastEval})`;
  if (!d.curves || !d.curves.iterations.length) return "";
  if (measuredSavedModel(d)) return ` (final model, after ${d.iterations_done} iterations)`;
  return ` (last evaluation, iteration ${d.curves.iterations.at(-1)}; the saved weights were not measured)`;
}

// ---------------------------------------------------------------- live

// The summary, the live curves and (for a run this server trains) the pictures follow the stream: the
// header is redrawn from every event, the pictures at every evaluation.
function startLive() {
  $("live").classList.remove("hidden");
  if (state.detail.live_pictures) {
    $("finished").classList.remove("hidden");
    $("finished").classList.add("is-live");
  }
  const curves = new mlplab.LiveCurves($("live-acc"), $("live-loss"));
  mlplab.live = curves;
  mlplab.follow(runName, {
    onEvent: (event) => {
      curves.add(event);
      followSummary(event);
      if ((event.event === "loss" || event.event === "eval") && curves.iters) {
        $("live-note").textContent = `Training: iteration ${event.iteration + 1} of ${curves.iters}. ` +
          (state.detail.live_pictures
            ? `The pictures show the network at its latest evaluation (iteration ${state.detail.lastEval ?? "–"}).`
            : "The pictures appear when the run has finished (it trains outside this server).");
      }
      if (event.event === "eval" && state.detail.live_pictures) refreshLive();
    },
    onDone: (event) => {
      if (event.event === "end") {
        $("live-note").textContent = `The run ended (${event.status}); loading its pictures…`;
        waitForFolder(0);
      } else {
        $("live-note").textContent = event.message || "The live stream ended.";
      }
    },
  });
}

function followSummary(event) {
  const d = state.detail;
  if (event.event === "start") {
    d.config = { ...(d.config || {}), iters: event.iters };
  } else if (event.event === "loss" || event.event === "eval") {
    d.iterations_done = Math.max(d.iterations_done ?? 0, event.iteration + 1);
  }
  if (event.event === "eval") {
    d.train_acc = event.train_acc;
    d.test_acc = event.test_acc;
    d.lastEval = event.iteration;
  }
  renderHeader(d);
}

// One refresh at a time; evaluations that arrive meanwhile (a replayed stream) make one more.
const live = { busy: false, again: false };
async function refreshLive() {
  if (live.busy) { live.again = true; return; }
  live.busy = true;
  try { await refreshPictures(); } finally { live.busy = false; }
  if (live.again && state.detail.live) { live.again = false; refreshLive(); }
}

// The trainer sends `end` just before it writes history.json and model.npz: ask again until they are there.
async function waitForFolder(tries) {
  try {
    const detail = await mlplab.api(base);
    if (detail.complete) {
      $("live").classList.add("hidden");
      $("finished").classList.remove("is-live");
      state.detail = detail;
      renderHeader(detail);
      renderFinished(detail);
      return;
    }
  } catch (e) { /* try again */ }
  if (tries < 40) setTimeout(() => waitForFolder(tries + 1), 500);
  else mlplab.showError($("error"), new Error("the run ended but its folder is still incomplete; reload later."));
}

// ---------------------------------------------------------------- finished

function renderFinished(d) {
  $("finished").classList.remove("hidden");
  const slider = $("replay");
  const n = d.evaluations.length;
  slider.max = String(n); // 0..n-1: evaluations; n: the final model
  slider.value = String(n);
  slider.disabled = n === 0;
  slider.oninput = () => {
    const v = Number(slider.value);
    state.at = v >= n ? null : v;
    updateReplayLabel();
    scheduleReplay();
  };
  $("digit").max = String(d.n_test - 1);
  renderInsights(d);
  updateReplayLabel();
  drawCharts();
  refreshPictures();
  loadHealth();
}

function atQuery(extra = {}) {
  const params = new URLSearchParams({ theme: mlplab.theme(), ...extra });
  if (state.at !== null) params.set("at", String(state.at));
  return params.toString();
}

function markerIteration() {
  return state.at === null ? null : state.detail.evaluations[state.at];
}

function updateReplayLabel() {
  const d = state.detail;
  const c = d.curves;
  if (state.at === null) {
    const scores = measuredSavedModel(d)
      ? ` · train ${mlplab.pct(c.train_acc.at(-1), 1)} · test ${mlplab.pct(c.test_acc.at(-1), 1)}` : "";
    $("replay-label").textContent = `final model (after ${d.iterations_done} iterations)${scores}`;
    return;
  }
  const k = state.at;
  $("replay-label").textContent =
    // counted from 0, as `mlplab plot --at K`, the API's `at` and the figures' titles count them
    `evaluation ${k} of 0–${d.evaluations.length - 1} · iteration ${d.evaluations[k]} · ` +
    `train ${mlplab.pct(c.train_acc[k], 1)} · test ${mlplab.pct(c.test_acc[k], 1)}`;
}

function drawCharts() {
  const curves = state.detail.curves;
  mlplab.drawAccuracy($("acc-chart"), curves, markerIteration());
  mlplab.drawLoss($("loss-chart"), curves, markerIteration());
}

let replayTimer = null;
function scheduleReplay() {
  // the charts move at once; the pictures (drawn by the server) once the slider rests for a moment
  const shapes = mlplab.marker(markerIteration());
  Plotly.relayout($("acc-chart"), { shapes });
  Plotly.relayout($("loss-chart"), { shapes });
  clearTimeout(replayTimer);
  replayTimer = setTimeout(refreshPictures, 150);
}

function refreshPictures() {
  const seq = ++state.seq; // answers to an older slider position are dropped
  const loads = [
    mlplab.loadImage($("units-img"), `${base}/figure/hidden_units.png?${atQuery()}`, $("units-error")),
    loadConfusion(seq), loadNetwork(seq), loadWeights(seq),
  ];
  if (state.unit !== null) loads.push(loadUnit());
  if (drawing.inked) loads.push(predictDrawing(true));
  return Promise.all(loads);
}

function renderInsights(d) {
  const box = $("insights");
  if (d.insights_error) { box.innerHTML = `<div class="error">${mlplab.escape(d.insights_error)}</div>`; return; }
  if (!d.insights.length) {
    box.innerHTML = `<p><span class="badge completed">healthy</span> No problems found: none of the diagnosis rules fired.</p>`;
    return;
  }
  box.innerHTML = d.insights.map((i) => `
    <div class="insight ${mlplab.escape(i.severity)}" data-rule="${mlplab.escape(i.rule)}">
      <div><span class="badge ${mlplab.escape(i.severity)}">${mlplab.escape(i.severity)}</span>
        <b>${mlplab.escape(i.title)}</b></div>
      <ul>${i.evidence.map((e) => `<li>${mlplab.escape(e)}</li>`).join("")}</ul>
      <div><span class="try">Try:</span> ${mlplab.escape(i.suggestion)}</div>
      ${prescriptionButtons(i)}
    </div>`).join("");
  box.querySelectorAll("button[data-verify]").forEach((b) => b.addEventListener("click", () => tryFix(b)));
}

// Each prescription is a button (its settings, computed from the run; the reason as tooltip); "Try the fix"
// reruns the run's settings and the options in order from the run's seed (POST …/verify), like
// `mlplab diagnose RUN --verify`, and shows the measured before → after with the figure.
function prescriptionButtons(i) {
  if (!i.prescriptions || !i.prescriptions.length) return "";
  const rule = mlplab.escape(i.rule);
  const options = i.prescriptions.map((p, k) =>
    `<button type="button" class="option" data-verify="${rule}" data-candidate="${k}"
       title="${mlplab.escape(p.why)} — click to verify this option alone">${mlplab.escape(p.options)}</button>`).join(" ");
  return `<div class="prescriptions"><span class="try">Options:</span> ${options}
      <button type="button" class="primary" data-verify="${rule}">Try the fix</button></div>
    <div class="muted">First option: ${mlplab.escape(i.prescriptions[0].why)}.</div>
    <div class="verify-result" data-rule="${rule}"></div>`;
}

async function tryFix(button) {
  const rule = button.dataset.verify;
  const out = $("insights").querySelector(`.verify-result[data-rule="${CSS.escape(rule)}"]`);
  const buttons = $("insights").querySelectorAll("button[data-verify]");
  const query = new URLSearchParams({ rule, theme: mlplab.theme() });
  if (button.dataset.candidate !== undefined) query.set("candidate", button.dataset.candidate);
  buttons.forEach((b) => { b.disabled = true; });
  out.innerHTML = `<p>Rerunning from the run's seed (same initial weights, same mini-batches)…</p>`;
  try {
    const v = await mlplab.api(`${base}/verify?${query}`, { method: "POST" });
    out.innerHTML = `<ul>${v.lines.map((l) => `<li>${mlplab.escape(l)}</li>`).join("")}</ul>
      <img class="verify-figure" alt="test accuracy and training loss of the reruns" src="${v.png}" style="max-width: 100%">`;
  } catch (e) {
    out.innerHTML = `<div class="error">${mlplab.escape(e.message)}</div>`;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ---------------------------------------------------------------- confusion matrix

async function loadConfusion(seq) {
  let data;
  try {
    data = await mlplab.api(`${base}/confusion?${atQuery()}`);
  } catch (e) { mlplab.showError($("confusion-error"), e); return; }
  if (seq !== state.seq) return;
  mlplab.showError($("confusion-error"), null);
  const when = data.live ? `the latest evaluation (iteration ${data.iteration}), training`
    : data.eval === null ? "the final model" : `evaluation ${data.eval} (iteration ${data.iteration})`;
  $("confusion-acc").textContent = `${data.n} test digits, ${mlplab.pct(data.accuracy)} on the diagonal — ${when}`;
  const n = data.matrix.length;
  const light = mlplab.theme() === "light";
  let html = `<table class="confusion"><thead><tr><th>true ╲ pred.</th>`;
  for (let p = 0; p < n; p++) html += `<th>${p}</th>`;
  html += `</tr></thead><tbody>`;
  for (let t = 0; t < n; t++) {
    html += `<tr><th>${t}</th>`;
    for (let p = 0; p < n; p++) {
      const count = data.matrix[t][p];
      const alpha = Math.sqrt(data.shares[t][p]); // √ scale: a 1 % confusion is still visible
      const strong = alpha > 0.55;
      const color = strong ? (light ? "#fff" : "#111") : "inherit";
      const cls = [t === p ? "diag" : "", count === 0 ? "zero" : "",
                   state.cell && state.cell.t === t && state.cell.p === p ? "selected" : ""].join(" ");
      html += `<td class="${cls}" data-t="${t}" data-p="${p}" title="true ${t}, predicted ${p}: ${count}"
               style="background: rgba(var(--cell), ${alpha.toFixed(3)}); color: ${color}">${count}</td>`;
    }
    html += `</tr>`;
  }
  html += `</tbody><caption>rows: true digit · columns: predicted digit</caption></table>`;
  $("confusion").innerHTML = html;
  $("confusion").querySelectorAll("td").forEach((td) => td.addEventListener("click", () => {
    const t = Number(td.dataset.t), p = Number(td.dataset.p), count = Number(td.textContent);
    if (t === p) { $("cell-note").textContent = `The diagonal: ${count} test ${t}s classified right.`; return; }
    if (count === 0) { $("cell-note").textContent = `No test ${t} was predicted as ${p}.`; return; }
    state.cell = { t, p };
    $("confusion").querySelectorAll("td.selected").forEach((x) => x.classList.remove("selected"));
    td.classList.add("selected");
    loadCell();
  }));
  if (state.cell) {
    // the chosen cell, as it was at this evaluation: it may hold no digit then
    const { t, p } = state.cell;
    if (data.matrix[t][p] > 0) loadCell();
    else {
      $("cell-img").classList.add("hidden");
      $("cell-note").textContent = `At this point no test ${t} was predicted as ${p}.`;
    }
  }
}

function loadCell() {
  const { t, p } = state.cell;
  $("cell-note").innerHTML = `<span class="spinner"></span> test digits that are ${t} but were predicted as ${p}…`;
  mlplab.loadImage($("cell-img"), `${base}/cell.png?${atQuery({ true: t, pred: p })}`, $("cell-error"))
    .then((ok) => { $("cell-note").textContent = ok ? `True ${t}, predicted ${p}: the most confident mistakes first.` : ""; });
}

// ---------------------------------------------------------------- network and hidden units

async function loadNetwork(seq) {
  const digit = state.digit;
  let data;
  try {
    data = await mlplab.api(`${base}/network?${atQuery({ digit })}`);
  } catch (e) { mlplab.showError($("network-error"), e); return; }
  if (seq !== state.seq) return;
  mlplab.showError($("network-error"), null);
  state.nTest = data.n_test;
  $("digit").max = String(data.n_test - 1);
  $("network-img").src = data.png;
  const right = data.predicted === data.label;
  $("digit-note").textContent = `a ${data.label}, predicted ${data.predicted} (${mlplab.pct(data.probabilities[data.predicted], 1)})` +
    (right ? "" : " — wrong");
  const wrap = $("network-wrap");
  wrap.querySelectorAll(".unit-hotspot").forEach((b) => b.remove());
  for (const u of data.units) {
    const button = document.createElement("button");
    button.className = "unit-hotspot" + (u.unit === state.unit ? " selected" : "");
    button.type = "button";
    button.title = `hidden unit ${u.unit}: show its input weights`;
    button.dataset.unit = String(u.unit);
    button.style.left = `${100 * u.x}%`;
    button.style.top = `${100 * u.y}%`;
    button.style.width = `${Math.max(200 * u.r, 1.2)}%`;
    button.addEventListener("click", () => {
      state.unit = u.unit;
      wrap.querySelectorAll(".unit-hotspot.selected").forEach((b) => b.classList.remove("selected"));
      button.classList.add("selected");
      loadUnit();
    });
    wrap.appendChild(button);
  }
}

function loadUnit() {
  return mlplab.loadImage($("unit-img"), `${base}/unit/${state.unit}.png?${atQuery()}`, $("unit-error"));
}

function setDigit(value) {
  const n = state.nTest || state.detail.n_test || 1;
  state.digit = Math.min(Math.max(0, Math.round(Number(value) || 0)), n - 1);
  $("digit").value = String(state.digit);
  loadNetwork(++state.seq);
}
$("digit").addEventListener("change", () => setDigit($("digit").value));
$("digit-prev").addEventListener("click", () => setDigit(state.digit - 1));
$("digit-next").addEventListener("click", () => setDigit(state.digit + 1));
$("digit-random").addEventListener("click", () => setDigit(Math.floor(Math.random() * (state.nTest || 1))));

function loadHealth() {
  mlplab.loadImage($("health-img"), `${base}/figure/layer_health.png?theme=${mlplab.theme()}`, $("health-error"));
}

// ---------------------------------------------------------------- weights

async function loadWeights(seq) {
  let data;
  try {
    data = await mlplab.api(`${base}/weights?${atQuery()}`);
  } catch (e) { mlplab.showError($("weights-error"), e); return; }
  if (seq !== state.seq) return;
  mlplab.showError($("weights-error"), null);
  const centres = data.edges.slice(0, -1).map((e, i) => (e + data.edges[i + 1]) / 2);
  const colours = [mlplab.css("--train"), mlplab.css("--test"), mlplab.css("--good"), mlplab.css("--smooth")];
  // log scale, so that W2's few wide weights show beside W1's many narrow ones; an empty bin is a gap
  const traces = data.layers.map((layer, i) => ({
    x: centres, y: layer.density.map((v) => (v > 0 ? v : null)), name: `${layer.name} (${layer.shape.join("×")}), std ${layer.std.toPrecision(2)}`,
    mode: "lines", line: { shape: "hvh", width: 2.5, color: colours[i % colours.length] },
  }));
  const when = data.live ? `iteration ${data.iteration}, training` : data.eval === null ? "final" : `iteration ${data.iteration}`;
  const title = `Weights (${when})`;
  const legend = mlplab.legendBelow(data.layers.length);
  Plotly.react($("weights-chart"), traces, mlplab.layout({
    title: { text: mlplab.fitTitle(title, "weights-chart") },
    xaxis: { gridcolor: mlplab.css("--line"), zerolinecolor: mlplab.css("--line"), title: { text: "weight" } },
    yaxis: { gridcolor: mlplab.css("--line"), title: { text: "density" }, type: "log", dtick: 1, exponentformat: "power" },
    legend: legend.legend, margin: { l: Math.round(4.6 * mlplab.fontSize()), r: 20, t: mlplab.titleMargin(mlplab.fitTitle(title, "weights-chart")), b: legend.bottom },
  }), mlplab.plotConfig);
}

// ---------------------------------------------------------------- draw a digit

// The canvas keeps 280×280 pixels whatever its size on screen; its alpha channel is the ink, sent to
// POST …/predict, which prepares it as MNIST (mlplab.data.handwriting) and runs the network.
const drawing = { down: false, inked: false, last: null, busy: false, again: false, timer: null, lastNetwork: 0 };
const PEN = 22; // canvas pixels: a digit drawn 200 px tall becomes about 2 px wide strokes, as in MNIST
const THROTTLE_MS = 150;
const NETWORK_EVERY_MS = 1000; // the architecture drawing takes the server a few tenths of a second

const drawCanvas = $("draw-canvas");
const drawCtx = drawCanvas.getContext("2d", { willReadFrequently: true });

function canvasPoint(event) {
  const r = drawCanvas.getBoundingClientRect();
  return [(event.clientX - r.left) * drawCanvas.width / r.width, (event.clientY - r.top) * drawCanvas.height / r.height];
}

function inkColour() { return mlplab.css("--fg") || "#fff"; }

drawCanvas.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  drawCanvas.setPointerCapture(event.pointerId);
  drawing.down = true;
  drawing.last = canvasPoint(event);
  drawCtx.fillStyle = inkColour();
  drawCtx.beginPath();
  drawCtx.arc(drawing.last[0], drawing.last[1], PEN / 2, 0, 2 * Math.PI);
  drawCtx.fill();
  drawing.inked = true;
  schedulePrediction();
});
drawCanvas.addEventListener("pointermove", (event) => {
  if (!drawing.down) return;
  event.preventDefault();
  const points = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  drawCtx.strokeStyle = inkColour();
  drawCtx.lineWidth = PEN;
  drawCtx.lineCap = "round";
  drawCtx.lineJoin = "round";
  drawCtx.beginPath();
  drawCtx.moveTo(...drawing.last);
  for (const p of points.length ? points : [event]) {
    drawing.last = canvasPoint(p);
    drawCtx.lineTo(...drawing.last);
  }
  drawCtx.stroke();
  schedulePrediction();
});
const penUp = () => {
  if (!drawing.down) return;
  drawing.down = false;
  clearTimeout(drawing.timer);
  drawing.timer = null;
  predictDrawing(true);
};
drawCanvas.addEventListener("pointerup", penUp);
drawCanvas.addEventListener("pointercancel", penUp);

$("draw-clear").addEventListener("click", () => {
  drawCtx.clearRect(0, 0, drawCanvas.width, drawCanvas.height);
  drawing.inked = false;
  $("draw-seen").getContext("2d").clearRect(0, 0, 28, 28);
  $("draw-network").classList.add("hidden");
  mlplab.showError($("draw-error"), null);
  $("draw-note").textContent = "Draw one digit, large, with the mouse or a finger.";
  for (const id of ["draw-probs", "draw-hidden"]) if ($(id).data) Plotly.purge($(id));
  $("draw-charts").classList.add("hidden");
  $("draw-explain").classList.add("hidden");
});

// "Explain it": the Backprop page gets the drawing through sessionStorage (too large for a URL), labelled
// with the network's own answer (the learner can change it there).
$("draw-explain").href = "/backprop/" + runName.split("/").map(encodeURIComponent).join("/") + "?drawing=1";
$("draw-explain").addEventListener("click", () => {
  const drawn = { run: runName, width: drawCanvas.width, height: drawCanvas.height, ink: inkBase64(),
                  label: drawing.predicted ?? 0 };
  try { sessionStorage.setItem("mlplab-drawing", JSON.stringify(drawn)); } catch (e) { /* private mode */ }
});

// While the pen moves: at most one request every THROTTLE_MS, the network drawing about once a second.
function schedulePrediction() {
  if (drawing.timer) return;
  drawing.timer = setTimeout(() => {
    drawing.timer = null;
    predictDrawing(Date.now() - drawing.lastNetwork > NETWORK_EVERY_MS);
  }, THROTTLE_MS);
}

function inkBase64() {
  const { width, height } = drawCanvas;
  const rgba = drawCtx.getImageData(0, 0, width, height).data;
  const ink = new Uint8Array(width * height);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3]; // alpha: 0 paper … 255 full ink
  let text = "";
  for (let i = 0; i < ink.length; i += 0x8000) text += String.fromCharCode.apply(null, ink.subarray(i, i + 0x8000));
  return btoa(text);
}

// One request at a time: a drawing that changed meanwhile is sent once the answer is in.
async function predictDrawing(architecture) {
  if (!drawing.inked) return;
  delete drawCanvas.dataset.settled;
  if (drawing.busy) { drawing.again = drawing.again || architecture || "fast"; return; }
  drawing.busy = true;
  if (architecture) drawing.lastNetwork = Date.now();
  try {
    const body = { width: drawCanvas.width, height: drawCanvas.height, ink: inkBase64(), architecture };
    const data = await mlplab.post(`${base}/predict?${atQuery()}`, body);
    showPrediction(data);
    mlplab.showError($("draw-error"), null);
  } catch (e) {
    mlplab.showError($("draw-error"), e);
  } finally {
    drawing.busy = false;
  }
  if (drawing.again) {
    const next = drawing.again === true;
    drawing.again = false;
    predictDrawing(next);
  } else if (!drawing.down && !drawing.timer) {
    drawCanvas.dataset.settled = "true"; // everything drawn has been answered (the tests wait for this)
  }
}

function showPrediction(data) {
  $("draw-charts").classList.remove("hidden"); // hidden until there is something to show
  const seen = $("draw-seen").getContext("2d");
  const pixels = seen.createImageData(28, 28);
  data.image.flat().forEach((v, i) => {
    const g = Math.round(255 * v);
    pixels.data.set([g, g, g, 255], 4 * i);
  });
  seen.putImageData(pixels, 0, 0);
  const p = data.probabilities;
  const when = data.live ? `the network at iteration ${data.iteration} (training)`
    : data.eval === null ? "the final model" : `the network at iteration ${data.iteration}`;
  $("draw-note").textContent = `${when} reads a ${data.predicted} (${mlplab.pct(p[data.predicted], 1)}).`;
  drawCanvas.dataset.predicted = String(data.predicted);
  drawing.predicted = data.predicted;
  $("draw-explain").classList.remove("hidden");
  const accent = mlplab.css("--accent"), muted = mlplab.css("--muted");
  Plotly.react($("draw-probs"), [{
    type: "bar", x: p.map((_, k) => String(k)), y: p, marker: { color: p.map((_, k) => (k === data.predicted ? accent : muted)) },
    hovertemplate: "digit %{x}: %{y:.1%}<extra></extra>",
  }], mlplab.layout({
    title: { text: "Probabilities y = softmax(…)" }, showlegend: false,
    xaxis: { title: { text: "digit" }, type: "category", gridcolor: mlplab.css("--line") },
    yaxis: { range: [0, 1], tickformat: ".0%", gridcolor: mlplab.css("--line") },
    margin: { l: 56, r: 12, t: 44, b: Math.round(3.2 * mlplab.fontSize()) },
  }), mlplab.plotConfig);
  // every hidden layer side by side, a gap between layers
  const traces = [];
  let offset = 0;
  data.hidden.forEach((h, layer) => {
    traces.push({ type: "bar", x: h.map((_, j) => offset + j), y: h, name: `layer ${layer + 1}`,
                  customdata: h.map((_, j) => j), marker: { color: [mlplab.css("--train"), mlplab.css("--test")][layer % 2] },
                  hovertemplate: `layer ${layer + 1}, unit %{customdata}: %{y:.3f}<extra></extra>` });
    offset += h.length + 2;
  });
  Plotly.react($("draw-hidden"), traces, mlplab.layout({
    title: { text: `Hidden activations h (${data.activation})` }, showlegend: data.hidden.length > 1, bargap: 0.1,
    xaxis: { title: { text: "hidden unit" }, gridcolor: mlplab.css("--line") },
    yaxis: { gridcolor: mlplab.css("--line"), rangemode: "tozero" },
    margin: { l: 56, r: 12, t: 44, b: Math.round(3.2 * mlplab.fontSize()) },
  }), mlplab.plotConfig);
  if (data.png) {
    $("draw-network").src = data.png;
    $("draw-network").classList.remove("hidden");
  }
}

window.addEventListener("themechange", () => {
  if (!state.detail) return;
  if (state.detail.complete) { drawCharts(); refreshPictures(); loadHealth(); }
  else if (mlplab.live) { mlplab.live.draw(); if (state.detail.live_pictures) refreshLive(); }
});

load();
