// Landscape playground: the server runs the optimizers (mlplab.landscape), this page draws the result.
"use strict";

mlplab.header("landscape");
const $ = (id) => document.getElementById(id);
const view = (mlplab.landscape = { functions: [], result: null, options: null, seq: 0, lrs: null, propose: false });

// One colour per optimizer, by name, as in every CLI figure (mlplab.viz.theme.OPTIMIZER_COLORS via /api/options).
function colorOf(name) { return view.options.optimizer_colors[name] || mlplab.css("--fg"); }

// ---------------------------------------------------------------- the form

function currentFunction() {
  return $("function").value === "expression" ? null : view.functions.find((f) => f.name === $("function").value);
}

function optimizerRow(name = "sgd", lr = 0.9) {
  const row = document.createElement("div");
  row.className = "opt-row";
  row.innerHTML = `
    <select class="opt-name" aria-label="optimizer">${view.options.optimizers.map((o) =>
      `<option ${o === name ? "selected" : ""}>${o}</option>`).join("")}</select>
    <input class="opt-lr-range" type="range" min="-5" max="2" step="0.01" aria-label="learning rate (log scale)">
    <input class="opt-lr" type="number" step="any" min="0" value="${lr}" aria-label="learning rate">
    <button type="button" class="opt-remove" title="remove this optimizer">✕</button>`;
  const range = row.querySelector(".opt-lr-range");
  const number = row.querySelector(".opt-lr");
  range.value = String(Math.log10(lr));
  range.addEventListener("input", () => {
    number.value = String(Number((10 ** Number(range.value)).toPrecision(3)));
    schedule();
  });
  number.addEventListener("input", () => {
    const v = Number(number.value);
    if (v > 0) range.value = String(Math.log10(v));
    schedule();
  });
  row.querySelector(".opt-name").addEventListener("change", () => { // each optimizer its own lr: the proposal for it
    paintSwatches();
    if (view.lrs) setLr(row, view.lrs[row.querySelector(".opt-name").value]);
    schedule();
  });
  row.querySelector(".opt-remove").addEventListener("click", () => {
    if ($("optimizers").children.length > 1) { row.remove(); paintSwatches(); schedule(); }
  });
  $("optimizers").appendChild(row);
  paintSwatches();
}

function setLr(row, lr) {
  if (!(lr > 0)) return;
  row.querySelector(".opt-lr").value = String(lr);
  row.querySelector(".opt-lr-range").value = String(Math.log10(lr));
}

// The server's proposal for every optimizer on this function (mlplab.landscape.learning_rates).
function proposeLrs(lrs) {
  view.lrs = lrs;
  [...$("optimizers").children].forEach((row) => setLr(row, lrs[row.querySelector(".opt-name").value]));
}

function paintSwatches() {
  [...$("optimizers").children].forEach((row) => {
    const select = row.querySelector(".opt-name");
    select.style.borderLeft = `6px solid ${colorOf(select.value)}`;
  });
  $("add-optimizer").disabled = $("optimizers").children.length >= view.options.landscape.paths;
}

function setStart(point) {
  $("start-x").value = String(Number(point[0].toPrecision(4)));
  $("start-y").value = String(Number(point[1].toPrecision(4)));
}

function request() {
  const f = currentFunction();
  const body = {
    function: f ? f.name : $("expression").value.trim(),
    steps: Number($("steps").value),
    paths: [...$("optimizers").children].map((row) => ({
      optimizer: row.querySelector(".opt-name").value,
      lr: Number(row.querySelector(".opt-lr").value),
    })),
  };
  const x = $("start-x").value.trim(), y = $("start-y").value.trim();
  if (x !== "" && y !== "") body.start = [Number(x), Number(y)];
  if ($("noisy").checked) {
    body.stochastic = { batch_size: Number($("batch").value), noise: Number($("noise").value),
                        schedule: $("schedule").value, seed: Number($("sgd-seed").value) };
  }
  return body;
}

let timer = null;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(run, 250);
}

async function run() {
  const seq = ++view.seq;
  const body = request();
  if (!body.function) {
    clearPicture();
    mlplab.showError($("error"), new Error("type a function of x and y, e.g. x**2/100 + y**2"));
    return;
  }
  $("busy").innerHTML = `<span class="spinner"></span> computing…`;
  try {
    const result = await mlplab.post("/api/landscape/paths", body);
    if (seq !== view.seq) return; // a newer request is on its way
    view.result = result;
    mlplab.showError($("error"), null);
    if (view.propose) { // a new expression: its own proposals, then the paths with them
      view.propose = false;
      proposeLrs(result.function.lrs);
      run();
      return;
    }
    if ($("start-x").value === "") setStart(result.start);
    const slider = $("step");
    slider.max = String(result.steps);
    slider.value = String(result.steps);
    draw();
    $("busy").textContent = "";
  } catch (e) {
    if (seq !== view.seq) return;
    clearPicture(); // the old paths must not pass for this input's
    mlplab.showError($("error"), e);
    $("busy").textContent = "";
  }
}

function clearPicture() {
  stopPlaying();
  view.result = null;
  for (const id of ["contour", "surface"]) { Plotly.purge(id); $(id).dataset.bound = ""; }
  $("verdicts").innerHTML = "";
  $("step-label").textContent = "";
}

// ---------------------------------------------------------------- drawing

// The path up to step k as drawn: a path that leaves the view ends on its edge (``shown``, from the server).
function upTo(path, k) {
  const n = Math.min(k, path.shown.length - 1) + 1;
  return { x: path.shown.slice(0, n).map((p) => p[0]), y: path.shown.slice(0, n).map((p) => p[1]),
           z: path.shown_values.slice(0, n) };
}

function draw() {
  const r = view.result;
  if (!r) return;
  const k = Number($("step").value);
  const fn = r.function;
  const minima = fn.minima;
  const contour = [{
    type: "contour", x: r.x, y: r.y, z: r.log_gap, colorscale: "Viridis", ncontours: 24,
    contours: { coloring: "fill", showlines: true }, line: { width: 0.5, color: "rgba(0,0,0,0.25)" },
    // a thin colour bar on a phone, so the contour keeps most of the width
    colorbar: { title: { text: "log₁₀(f − f*)", side: "right" }, thickness: $("contour").clientWidth < 500 ? 12 : 24 },
    hovertemplate: "x=%{x:.3g}<br>y=%{y:.3g}<extra>click: start here</extra>",
  }];
  r.paths.forEach((p) => {
    const part = upTo(p, k);
    contour.push({ type: "scatter", mode: "lines+markers", x: part.x, y: part.y, name: p.label,
                   line: { color: colorOf(p.optimizer), width: 3 }, marker: { size: 6, line: { width: 1, color: "#000" } },
                   hovertemplate: "step %{pointNumber}<br>x=%{x:.4g}<br>y=%{y:.4g}<extra>" + mlplab.escape(p.label) + "</extra>" });
  });
  contour.push({ type: "scatter", mode: "markers", x: [r.start[0]], y: [r.start[1]], name: "start", hoverinfo: "skip",
                 showlegend: false,
                 marker: { size: 14, color: mlplab.css("--start"), line: { width: 2, color: "#fff" } } });
  if (minima.length) {
    contour.push({ type: "scatter", mode: "markers", x: minima.map((m) => m[0]), y: minima.map((m) => m[1]), name: "minimum",
                   hoverinfo: "skip", showlegend: false, marker: { size: 16, symbol: "star", color: "#fff", line: { width: 1.5, color: "#000" } } });
  }
  const title = mlplab.fitTitle(mlplab.escape(fn.label), "contour");
  const below = mlplab.legendBelow(r.paths.length);
  Plotly.react("contour", contour, mlplab.layout({
    title: { text: title },
    xaxis: { title: { text: "x", standoff: 6 }, automargin: true, range: r.box[0], gridcolor: mlplab.css("--line") },
    yaxis: { title: { text: "y" }, range: r.box[1], gridcolor: mlplab.css("--line") },
    legend: below.legend, margin: { l: 54, r: 10, t: mlplab.titleMargin(title), b: below.bottom },
    height: 400 + mlplab.titleMargin(title) + below.bottom, // the contour keeps its size, a legend line per path
  }), mlplab.plotConfig).then(bindContourClick);
  drawSurface(k);
  $("step-label").textContent = `step ${k} of ${r.steps}`;
  renderVerdicts();
}

// The path is drawn 1 % of the surface's height above it, so the surface does not hide it.
function surfaceLift(r) {
  const zs = r.z.flat().filter((v) => v !== null);
  return 0.01 * (Math.max(...zs) - Math.min(...zs));
}

function drawSurface(k) {
  const r = view.result;
  const lift = surfaceLift(r);
  const traces = [{ type: "surface", x: r.x, y: r.y, z: r.z, colorscale: "Viridis", opacity: 0.85, showscale: false,
                    name: "f(x, y)" }];
  r.paths.forEach((p) => {
    const part = upTo(p, k);
    traces.push({ type: "scatter3d", mode: "lines+markers", x: part.x, y: part.y, z: part.z.map((v) => v + lift),
                  name: p.label, line: { color: colorOf(p.optimizer), width: 6 },
                  marker: { size: 4, color: colorOf(p.optimizer), line: { width: 1, color: "#000" } } });
  });
  const layout = mlplab.layout({
    title: { text: "f(x, y)" }, margin: { l: 0, r: 0, t: 40, b: 0 }, showlegend: false,
    scene: { xaxis: { title: { text: "x" }, color: mlplab.css("--fg"), nticks: 5 },
             yaxis: { title: { text: "y" }, color: mlplab.css("--fg"), nticks: 5 },
             zaxis: { title: { text: "f" }, color: mlplab.css("--fg"), nticks: 5 }, camera: { eye: { x: -1.3, y: -1.7, z: 1.1 } },
             aspectmode: "manual", aspectratio: { x: 1, y: 1, z: 0.7 } },
  });
  try {
    Plotly.react("surface", traces, layout, mlplab.plotConfig).catch(() => $("surface-note").classList.remove("hidden"));
  } catch (e) {
    $("surface-note").classList.remove("hidden");
  }
}

function bindContourClick() {
  const div = $("contour");
  if (div.dataset.bound) return;
  div.dataset.bound = "1";
  div.on("plotly_click", (event) => {
    const point = event.points && event.points[0];
    if (!point || point.x === undefined || point.y === undefined) return;
    setStart([point.x, point.y]);
    schedule();
  });
}

function renderVerdicts() {
  $("verdicts").innerHTML = view.result.paths.map((p) => {
    const good = p.converged;
    return `<div><span class="verdict-head ${good ? "good" : "bad"}"><span class="swatch" style="display:inline-block;width:0.8em;height:0.8em;border-radius:50%;background:${colorOf(p.optimizer)}"></span>
      ${mlplab.escape(p.label)}: ${mlplab.escape(p.headline)}</span>
      <pre class="verdict">${mlplab.escape(p.verdict.join("\n"))}</pre></div>`;
  }).join("");
}

// ---------------------------------------------------------------- start

async function init() {
  try {
    view.options = await mlplab.api("/api/options");
    view.functions = (await mlplab.api("/api/landscape/functions")).functions;
  } catch (e) { mlplab.showError($("error"), e); return; }
  $("function").innerHTML = view.functions.map((f) => `<option value="${f.name}">${f.name} — ${mlplab.escape(f.note)}</option>`).join("") +
    `<option value="expression">your own expression…</option>`;
  $("schedule").innerHTML = view.options.schedules.map((s) => `<option>${s}</option>`).join("");
  $("steps").max = String(view.options.landscape.steps[1]);
  const f = view.functions[0];
  optimizerRow("sgd", f.lr);
  $("expression-field").classList.add("hidden");
  $("function").addEventListener("change", () => {
    const fn = currentFunction();
    $("expression-field").classList.toggle("hidden", fn !== null);
    if (fn) {
      setStart(fn.start);
      proposeLrs(fn.lrs);
    } else {
      $("start-x").value = ""; $("start-y").value = "";
      if (!$("expression").value) $("expression").value = "sin(x)*cos(y) + (x**2 + y**2)/20";
      view.propose = true;
    }
    schedule();
  });
  $("expression").addEventListener("input", () => { view.propose = true; schedule(); });
  $("steps").addEventListener("input", schedule);
  $("start-x").addEventListener("change", schedule);
  $("start-y").addEventListener("change", schedule);
  $("start-reset").addEventListener("click", () => {
    const fn = currentFunction();
    $("start-x").value = ""; $("start-y").value = "";
    if (fn) setStart(fn.start);
    schedule();
  });
  $("add-optimizer").addEventListener("click", () => {
    const names = ["momentum", "adam", "rmsprop", "nesterov", "adagrad", "sgd"];
    const used = [...$("optimizers").querySelectorAll(".opt-name")].map((s) => s.value);
    const next = names.find((n) => !used.includes(n)) || "sgd";
    optimizerRow(next, view.lrs ? view.lrs[next] : 0.01);
    schedule();
  });
  $("noisy").addEventListener("change", () => { $("noise-fields").classList.toggle("hidden", !$("noisy").checked); schedule(); });
  ["batch", "noise", "schedule", "sgd-seed"].forEach((id) => $(id).addEventListener("change", schedule));
  $("step").addEventListener("input", () => { stopPlaying(); showStep(Number($("step").value)); });
  $("play").addEventListener("click", () => (view.timer ? stopPlaying() : play()));
  $("controls").addEventListener("submit", (e) => { e.preventDefault(); run(); });
  setStart(f.start);
  proposeLrs(f.lrs);
  run();
}

// Only the path traces change: restyle is much cheaper than redrawing the surface.
function showStep(k) {
  const r = view.result;
  if (!r) return;
  const traces = [...Array(r.paths.length).keys()].map((i) => 1 + i); // trace 0 is the contour / the surface
  const parts = r.paths.map((p) => upTo(p, k));
  Plotly.restyle("contour", { x: parts.map((p) => p.x), y: parts.map((p) => p.y) }, traces);
  const lift = surfaceLift(r);
  try {
    Plotly.restyle("surface", { x: parts.map((p) => p.x), y: parts.map((p) => p.y),
                                z: parts.map((p) => p.z.map((v) => v + lift)) }, traces);
  } catch (e) { /* no WebGL */ }
  $("step-label").textContent = `step ${k} of ${r.steps}`;
}

// Play: the paths grow from step 0 to the last in PLAY_SECONDS, whatever the number of steps; a slow
// computer (the 3-D view redrawn in software) skips steps rather than slowing down.
const PLAY_SECONDS = 4;
function play() {
  const r = view.result;
  if (!r) return;
  const slider = $("step");
  const from = Number(slider.value) >= r.steps ? 0 : Number(slider.value);
  const began = performance.now() - (from / r.steps) * PLAY_SECONDS * 1000;
  $("play").textContent = "❚❚ Pause";
  let drawn = -1;
  const frame = (now) => {
    if (view.timer === null) return;
    const k = Math.min(r.steps, Math.round(((now - began) / (PLAY_SECONDS * 1000)) * r.steps));
    if (k !== drawn) { slider.value = String(k); showStep(k); drawn = k; }
    if (k >= r.steps) stopPlaying(); else view.timer = requestAnimationFrame(frame);
  };
  view.timer = requestAnimationFrame(frame);
}

function stopPlaying() {
  if (view.timer) cancelAnimationFrame(view.timer);
  view.timer = null;
  $("play").textContent = "▶ Play";
}

window.addEventListener("themechange", () => { paintSwatches(); draw(); });
init();
