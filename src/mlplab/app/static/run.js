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
  if (!d.curves || !d.curves.iterations.length) return "";
  if (measuredSavedModel(d)) return ` (final model, after ${d.iterations_done} iterations)`;
  return ` (last evaluation, iteration ${d.curves.iterations.at(-1)}; the saved weights were not measured)`;
}

// ---------------------------------------------------------------- live

function startLive() {
  $("live").classList.remove("hidden");
  const curves = new mlplab.LiveCurves($("live-acc"), $("live-loss"));
  mlplab.live = curves;
  mlplab.follow(runName, {
    onEvent: (event) => {
      curves.add(event);
      if ((event.event === "loss" || event.event === "eval") && curves.iters) {
        $("live-note").textContent = `Training: iteration ${event.iteration + 1} of ${curves.iters}. ` +
          "The curves grow as the trainer writes stream.jsonl; the pictures appear when the run has finished.";
      }
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

// The trainer sends `end` just before it writes history.json and model.npz: ask again until they are there.
async function waitForFolder(tries) {
  try {
    const detail = await mlplab.api(base);
    if (detail.complete) {
      $("live").classList.add("hidden");
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
  mlplab.loadImage($("units-img"), `${base}/figure/hidden_units.png?${atQuery()}`, $("units-error"));
  loadConfusion(seq);
  loadNetwork(seq);
  if (state.unit !== null) loadUnit();
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
  const when = data.eval === null ? "the final model" : `evaluation ${data.eval} (iteration ${data.iteration})`;
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
  mlplab.loadImage($("unit-img"), `${base}/unit/${state.unit}.png?${atQuery()}`, $("unit-error"));
}

function setDigit(value) {
  const n = state.detail.n_test;
  state.digit = Math.min(Math.max(0, Math.round(Number(value) || 0)), n - 1);
  $("digit").value = String(state.digit);
  loadNetwork(++state.seq);
}
$("digit").addEventListener("change", () => setDigit($("digit").value));
$("digit-prev").addEventListener("click", () => setDigit(state.digit - 1));
$("digit-next").addEventListener("click", () => setDigit(state.digit + 1));
$("digit-random").addEventListener("click", () => setDigit(Math.floor(Math.random() * state.detail.n_test)));

function loadHealth() {
  mlplab.loadImage($("health-img"), `${base}/figure/layer_health.png?theme=${mlplab.theme()}`, $("health-error"));
}

window.addEventListener("themechange", () => {
  if (!state.detail) return;
  if (state.detail.complete) { drawCharts(); refreshPictures(); loadHealth(); }
  else if (mlplab.live) mlplab.live.draw();
});

load();
