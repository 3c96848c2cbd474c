// Landscape playground: the server runs the optimizers (mlplab.landscape) and sends the picture's numbers —
// the scene the CLI's figures are drawn from (mlplab.viz.landscape.scene: grid, contour levels and colours,
// each path as drawn with its colour and lift, the replay's steps). This page only draws them.
"use strict";

mlplab.header("landscape");
const $ = (id) => document.getElementById(id);
const view = (mlplab.landscape = { functions: [], result: null, options: null, seq: 0, lrs: null, propose: false });

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
    select.style.borderLeft = `6px solid ${mlplab.css(`--opt-${select.value}`)}`; // from /palette.css
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
    const slider = $("step"); // over the replay's steps (every one up to 100, else spread evenly)
    slider.max = String(result.frames.length - 1);
    slider.value = slider.max;
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

// The step the slider is at (its positions are the server's frames) and the last one.
const stepAt = (r, index) => r.frames[Math.min(index, r.frames.length - 1)];
const lastStep = (r) => r.frames[r.frames.length - 1];

// The path up to step k as the server drew it: a path that leaves the view ends on its edge.
function upTo(path, k) {
  const n = Math.min(k, path.shown.length - 1) + 1;
  return { x: path.shown.slice(0, n).map((p) => p[0]), y: path.shown.slice(0, n).map((p) => p[1]),
           z: path.lifted.slice(0, n) };
}

// With the step, besides the paths: the end squares of the paths ended by step k (one that left the frame has
// none), and the "left the frame" notes of those that have left it.
function ends(r, k) {
  const done = r.paths.filter((p) => p.end && k >= p.steps);
  return { x: [done.map((p) => p.end[0])], y: [done.map((p) => p.end[1])], "marker.color": [done.map((p) => p.color)] };
}

function exitNotes(r, k) {
  return r.paths.filter((p) => p.exit_note && k >= p.left_at).map((p) => ({
    x: p.shown.at(-1)[0], y: p.shown.at(-1)[1], ax: p.exit_note.at[0], ay: p.exit_note.at[1], axref: "x", ayref: "y",
    text: mlplab.escape(p.exit_note.text).replaceAll("\n", "<br>"), showarrow: true, arrowhead: 2, arrowwidth: 1,
    arrowcolor: mlplab.css("--fg"), bgcolor: mlplab.css("--panel"), font: { color: mlplab.css("--fg") },
  }));
}

function draw() {
  const r = view.result;
  if (!r) return;
  const k = stepAt(r, Number($("step").value));
  const fn = r.function;
  const c = r.contour;
  const contour = [{
    // the colour range from the first level to the last: then each band is the server's colour (api_landscape)
    type: "contour", x: r.x, y: r.y, z: c.z, zmin: c.start, zmax: c.end, autocontour: false, colorscale: c.colorscale,
    contours: { start: c.start, end: c.end, size: c.size, coloring: "fill", showlines: false },
    // a thin colour bar on a phone, so the contour keeps most of the width
    colorbar: { title: { text: c.label, side: "right" }, tickvals: c.tickvals, ticktext: c.ticktext,
                thickness: $("contour").clientWidth < 500 ? 12 : 24 },
    hovertemplate: "x=%{x:.3g}<br>y=%{y:.3g}<extra>click: start here</extra>",
  }];
  r.paths.forEach((p) => {
    const part = upTo(p, k);
    contour.push({ type: "scatter", mode: "lines+markers", x: part.x, y: part.y, name: p.label,
                   line: { color: p.color, width: 3 }, marker: { size: 6, line: { width: 1, color: "#000" } },
                   hovertemplate: "step %{pointNumber}<br>x=%{x:.4g}<br>y=%{y:.4g}<extra>" + mlplab.escape(p.label) + "</extra>" });
  });
  const end = ends(r, k);
  contour.push({ type: "scatter", mode: "markers", x: end.x[0], y: end.y[0], name: "end", hoverinfo: "skip", showlegend: false,
                 marker: { size: 11, symbol: "square", color: end["marker.color"][0], line: { width: 1.5, color: "#000" } } });
  contour.push({ type: "scatter", mode: "markers", x: [r.start[0]], y: [r.start[1]], name: "start", hoverinfo: "skip",
                 showlegend: false,
                 marker: { size: 14, color: mlplab.css("--start"), line: { width: 2, color: mlplab.css("--fg") } } });
  contour.push({ type: "scatter", mode: "markers", x: r.minima.map((m) => m[0]), y: r.minima.map((m) => m[1]), name: "minimum",
                 hoverinfo: "skip", showlegend: false,
                 marker: { size: 16, symbol: "star", color: "#fff", line: { width: 1.5, color: "#000" } } }); // on viridis, either theme
  // thin lines at every other level (the server's line_size), under the paths as in the figure
  contour.push({ type: "contour", x: r.x, y: r.y, z: c.z, autocontour: false, showscale: false, hoverinfo: "skip",
                 contours: { start: c.start, end: c.end, size: c.line_size, coloring: "none" },
                 line: { color: mlplab.css("--fg"), width: 0.5 }, opacity: 0.35, showlegend: false });
  const title = mlplab.fitTitle(mlplab.escape(fn.label), "contour");
  const below = mlplab.legendBelow(r.paths.length);
  Plotly.react("contour", contour, mlplab.layout({
    title: { text: title },
    xaxis: { title: { text: "x", standoff: 6 }, automargin: true, range: r.box[0], gridcolor: mlplab.css("--line") },
    yaxis: { title: { text: "y" }, range: r.box[1], gridcolor: mlplab.css("--line") },
    legend: below.legend, margin: { l: 54, r: 10, t: mlplab.titleMargin(title), b: below.bottom },
    height: 400 + mlplab.titleMargin(title) + below.bottom, // the contour keeps its size, a legend line per path
    annotations: exitNotes(r, k),
  }), mlplab.plotConfig).then(bindContourClick);
  drawSurface(k);
  $("step-label").textContent = `step ${k} of ${lastStep(r)}`;
  renderVerdicts();
}

// Plotly draws 3-D views with WebGL. Without it, Plotly neither throws nor rejects (it only logs a warning),
// so the page asks the browser itself and says so instead of leaving an empty box.
function hasWebGL() {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") || canvas.getContext("webgl") || canvas.getContext("experimental-webgl"));
  } catch (e) {
    return false;
  }
}

function drawSurface(k) {
  if (!hasWebGL()) {
    $("surface").classList.add("hidden"); // no empty box above the note
    $("surface-note").classList.remove("hidden");
    return;
  }
  const r = view.result;
  const traces = [{ type: "surface", x: r.x, y: r.y, z: r.z, colorscale: r.surface_colorscale, opacity: 0.85,
                    showscale: false, name: "f(x, y)" }];
  r.paths.forEach((p) => {
    const part = upTo(p, k);
    traces.push({ type: "scatter3d", mode: "lines+markers", x: part.x, y: part.y, z: part.z,
                  name: p.label, line: { color: p.color, width: 6 },
                  marker: { size: 4, color: p.color, line: { width: 1, color: "#000" } } });
  });
  traces.push({ type: "scatter3d", mode: "markers", x: [r.start[0]], y: [r.start[1]], z: [r.paths[0].lifted[0]], name: "start",
                hoverinfo: "skip", marker: { size: 6, color: mlplab.css("--start"), line: { width: 1, color: "#000" } } });
  traces.push({ type: "scatter3d", mode: "markers", x: r.minima.map((m) => m[0]), y: r.minima.map((m) => m[1]),
                z: r.minima_lifted, name: "minimum", hoverinfo: "skip",
                marker: { size: 6, symbol: "diamond", color: "#fff", line: { width: 1, color: "#000" } } });
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
    return `<div><span class="verdict-head ${good ? "good" : "bad"}"><span class="swatch" style="display:inline-block;width:0.8em;height:0.8em;border-radius:50%;background:${p.color}"></span>
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

// Only the paths, the end squares and the notes change: restyle is much cheaper than redrawing the surface.
function showStep(index) {
  const r = view.result;
  if (!r) return;
  const k = stepAt(r, index);
  const traces = [...Array(r.paths.length).keys()].map((i) => 1 + i); // trace 0 is the contour / the surface
  const parts = r.paths.map((p) => upTo(p, k));
  Plotly.restyle("contour", { x: parts.map((p) => p.x), y: parts.map((p) => p.y) }, traces);
  Plotly.restyle("contour", ends(r, k), [1 + r.paths.length]);
  Plotly.relayout("contour", { annotations: exitNotes(r, k) });
  try {
    Plotly.restyle("surface", { x: parts.map((p) => p.x), y: parts.map((p) => p.y), z: parts.map((p) => p.z) }, traces);
  } catch (e) { /* no WebGL */ }
  $("step-label").textContent = `step ${k} of ${lastStep(r)}`;
}

// Play: the paths grow from the first frame to the last in PLAY_SECONDS, whatever the number of steps; a slow
// computer (the 3-D view redrawn in software) skips frames rather than slowing down.
const PLAY_SECONDS = 4;
function play() {
  const r = view.result;
  if (!r) return;
  const slider = $("step");
  const last = r.frames.length - 1;
  if (last === 0) return; // one frame: nothing to replay
  const from = Number(slider.value) >= last ? 0 : Number(slider.value);
  const began = performance.now() - (from / last) * PLAY_SECONDS * 1000;
  $("play").textContent = "❚❚ Pause";
  let drawn = -1;
  const frame = (now) => {
    if (view.timer === null) return;
    const index = Math.min(last, Math.round(((now - began) / (PLAY_SECONDS * 1000)) * last));
    if (index !== drawn) { slider.value = String(index); showStep(index); drawn = index; }
    if (index >= last) stopPlaying(); else view.timer = requestAnimationFrame(frame);
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
