// Backprop page: every stage of the forward and backward pass for one test image, one step at a time.
// All numbers come from /api/explain/RUN (mlplab.explain, the network's own layers); this script only
// draws them and, on hover, writes a cell's formula with the numbers put in.
"use strict";

mlplab.header("runs");
const $ = (id) => document.getElementById(id);
const runName = decodeURIComponent(location.pathname.replace(/^\/backprop\//, ""));
const query = new URLSearchParams(location.search);
const state = {
  data: null, steps: [], step: Number(query.get("step")) || 0, index: Math.max(0, Number(query.get("index")) || 0),
  weights: query.get("weights") || "", seq: 0, maps: {},
};

document.title = `mlplab · backprop · ${runName}`;
$("run-link").href = mlplab.runUrl(runName);

// ---------------------------------------------------------------- numbers and arrays

// 3 significant digits, with a real minus sign: 0.53, −0.012, −6.4e-05
const fmt = (v) => {
  if (v === null || v === undefined) return "NaN";
  const a = Math.abs(v);
  const text = a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
  return text.replace("-", "−");
};
const paren = (v) => (v < 0 ? `(${fmt(v)})` : fmt(v));

// A nested list as {shape, data}: data is flat, row-major.
function tensor(value) {
  const shape = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  return { shape, data: Float64Array.from(shape.length ? value.flat(shape.length) : [value]) };
}
const at = (t, idx) => t.data[t.shape.length === 2 ? idx[0] * t.shape[1] + idx[1] : t.shape.length === 1 ? idx[0] : 0];

// `name[j]` for a row vector (1, n) and a vector (n,), `name[i, j]` for a matrix: the textbook's indices.
const cellName = (name, t, idx) => {
  if (t.shape.length === 0) return name;
  if (t.shape.length === 1 || t.shape[0] === 1) return `${name}[${idx[idx.length - 1]}]`;
  return `${name}[${idx[0]}, ${idx[1]}]`;
};

// Every array a formula can name: the stages, the parameters, and t (one-hot).
function sources(data) {
  const out = {};
  for (const s of [...data.forward, ...data.backward]) out[s.name] = { ...s, t: tensor(s.value) };
  for (const [k, v] of Object.entries(data.params)) out[k] = { name: k, kind: "param", t: tensor(v) };
  const oneHot = Array.from({ length: data.sizes.at(-1) }, (_, k) => (k === data.label ? 1 : 0));
  out.t = { name: "t", kind: "target", t: tensor([oneHot]) };
  return out;
}

// ---------------------------------------------------------------- the formula of one cell

// "∂L/∂W1[412, 7] = x[412] · ∂L/∂a1[7] = 0.53 × −0.012 = −0.0064", and the cells of the inputs it reads.
function cellFormula(src, idx) {
  const S = state.sources;
  const v = at(src.t, idx);
  const here = cellName(src.name, src.t, idx);
  const j = idx[idx.length - 1];
  const get = (name, k) => at(S[name].t, S[name].t.shape.length === 2 ? [0, k] : [k]);
  const ins = src.inputs || [];
  switch (src.kind) {
    case "input": {
      const side = Math.round(Math.sqrt(src.t.shape[1]));
      return { text: `${here} = ${fmt(v)}   (pixel row ${Math.floor(j / side)}, column ${j % side})`, marks: {} };
    }
    case "param": return { text: `${here} = ${fmt(v)}   (a parameter)`, marks: {} };
    case "target": return { text: `${here} = ${fmt(v)}   (one-hot of the label ${state.data.label})`, marks: {} };
    case "affine": {
      const [inp, W, b] = ins;
      const n = S[inp].t.shape[1];
      let dot = 0, terms = 0;
      for (let i = 0; i < n; i++) {
        const term = get(inp, i) * at(S[W].t, [i, j]);
        dot += term;
        if (term !== 0) terms++;
      }
      return {
        text: `${here} = Σᵢ ${inp}[i]·${W}[i, ${j}] + ${b}[${j}] = ${fmt(dot)} + ${paren(at(S[b].t, [j]))} = ${fmt(v)}` +
              `   (${terms} of ${n} terms ≠ 0)`,
        marks: { [W]: { column: j }, [b]: { cells: [[j]] } },
      };
    }
    case "activation": {
      const inp = ins[0];
      const f = src.formula.split(" = ")[1]; // "σ(a1)", "ReLU(a1)", "tanh(a1)"
      const name = cellName(inp, S[inp].t, [0, j]);
      return { text: `${here} = ${f.replace(inp, name)} = ${f.replace(inp, fmt(get(inp, j)))} = ${fmt(v)}`,
               marks: { [inp]: { cells: [[0, j]] } } };
    }
    case "softmax": {
      const inp = ins[0];
      const a = S[inp].t.data;
      const sum = a.reduce((s, x) => s + Math.exp(x), 0);
      return { text: `${here} = exp(${inp}[${j}]) / Σₖ exp(${inp}[k]) = exp(${fmt(a[j])}) / ${fmt(sum)} = ${fmt(v)}`,
               marks: { [inp]: { cells: [[0, j]] } } };
    }
    case "loss": {
      const t = state.data.label;
      return { text: `L = −log y[t] = −log y[${t}] = −log ${fmt(get("y", t))} = ${fmt(v)}`, marks: { y: { cells: [[0, t]] } } };
    }
    case "loss_grad":
      return { text: `${here} = y[${j}] − t[${j}] = ${fmt(get("y", j))} − ${fmt(get("t", j))} = ${fmt(v)}`,
               marks: { y: { cells: [[0, j]] }, t: { cells: [[0, j]] } } };
    case "weight_grad": {
      const [inp, grad] = ins;
      const i = idx[0];
      return { text: `${here} = ${inp}[${i}] · ${grad}[${j}] = ${fmt(get(inp, i))} × ${fmt(get(grad, j))} = ${fmt(v)}`,
               marks: { [inp]: { cells: [[0, i]] }, [grad]: { cells: [[0, j]] } } };
    }
    case "bias_grad":
      return { text: `${here} = ${ins[0]}[${j}] = ${fmt(v)}   (summed over the rows of the batch: here one)`,
               marks: { [ins[0]]: { cells: [[0, j]] } } };
    case "input_grad": {
      const [grad, W] = ins;
      const n = S[grad].t.shape[1];
      const shown = Array.from({ length: Math.min(n, 2) }, (_, k) => `${fmt(get(grad, k))}×${paren(at(S[W].t, [j, k]))}`);
      return { text: `${here} = Σₖ ${grad}[k]·${W}[${j}, k] = ${shown.join(" + ")}${n > 2 ? ` + … (${n} terms)` : ""} = ${fmt(v)}`,
               marks: { [grad]: { all: true }, [W]: { row: j } } };
    }
    case "activation_grad": {
      const [grad, a, z] = ins;
      const local = src.localT.data[j];
      const written = src.local_formula.replace(new RegExp(`\\b(${a}|${z})\\b`, "g"), `$1[${j}]`);
      return { text: `${here} = ${grad}[${j}] · ${written} = ${fmt(get(grad, j))} × ${fmt(local)} = ${fmt(v)}`,
               marks: { [grad]: { cells: [[0, j]] }, [a]: { cells: [[0, j]] }, [z]: { cells: [[0, j]] },
                        [src.local_formula]: { cells: [[0, j]] } } };
    }
    case "local": { // the activation's derivative f'(a), as the layer's backward computes it
      const [a, z] = src.names;
      const written = src.name.replace(new RegExp(`\\b(${a}|${z})\\b`, "g"), `$1[${j}]`);
      return { text: `${written} = ${fmt(v)}   (the local derivative of ${z} = f(${a}), from the layer's backward)`,
               marks: {} };
    }
    case "update": {
      const W = src.param;
      const w = at(S[W].t, idx), g = at(S[`∂L/∂${W}`].t, idx);
      return { text: `${cellName(W, S[W].t, idx)} ← ${fmt(w)} − ${fmt(state.data.step.lr)} × ${paren(g)} = ${fmt(v)}`,
               marks: { [W]: { cells: [idx] }, [`∂L/∂${W}`]: { cells: [idx] } } };
    }
    default: return { text: `${here} = ${fmt(v)}`, marks: {} };
  }
}

// ---------------------------------------------------------------- heat maps

const rgb = (name) => {
  const hex = mlplab.css(name).replace("#", "");
  return [0, 2, 4].map((k) => parseInt(hex.slice(k, k + 2), 16));
};

// How an array is laid out: a (784, n) matrix as n images of 28×28, (1, 784) as one image, a vector as a strip.
function layout(t, imageSize, maxCols) {
  const side = Math.round(Math.sqrt(imageSize));
  const [m, n] = t.shape.length === 2 ? t.shape : [1, t.shape[0] || 1];
  if (m === imageSize && side * side === imageSize) { // columns as images
    const cols = Math.min(n, maxCols);
    return { kind: "tiles", side, n, cols, rows: Math.ceil(n / cols), w: cols * (side + 1) - 1, h: Math.ceil(n / cols) * (side + 1) - 1 };
  }
  if (m === 1 && n === imageSize && side * side === imageSize) return { kind: "image", side, w: side, h: side };
  if (m === 1) { const cols = Math.min(n, 25); return { kind: "strip", n, cols, w: cols, h: Math.ceil(n / cols) }; }
  return { kind: "grid", m, n, w: n, h: m };
}

// cell (x, y) in layout units -> indices of the array, or null
function cellAt(L, x, y, twoD) {
  if (L.kind === "tiles") {
    const tc = Math.floor(x / (L.side + 1)), tr = Math.floor(y / (L.side + 1));
    const px = x - tc * (L.side + 1), py = y - tr * (L.side + 1);
    const j = tr * L.cols + tc;
    if (px >= L.side || py >= L.side || j >= L.n || tc >= L.cols) return null;
    return [py * L.side + px, j];
  }
  if (L.kind === "image") return [0, y * L.side + x];
  if (L.kind === "strip") { const k = y * L.cols + x; return k < L.n ? (twoD ? [0, k] : [k]) : null; }
  return [y, x];
}

function positionOf(L, idx) { // inverse of cellAt: layout units of a cell
  if (L.kind === "tiles") {
    const [i, j] = idx;
    return [(j % L.cols) * (L.side + 1) + (i % L.side), Math.floor(j / L.cols) * (L.side + 1) + Math.floor(i / L.side)];
  }
  const k = idx[idx.length - 1];
  if (L.kind === "image") return [k % L.side, Math.floor(k / L.side)];
  if (L.kind === "strip") return [k % L.cols, Math.floor(k / L.cols)];
  return [idx[1], idx[0]];
}

// Draw source `src` into `box`; hovering a cell calls onHover(indices) (null when leaving).
function drawMap(box, src, { maxWidth, maxHeight, maxCell, onHover, caption }) {
  const t = src.t;
  box.innerHTML = "";
  const wrap = document.createElement("figure");
  wrap.className = "bp-figure";
  if (t.shape.length === 0) {
    wrap.innerHTML = `<div class="bp-scalar mono">${mlplab.escape(src.name)} = ${fmt(t.data[0])}</div>`;
    box.appendChild(wrap);
    return null;
  }
  const L = layout(t, state.data.sizes[0], maxWidth < 400 ? 5 : 10);
  const cell = Math.max(1, Math.min(maxCell, Math.floor(maxWidth / L.w), Math.floor(maxHeight / L.h) || 1));
  const canvas = document.createElement("canvas");
  const dpr = window.devicePixelRatio || 1;
  canvas.width = L.w * cell * dpr;
  canvas.height = L.h * cell * dpr;
  canvas.style.width = `${L.w * cell}px`;
  canvas.style.height = `${L.h * cell}px`;
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  let scale = 0, minimum = Infinity;
  for (const v of t.data) { if (Number.isFinite(v)) { scale = Math.max(scale, Math.abs(v)); minimum = Math.min(minimum, v); } }
  scale = scale || 1;
  const [neg, zero, pos] = [rgb("--bp-neg"), rgb("--bp-zero"), rgb("--bp-pos")];
  const colour = (v) => {
    const s = Math.max(-1, Math.min(1, v / scale));
    const end = s < 0 ? neg : pos, a = Math.sqrt(Math.abs(s)); // square root: small values still show
    return `rgb(${zero.map((z, k) => Math.round(z + (end[k] - z) * a)).join(",")})`;
  };
  ctx.fillStyle = mlplab.css("--line");
  ctx.fillRect(0, 0, L.w * cell, L.h * cell);
  const twoD = t.shape.length === 2;
  for (let y = 0; y < L.h; y++) {
    for (let x = 0; x < L.w; x++) {
      const idx = cellAt(L, x, y, twoD);
      if (!idx) continue;
      ctx.fillStyle = colour(at(t, idx));
      ctx.fillRect(x * cell, y * cell, cell, cell);
    }
  }
  const overlay = document.createElement("canvas"); // the marks, redrawn on every hover
  overlay.width = canvas.width; overlay.height = canvas.height;
  overlay.style.width = canvas.style.width; overlay.style.height = canvas.style.height;
  overlay.className = "bp-overlay";
  const stack = document.createElement("div");
  stack.className = "bp-stack";
  stack.append(canvas, overlay);
  wrap.appendChild(stack);
  const cap = document.createElement("figcaption");
  cap.innerHTML = `${caption} <span class="muted">${t.shape.join("×")}, ${minimum < 0 ? "±" : "0 to "}${fmt(scale)}</span>`;
  wrap.appendChild(cap);
  box.appendChild(wrap);
  const map = { L, cell, canvas: overlay, twoD, src };
  if (onHover) { // a mouse hovers; a finger taps (pointerdown), and the formula stays until the next tap
    const pick = (ev) => {
      const r = overlay.getBoundingClientRect();
      onHover(cellAt(L, Math.floor((ev.clientX - r.left) / cell), Math.floor((ev.clientY - r.top) / cell), twoD));
    };
    overlay.addEventListener("pointermove", pick);
    overlay.addEventListener("pointerdown", pick);
    overlay.addEventListener("pointerleave", (ev) => { if (ev.pointerType === "mouse") onHover(null); });
  }
  return map;
}

function mark(map, spec, own) {
  if (!map) return;
  const ctx = map.canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, map.canvas.width, map.canvas.height);
  const cells = [];
  const t = map.src.t;
  if (own) cells.push(own);
  if (spec && spec.cells) cells.push(...spec.cells.map((c) => (map.twoD || c.length === 1 ? c : [c[1]])));
  if (spec && spec.column !== undefined) for (let i = 0; i < t.shape[0]; i++) cells.push([i, spec.column]);
  if (spec && spec.row !== undefined) for (let k = 0; k < t.shape[1]; k++) cells.push([spec.row, k]);
  if (spec && spec.all) for (let k = 0; k < t.data.length; k++) cells.push(map.twoD ? [0, k] : [k]);
  if (!cells.length) return;
  ctx.strokeStyle = mlplab.css("--focus");
  ctx.lineWidth = Math.max(1, Math.min(2, map.cell / 4));
  for (const c of cells.length > 400 ? [] : cells) {
    const [x, y] = positionOf(map.L, c);
    ctx.strokeRect(x * map.cell + 0.5, y * map.cell + 0.5, Math.max(map.cell - 1, 1), Math.max(map.cell - 1, 1));
  }
  if (cells.length > 400) { // a whole column of W1: outline its tile instead of 784 cells
    const [x0, y0] = positionOf(map.L, cells[0]);
    const [x1, y1] = positionOf(map.L, cells[cells.length - 1]);
    ctx.strokeRect(x0 * map.cell, y0 * map.cell, (x1 - x0 + 1) * map.cell, (y1 - y0 + 1) * map.cell);
  }
}

// ---------------------------------------------------------------- the steps

function buildSteps(data) {
  const steps = [
    ...data.forward.map((s) => ({ ...state.sources[s.name], phase: "forward" })),
    ...data.backward.map((s) => ({ ...state.sources[s.name], phase: "backward" })),
  ];
  for (const s of steps) if (s.local) s.localT = tensor(s.local);
  // the SGD step on W1: the new weights, cell by cell
  const W = "W1", g = state.sources[`∂L/∂${W}`].t, w = state.sources[W].t;
  const after = new Float64Array(w.data.length);
  for (let k = 0; k < after.length; k++) after[k] = w.data[k] - data.step.lr * g.data[k];
  steps.push({ name: `${W} after one SGD step`, kind: "update", phase: "update", param: W, node: null,
               formula: `${data.step.formula}   (lr = ${data.step.lr})`, inputs: [W, `∂L/∂${W}`],
               t: { shape: w.shape, data: after }, check: null });
  return steps;
}

function renderGraph(data, step) {
  const names = [...data.graph, "L"];
  const current = step.phase === "update" ? null : step.node;
  const arrow = step.phase === "backward" ? "←" : "→";
  const flows = ["x", ...data.forward.slice(1, -2).map((s) => s.name), "y", ""]; // the value leaving each node
  $("graph").innerHTML = names.map((name, k) => {
    const affine = /^Affine(\d+)$/.exec(name);
    const params = affine ? `<small class="mono">W${affine[1]}, b${affine[1]}</small>` : "";
    const cls = ["bp-node", k === current ? "current" : "", step.phase === "update" && affine ? "current" : "",
                 name === "L" ? "loss" : ""].join(" ");
    const link = k < names.length - 1 ? `<span class="bp-arrow ${step.phase}">${arrow}<small class="mono">${mlplab.escape(flows[k] || "")}</small></span>` : "";
    return `<div class="${cls}" data-node="${k}"><b>${mlplab.escape(name)}</b>${params}</div>${link}`;
  }).join("");
}

function show(stepIndex) {
  const steps = state.steps;
  state.step = Math.max(0, Math.min(steps.length - 1, stepIndex));
  const s = steps[state.step];
  renderGraph(state.data, s);
  $("step-label").textContent = `stage ${state.step + 1} of ${steps.length}`;
  $("first").disabled = $("prev").disabled = state.step === 0;
  $("next").disabled = $("last").disabled = state.step === steps.length - 1;
  $("phase").textContent = s.phase === "update" ? "SGD step" : s.phase;
  $("phase").className = `badge bp-${s.phase}`;
  $("stage-name").textContent = s.name;
  $("stage-shape").textContent = s.t.shape.length ? `(${s.t.shape.join(", ")})` : "scalar";
  $("stage-formula").textContent = s.formula;
  const check = s.check;
  $("stage-check").innerHTML = check === null || check === undefined
    ? (s.phase === "update" ? "" : `<span class="badge">no check: the data</span>`)
    : `<span class="badge ${check < 1e-6 ? "completed" : "error"}" title="relative error against central differences">` +
      `check ${check.toExponential(1).replace("-", "−")}</span>`;
  $("stage-note").textContent = note(s);
  const width = $("map").clientWidth || 600;
  const onHover = (src) => (idx) => hover(src, idx);
  state.maps = {};
  state.maps.main = drawMap($("map"), s, { maxWidth: width, maxHeight: Math.max(420, window.innerHeight * 0.75), maxCell: 36,
                                           onHover: onHover(s), caption: `<b class="mono">${mlplab.escape(s.name)}</b>` });
  $("inputs").innerHTML = "";
  const inputs = (s.inputs || []).filter((name) => state.sources[name]).map((name) => state.sources[name]);
  if (s.localT) { // the activation's derivative: what ⊙ multiplies by
    const [, a, z] = s.inputs;
    inputs.push({ name: s.local_formula, kind: "local", names: [a, z], t: s.localT });
  }
  $("inputs-title").classList.toggle("hidden", !inputs.length);
  for (const src of inputs) {
    const box = document.createElement("div");
    box.className = "bp-input";
    $("inputs").appendChild(box);
    const image = src.t.shape.includes(state.data.sizes[0]); // 28×28 pictures need fewer pixels per cell
    state.maps[src.name] = drawMap(box, src, { maxWidth: Math.min(width, 600), maxHeight: 360, maxCell: image ? 8 : 16,
                                               onHover: onHover(src), caption: `<b class="mono">${mlplab.escape(src.name)}</b>` });
  }
  $("hover").textContent = "Hover a cell to see how its number was computed.";
  const url = new URL(location.href);
  url.searchParams.set("step", state.step);
  history.replaceState(null, "", url);
}

function note(s) {
  const d = state.data;
  if (s.phase === "update") {
    return `One SGD step on this image only: the loss on it goes from ${fmt(d.step.loss_before)} to ${fmt(d.step.loss_after)}. ` +
           "Every parameter moves the same way; W1 is drawn.";
  }
  if (s.kind === "loss") return `The label is t = ${d.label}; the network predicts ${d.prediction}.`;
  if (s.kind === "loss_grad") return "Softmax and cross-entropy together have this simple gradient (§5.6.3).";
  if (s.kind === "weight_grad" && s.t.shape[0] === d.sizes[0]) {
    return "Each 28×28 image is one hidden unit's column: the input image times that unit's ∂L/∂a — blank pixels get no gradient.";
  }
  return "";
}

function hover(src, idx) {
  const main = state.steps[state.step];
  if (!idx) { for (const m of Object.values(state.maps)) mark(m, null, null); return; }
  const { text, marks } = cellFormula(src, idx);
  $("hover").textContent = text;
  for (const [name, m] of Object.entries(state.maps)) {
    if (!m) continue;
    if (src === main) mark(m, name === "main" ? null : marks[name], name === "main" ? idx : null);
    else mark(m, null, m.src === src ? idx : null);
  }
}

// For tests and keyboard users: where cell `idx` of the main map (or of input `name`) is on the page.
window.backprop = {
  cellPosition(name, idx) {
    const m = state.maps[name || "main"];
    const [x, y] = positionOf(m.L, idx);
    const r = m.canvas.getBoundingClientRect();
    return { x: r.left + (x + 0.5) * m.cell, y: r.top + (y + 0.5) * m.cell };
  },
};

// ---------------------------------------------------------------- loading

async function loadOptions() {
  try {
    const d = await mlplab.api(mlplab.apiRun(runName));
    const select = $("weights");
    const options = [["", "final"], ["untrained", "untrained (before step 1)"],
                     ...(d.evaluations || []).map((it, k) => [`at:${k}`, `evaluation ${k} (iteration ${it})`])];
    select.innerHTML = options.map(([v, text]) => `<option value="${v}">${mlplab.escape(text)}</option>`).join("");
    select.value = state.weights;
    if (d.n_test) $("index").max = d.n_test - 1;
  } catch (e) { /* the explain call below shows the error */ }
}

// A digit drawn on the Run page ("Explain this drawing"): handed over in sessionStorage, sent with its label.
const drawn = (() => {
  if (!query.get("drawing")) return null;
  try {
    const d = JSON.parse(sessionStorage.getItem("mlplab-drawing") || "null");
    return d && d.run === runName ? d : null;
  } catch (e) { return null; }
})();
if (drawn) {
  $("drawing-row").classList.remove("hidden");
  $("index-row").classList.add("hidden");
  $("drawn-label").value = String(drawn.label);
  $("drawn-label").addEventListener("change", () => {
    drawn.label = Math.min(9, Math.max(0, Math.round(Number($("drawn-label").value) || 0)));
    $("drawn-label").value = String(drawn.label);
    load();
  });
  $("drawing-exit").addEventListener("click", (ev) => {
    ev.preventDefault();
    location.href = location.pathname;
  });
}

async function load() {
  const seq = ++state.seq;
  const params = new URLSearchParams(drawn ? { label: drawn.label } : { index: state.index });
  if (state.weights === "untrained") params.set("untrained", "true");
  else if (state.weights.startsWith("at:")) params.set("at", state.weights.slice(3));
  const what = drawn ? `your drawing (as a ${drawn.label})` : `test image #${state.index}`;
  $("summary").innerHTML = `<span class="spinner"></span> computing every stage of ${mlplab.escape(what)}…`;
  let data;
  try {
    const path = `/api/explain/${runName.split("/").map(encodeURIComponent).join("/")}`;
    data = drawn
      ? await mlplab.post(`${path}/drawing?${params}`, { width: drawn.width, height: drawn.height, ink: drawn.ink })
      : await mlplab.api(`${path}?${params}`);
  } catch (e) {
    if (seq !== state.seq) return;
    $("summary").textContent = "";
    mlplab.showError($("error"), e);
    return;
  }
  if (seq !== state.seq) return; // a newer request is on its way
  mlplab.showError($("error"), null);
  state.data = data;
  state.sources = sources(data);
  state.steps = buildSteps(data);
  $("digit-label").textContent = `label ${data.label}, predicted ${data.prediction}`;
  const worst = Math.max(...Object.values(data.checks));
  $("summary").textContent = `${runName} · ${data.network} · weights: ${data.weights} · ${what}: ` +
    `label ${data.label}, prediction ${data.prediction}, loss ${fmt(data.loss)} · ${Object.keys(data.checks).length} checks, ` +
    `largest relative error ${worst.toExponential(1).replace("-", "−")}`;
  $("cli-line").textContent = drawn
    ? `explain_run(load_run_data("${runName}"), image=mnist_like(drawing).ravel(), label=${drawn.label})  # Python: a drawing has no CLI`
    : `mlplab explain ${runName} --index ${data.index}` +
      (data.at !== null ? ` --at ${data.at}` : state.weights === "untrained" ? " --untrained" : "") + " --json stages.json";
  const url = new URL(location.href);
  if (!drawn) url.searchParams.set("index", state.index);
  if (state.weights) url.searchParams.set("weights", state.weights); else url.searchParams.delete("weights");
  history.replaceState(null, "", url);
  show(state.step);
}

function setIndex(i) {
  const max = Number($("index").max) || Infinity;
  state.index = Math.max(0, Math.min(max, i));
  $("index").value = state.index;
  load();
}

$("index").value = state.index;
$("index").addEventListener("change", () => setIndex(Number($("index").value) || 0));
$("index-prev").addEventListener("click", () => setIndex(state.index - 1));
$("index-next").addEventListener("click", () => setIndex(state.index + 1));
$("weights").addEventListener("change", () => { state.weights = $("weights").value; load(); });
$("first").addEventListener("click", () => show(0));
$("prev").addEventListener("click", () => show(state.step - 1));
$("next").addEventListener("click", () => show(state.step + 1));
$("last").addEventListener("click", () => show(state.steps.length - 1));
document.addEventListener("keydown", (ev) => {
  if (!state.steps.length || ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) return;
  const to = { ArrowRight: state.step + 1, ArrowLeft: state.step - 1, Home: 0, End: state.steps.length - 1 }[ev.key];
  if (to !== undefined) { ev.preventDefault(); show(to); }
});
let resizeTimer = null, lastWidth = window.innerWidth;
window.addEventListener("resize", () => { // redraw for a new width only (a taller window changes nothing)
  if (window.innerWidth === lastWidth) return;
  lastWidth = window.innerWidth;
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => state.steps.length && show(state.step), 200);
});
window.addEventListener("themechange", () => state.steps.length && show(state.step));

loadOptions().then(load);
