// Runs page: the runs folder as a table (refreshed every few seconds) and an overlay of chosen runs.
"use strict";

mlplab.header("runs");
const selected = new Set(JSON.parse(sessionStorage.getItem("mlplab-selected") || "[]"));
const curvesCache = new Map(); // name -> curves of a finished run (they do not change)
let rows = [];

function statusBadge(row) {
  const status = row.live ? "live" : row.status || "unknown";
  const title = row.error ? ` title="${mlplab.escape(row.error)}"` : "";
  return `<span class="badge ${mlplab.escape(status)}"${title}>${mlplab.escape(status)}</span>`;
}

function renderTable(data) {
  document.getElementById("root").textContent = data.root;
  rows = data.runs;
  const body = document.getElementById("runs-body");
  if (!rows.length) {
    body.innerHTML = `<tr><td colspan="10" class="placeholder">No runs yet in <code>${mlplab.escape(data.root)}</code>.
      Start one on the <a href="/train">Train</a> page, or with <code>mlplab train</code>.</td></tr>`;
    return;
  }
  body.innerHTML = rows.map((row) => {
    const c = row.config || {};
    const done = row.iterations_done === null || row.iterations_done === undefined ? "–" : row.iterations_done;
    return `<tr data-name="${mlplab.escape(row.name)}">
      <td><input type="checkbox" aria-label="overlay ${mlplab.escape(row.name)}" ${selected.has(row.name) ? "checked" : ""}></td>
      <td><a href="${mlplab.runUrl(row.name)}">${mlplab.escape(row.name)}</a>${row.status === "damaged"
        ? `<div class="muted">${mlplab.escape(row.error || "")}</div>` : ""}</td>
      <td>${statusBadge(row)}</td>
      <td>${mlplab.escape(row.network || "–")}</td>
      <td>${mlplab.escape(c.optimizer || "–")}</td>
      <td class="num">${c.lr ?? "–"}</td>
      <td class="num">${c.batch_size ?? "–"}</td>
      <td class="num">${done} / ${c.iters ?? "?"}</td>
      <td class="num">${mlplab.pct(row.train_acc)}</td>
      <td class="num">${mlplab.pct(row.test_acc)}</td></tr>`;
  }).join("");
  body.querySelectorAll("input[type=checkbox]").forEach((box) => box.addEventListener("change", () => {
    const name = box.closest("tr").dataset.name;
    if (box.checked) selected.add(name); else selected.delete(name);
    sessionStorage.setItem("mlplab-selected", JSON.stringify([...selected]));
    drawOverlay();
  }));
}

async function curvesOf(row) {
  if (curvesCache.has(row.name)) return curvesCache.get(row.name);
  const detail = await mlplab.api(mlplab.apiRun(row.name));
  if (!detail.complete) return null; // live: shown on its own page
  curvesCache.set(row.name, detail.curves);
  return detail.curves;
}

let overlaySeq = 0;
async function drawOverlay() {
  const seq = ++overlaySeq; // a newer call (another box ticked meanwhile) wins
  const chosen = rows.filter((r) => selected.has(r.name));
  const note = document.getElementById("overlay-note");
  const errorBox = document.getElementById("overlay-error");
  note.textContent = chosen.length ? `${chosen.length} run${chosen.length > 1 ? "s" : ""}` : "tick runs above";
  const palette = ["#56B4E9", "#E69F00", "#009E73", "#F0E442", "#CC79A7", "#D55E00", "#0072B2", "#999999"];
  const traces = [];
  const problems = [];
  for (const [k, row] of chosen.entries()) {
    let curves = null;
    try { curves = await curvesOf(row); } catch (e) { problems.push(`${row.name}: ${e.message}`); continue; }
    if (!curves) { problems.push(`${row.name} is still training; open it to watch it live.`); continue; }
    const color = palette[k % palette.length];
    traces.push({ x: curves.iterations, y: curves.train_acc, name: `${row.name} train`, mode: "lines",
                  line: { color, width: 3 } });
    traces.push({ x: curves.iterations, y: curves.test_acc, name: `${row.name} test`, mode: "lines",
                  line: { color, width: 3, dash: "dash" } });
  }
  if (seq !== overlaySeq) return;
  mlplab.showError(errorBox, problems.length ? new Error(problems.join("\n")) : null);
  Plotly.react("overlay-chart", traces, mlplab.layout({
    title: { text: traces.length ? "Accuracy: train (solid) and test (dashed)" : "Tick runs in the table to overlay them" },
    yaxis: { gridcolor: mlplab.css("--line"), tickformat: ".0%", title: { text: "accuracy" }, range: [0, 1.02] },
    xaxis: { gridcolor: mlplab.css("--line"), title: { text: "iteration" }, rangemode: "tozero" },
    legend: { orientation: "v", x: 1.02, y: 1 },
    margin: { l: 64, r: 10, t: 44, b: 54 },
  }), mlplab.plotConfig);
}

async function refresh() {
  try {
    const data = await mlplab.api("/api/runs");
    const before = JSON.stringify(rows);
    renderTable(data);
    mlplab.showError(document.getElementById("error"), null);
    if (JSON.stringify(rows) !== before) drawOverlay();
  } catch (e) {
    mlplab.showError(document.getElementById("error"), e);
  }
}

refresh();
setInterval(refresh, 4000);
window.addEventListener("themechange", drawOverlay);
