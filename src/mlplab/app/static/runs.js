// Runs page: the runs folder as a sortable, filterable table (refreshed every few seconds), deleting a
// run, an overlay of the chosen runs' accuracy and loss, and the sweep folders with their figures.
"use strict";

mlplab.header("runs");
const $ = (id) => document.getElementById(id);
const selected = new Set(JSON.parse(sessionStorage.getItem("mlplab-selected") || "[]"));
const curvesCache = new Map(); // name -> curves of a finished run (they do not change)
const sort = JSON.parse(sessionStorage.getItem("mlplab-sort") || '{"key": null, "dir": 1}');
let rows = [];
let root = "";

// key, heading, the value sorted on, the cell's HTML, numeric (right-aligned)
const COLUMNS = [
  ["name", "run", (r) => r.name, (r) => `<a href="${mlplab.runUrl(r.name)}">${mlplab.escape(r.name)}</a>` +
   (r.status === "damaged" ? `<div class="muted">${mlplab.escape(r.error || "")}</div>` : "")],
  ["status", "status", (r) => (r.live ? "live" : r.status || ""), statusBadge],
  ["network", "network", (r) => r.network || "", (r) => mlplab.escape(r.network || "–")],
  ["optimizer", "optimizer", (r) => cfg(r).optimizer || "", (r) => mlplab.escape(cfg(r).optimizer || "–")],
  ["lr", "lr", (r) => cfg(r).lr, (r) => cfg(r).lr ?? "–", true],
  ["batch", "batch", (r) => cfg(r).batch_size, (r) => cfg(r).batch_size ?? "–", true],
  ["iterations", "iterations", (r) => r.iterations_done,
   (r) => `${r.iterations_done ?? "–"} / ${cfg(r).iters ?? "?"}`, true],
  ["train_acc", "train acc.", (r) => r.train_acc, (r) => mlplab.pct(r.train_acc), true],
  ["test_acc", "test acc.", (r) => r.test_acc, (r) => mlplab.pct(r.test_acc), true],
];

function cfg(row) { return row.config || {}; }

function statusBadge(row) {
  const status = row.live ? "live" : row.status || "unknown";
  const title = row.error ? ` title="${mlplab.escape(row.error)}"` : "";
  return `<span class="badge ${mlplab.escape(status)}"${title}>${mlplab.escape(status)}</span>`;
}

function renderHead() {
  $("runs-head").innerHTML = `<th><span class="sr-only">overlay</span></th>` + COLUMNS.map(([key, label, , , num]) => {
    const state = sort.key === key ? (sort.dir > 0 ? "ascending" : "descending") : "none";
    const arrow = sort.key === key ? (sort.dir > 0 ? " ▲" : " ▼") : "";
    return `<th class="${num ? "num" : ""}" aria-sort="${state}"><button type="button" class="sort" data-key="${key}">` +
      `${label}${arrow}</button></th>`;
  }).join("") + `<th><span class="sr-only">delete</span></th>`;
  $("runs-head").querySelectorAll("button.sort").forEach((b) => b.addEventListener("click", () => {
    sort.dir = sort.key === b.dataset.key ? -sort.dir : 1;
    sort.key = b.dataset.key;
    sessionStorage.setItem("mlplab-sort", JSON.stringify(sort));
    renderTable();
  }));
}

// Missing values (a run still loading its data) sort last whichever the direction.
function compare(a, b) {
  const column = COLUMNS.find((c) => c[0] === sort.key);
  if (!column) return 0;
  const va = column[2](a), vb = column[2](b);
  const missing = (v) => v === null || v === undefined || v === "";
  if (missing(va) || missing(vb)) return missing(va) - missing(vb);
  return sort.dir * (typeof va === "number" && typeof vb === "number" ? va - vb : String(va).localeCompare(String(vb)));
}

function shownRows() {
  const words = $("filter").value.toLowerCase().split(/\s+/).filter((w) => w);
  const text = (r) => [r.name, r.network, r.live ? "live" : r.status, cfg(r).optimizer, cfg(r).activation,
                       `lr ${cfg(r).lr}`].join(" ").toLowerCase();
  return rows.filter((r) => words.every((w) => text(r).includes(w))).sort(compare);
}

function renderTable() {
  renderHead();
  const body = $("runs-body");
  const shown = shownRows();
  $("count").textContent = rows.length ? `${shown.length} of ${rows.length} runs` : "";
  if (!rows.length) {
    body.innerHTML = `<tr><td colspan="11" class="placeholder">No runs yet in <code>${mlplab.escape(root)}</code>.
      Start one on the <a href="/train">Train</a> page, or with <code>mlplab train</code>.</td></tr>`;
    return;
  }
  if (!shown.length) {
    body.innerHTML = `<tr><td colspan="11" class="placeholder">No run matches “${mlplab.escape($("filter").value)}”.</td></tr>`;
    return;
  }
  body.innerHTML = shown.map((row) => {
    const name = mlplab.escape(row.name);
    // only a finished run directly in the runs folder can be deleted here (the server checks it too)
    const deletable = !row.live && !row.name.includes("/");
    return `<tr data-name="${name}">
      <td><input type="checkbox" aria-label="overlay ${name}" ${selected.has(row.name) ? "checked" : ""}></td>` +
      COLUMNS.map(([, , , cell, num]) => `<td class="${num ? "num" : ""}">${cell(row)}</td>`).join("") +
      `<td>${deletable ? `<button type="button" class="delete" title="delete the run folder ${name}">Delete</button>` : ""}</td></tr>`;
  }).join("");
  body.querySelectorAll("input[type=checkbox]").forEach((box) => box.addEventListener("change", () => {
    const name = box.closest("tr").dataset.name;
    if (box.checked) selected.add(name); else selected.delete(name);
    sessionStorage.setItem("mlplab-selected", JSON.stringify([...selected]));
    drawOverlay();
  }));
  body.querySelectorAll("button.delete").forEach((button) => button.addEventListener("click", () =>
    deleteRun(button.closest("tr").dataset.name)));
}

async function deleteRun(name) {
  if (!window.confirm(`Delete the run folder ${name} in ${root}?\nIts model, history and figures are removed for good.`)) return;
  try {
    await mlplab.api(mlplab.apiRun(name), { method: "DELETE" });
    selected.delete(name);
    sessionStorage.setItem("mlplab-selected", JSON.stringify([...selected]));
    curvesCache.delete(name);
    mlplab.showError($("error"), null);
  } catch (e) {
    mlplab.showError($("error"), e);
  }
  refresh();
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
  $("overlay-note").textContent = chosen.length ? `${chosen.length} run${chosen.length > 1 ? "s" : ""}` : "tick runs above";
  const acc = [], loss = [], problems = [];
  for (const [k, row] of chosen.entries()) {
    let curves = null;
    try { curves = await curvesOf(row); } catch (e) { problems.push(`${row.name}: ${e.message}`); continue; }
    if (!curves) { problems.push(`${row.name} is still training; open it to watch it live.`); continue; }
    const color = mlplab.cycleColor(k);
    const group = { legendgroup: row.name };
    // one legend entry per run (its colour); a click on it hides both of its curves
    const hidden = { showlegend: false, ...group };
    acc.push({ x: curves.iterations, y: curves.train_acc, name: row.name, mode: "lines", line: { color, width: 3 }, ...group });
    acc.push({ x: curves.iterations, y: curves.test_acc, name: `${row.name} test`, mode: "lines", line: { color, width: 3, dash: "dash" }, ...hidden });
    loss.push({ x: curves.smooth_x, y: curves.smooth, name: row.name, mode: "lines", line: { color, width: 2.5 }, ...group });
    loss.push({ x: curves.iterations, y: curves.test_loss, name: `${row.name} test`, mode: "lines", line: { color, width: 2.5, dash: "dash" }, ...hidden });
  }
  if (seq !== overlaySeq) return;
  mlplab.showError($("overlay-error"), problems.length ? new Error(problems.join("\n")) : null);
  const below = mlplab.legendBelow(Math.max(1, acc.length / 2));
  const axes = (y, text, div) => {
    const title = mlplab.fitTitle(text, div);
    const top = mlplab.titleMargin(title);
    return mlplab.layout({
      title: { text: title },
      xaxis: { gridcolor: mlplab.css("--line"), title: { text: "iteration", standoff: 6 }, automargin: true,
               rangemode: "tozero" },
      yaxis: { gridcolor: mlplab.css("--line"), ...y },
      legend: below.legend, margin: { l: 64, r: 10, t: top, b: below.bottom },
      height: 300 + top + below.bottom, // the plot keeps its size whatever the title and the runs listed below
    });
  };
  Plotly.react("overlay-chart", acc, axes({ tickformat: ".0%", title: { text: "accuracy" }, range: [0, 1.02] },
    acc.length ? "Accuracy: train (solid), test (dashed)" : "Tick runs to overlay them", "overlay-chart"), mlplab.plotConfig);
  Plotly.react("overlay-loss", loss, axes({ title: { text: "cross-entropy" }, rangemode: "tozero" },
    loss.length ? "Loss: mini-batch average (solid), test (dashed)" : "", "overlay-loss"), mlplab.plotConfig);
}

// ---------------------------------------------------------------- sweeps

let sweepsShown = "";
async function refreshSweeps() {
  const data = await mlplab.api("/api/sweeps");
  const key = JSON.stringify(data.sweeps);
  if (key === sweepsShown) return; // unchanged: keep the pictures as they are
  sweepsShown = key;
  $("sweeps-section").classList.toggle("hidden", !data.sweeps.length);
  $("sweeps").innerHTML = data.sweeps.map((s) => {
    const done = s.rows.filter((r) => r.status === "completed").length;
    const best = s.rows.filter((r) => r.final_test_acc !== null).sort((a, b) => b.final_test_acc - a.final_test_acc)[0];
    const url = (f) => `/api/sweeps/${encodeURIComponent(s.name)}/figure/${f}`;
    return `<div class="panel sweep" data-sweep="${mlplab.escape(s.name)}" style="margin-bottom: 1rem">
      <h3>${mlplab.escape(s.name)} <span class="muted">· ${s.rows.length} runs, ${done} completed` +
      (best ? ` · best test ${mlplab.pct(best.final_test_acc)} (${mlplab.escape(best.name)})` : "") + `</span></h3>` +
      (s.error ? `<div class="error">${mlplab.escape(s.error)}</div>` : "") +
      (s.figures.length ? `<div class="figures">${s.figures.map((f) =>
        `<a href="${url(f)}" target="_blank" rel="noopener"><img class="figure" src="${url(f)}" alt="${mlplab.escape(s.name)}: ${f}"></a>`).join("")}</div>`
        : `<p class="muted">No figures yet: <code>mlplab sweep</code> draws them when the sweep ends.</p>`) + `</div>`;
  }).join("");
}

async function refresh() {
  try {
    const data = await mlplab.api("/api/runs");
    const before = JSON.stringify(rows);
    root = data.root;
    $("root").textContent = data.root;
    rows = data.runs;
    for (const name of [...selected]) if (!rows.some((r) => r.name === name)) selected.delete(name);
    if (JSON.stringify(rows) !== before) { renderTable(); drawOverlay(); }
    await refreshSweeps();
    mlplab.showError($("error"), null);
  } catch (e) {
    mlplab.showError($("error"), e);
  }
}

$("filter").addEventListener("input", renderTable);
renderHead();
refresh();
setInterval(refresh, 4000);
window.addEventListener("themechange", drawOverlay);
