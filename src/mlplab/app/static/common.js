// Shared by every page: the header and theme toggle, calls to the API with readable errors, and the
// accuracy/loss charts (plotly.js, served by the app itself from the installed plotly package).
"use strict";

const mlplab = (window.mlplab = window.mlplab || {});

// ---------------------------------------------------------------- theme and header

mlplab.theme = () => document.documentElement.dataset.theme || "dark";

// The button names the other theme; on a phone only its symbol shows (the word is for screen readers too).
const themeLabel = (theme) => (theme === "dark" ? "☀<span class=\"word\"> Light</span>" : "☾<span class=\"word\"> Dark</span>");

mlplab.setTheme = (theme) => {
  document.documentElement.dataset.theme = theme;
  try { localStorage.setItem("mlplab-theme", theme); } catch (e) { /* private mode: not remembered */ }
  const button = document.getElementById("theme-toggle");
  if (button) button.innerHTML = themeLabel(theme);
  window.dispatchEvent(new CustomEvent("themechange", { detail: theme }));
};

(function initTheme() {
  let saved = null;
  try { saved = localStorage.getItem("mlplab-theme"); } catch (e) { /* ignore */ }
  document.documentElement.dataset.theme = saved === "light" ? "light" : "dark";
})();

mlplab.header = (current) => {
  const header = document.querySelector("header.top");
  const links = [["/", "Runs", "runs"], ["/train", "Train", "train"], ["/landscape", "Landscape", "landscape"]];
  header.innerHTML =
    `<a class="brand" href="/">mlplab</a><nav>` +
    links.map(([href, text, key]) => `<a href="${href}" class="${key === current ? "current" : ""}">${text}</a>`).join("") +
    `</nav><button id="theme-toggle" type="button" title="Switch between the dark and the light theme"></button>`;
  const button = document.getElementById("theme-toggle");
  button.innerHTML = themeLabel(mlplab.theme());
  button.addEventListener("click", () => mlplab.setTheme(mlplab.theme() === "dark" ? "light" : "dark"));
};

// ---------------------------------------------------------------- API calls

// fetch() that returns the parsed JSON, or throws an Error whose message is the server's sentence.
mlplab.api = async (url, options = {}) => {
  let response;
  try {
    response = await fetch(url, options);
  } catch (e) {
    throw new Error("cannot reach the server; is `mlplab serve` still running?");
  }
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    const message = body && body.error ? body.error : `the server answered ${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
};

mlplab.post = (url, data) =>
  mlplab.api(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });

mlplab.showError = (box, error) => {
  if (!box) return;
  if (!error) { box.classList.add("hidden"); box.textContent = ""; return; }
  box.textContent = error.message || String(error);
  box.classList.remove("hidden");
};

// An <img> from an API URL that may answer an error: the error text replaces the picture.
mlplab.loadImage = (img, url, errorBox) =>
  new Promise((resolve) => {
    fetch(url).then(async (response) => {
      if (!response.ok) {
        let message = `the server answered ${response.status}`;
        try { message = (await response.json()).error || message; } catch (e) { /* keep */ }
        mlplab.showError(errorBox, new Error(message));
        img.classList.add("hidden");
        resolve(false);
        return;
      }
      const blob = await response.blob();
      if (img.dataset.objectUrl) URL.revokeObjectURL(img.dataset.objectUrl);
      img.dataset.objectUrl = URL.createObjectURL(blob);
      img.src = img.dataset.objectUrl;
      img.classList.remove("hidden");
      mlplab.showError(errorBox, null);
      resolve(true);
    }).catch(() => {
      mlplab.showError(errorBox, new Error("cannot reach the server; is `mlplab serve` still running?"));
      resolve(false);
    });
  });

mlplab.runUrl = (name) => "/run/" + name.split("/").map(encodeURIComponent).join("/");
mlplab.apiRun = (name) => "/api/runs/" + name.split("/").map(encodeURIComponent).join("/");

mlplab.pct = (x, digits = 2) => (x === null || x === undefined ? "–" : (100 * x).toFixed(digits) + " %");

mlplab.escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// ---------------------------------------------------------------- charts

mlplab.css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
// The k-th colour of the theme's cycle (--cycle-0 … from /palette.css, i.e. mlplab.viz.palette), repeating.
mlplab.cycleColor = (k) => {
  let n = 0;
  while (mlplab.css(`--cycle-${n}`)) n += 1;
  return mlplab.css(`--cycle-${k % Math.max(n, 1)}`);
};

// A legend under the x axis, measured in pixels from the chart's bottom (a share of the plot's height
// lands on the axis title once the type is projector-sized): returns it with the bottom margin it needs.
mlplab.legendBelow = (rows = 1) => {
  const line = 1.45 * mlplab.fontSize();
  return { legend: { orientation: rows > 1 ? "v" : "h", x: 0, xanchor: "left", y: 0, yref: "container", yanchor: "bottom" },
           bottom: Math.round(3.4 * mlplab.fontSize() + rows * line) };
};

// Chart text follows the page's type size (16 px on a phone, 22 px on a projector: see html in app.css).
mlplab.fontSize = () => Math.round(0.85 * parseFloat(getComputedStyle(document.documentElement).fontSize));

const TITLE = { x: 0.01, xanchor: "left", y: 1, yref: "container", yanchor: "top", pad: { t: 10 } };
// Titles sit on the left, from the top down (a wrapped title grows downwards, into margin.t) and the mode bar (shown on hover, top right) keeps to the right: they never overlap.
mlplab.layout = (extra = {}) => ({
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "rgba(0,0,0,0)",
  font: { color: mlplab.css("--fg"), size: mlplab.fontSize() },
  title: TITLE,
  margin: { l: 64, r: 20, t: 44, b: mlplab.legendBelow().bottom },
  legend: mlplab.legendBelow().legend,
  xaxis: { gridcolor: mlplab.css("--line"), zerolinecolor: mlplab.css("--line"), title: { text: "iteration" } },
  yaxis: { gridcolor: mlplab.css("--line"), zerolinecolor: mlplab.css("--line") },
  ...extra,
  ...(extra.title ? { title: { ...TITLE, ...extra.title } } : {}),
});

// A title broken at spaces into lines that fit left of the mode bar (about 170 px at the top right;
// hidden on a phone, where app.css's "max-width: 600px" rules apply).
mlplab.fitTitle = (text, div) => {
  const width = (typeof div === "string" ? document.getElementById(div) : div).clientWidth || 600;
  const modeBar = window.matchMedia("(max-width: 600px)").matches ? 0 : 170;
  const perLine = Math.max(16, Math.floor((width - modeBar) / (0.6 * mlplab.fontSize())));
  const lines = [""];
  for (const word of String(text).split(" ")) {
    const line = lines[lines.length - 1];
    if (line && (line + " " + word).length > perLine) lines.push(word);
    else lines[lines.length - 1] = line ? line + " " + word : word;
  }
  return lines.join("<br>");
};

// The top margin a (wrapped) title needs: a line of type per line, plus a little room.
mlplab.titleMargin = (title) => Math.round(24 + 1.3 * mlplab.fontSize() * String(title).split("<br>").length);

mlplab.plotConfig = { displaylogo: false, responsive: true,
                      modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d", "zoomIn2d", "zoomOut2d",
                                               "hoverClosestCartesian", "hoverCompareCartesian", "toggleSpikelines"] };

// A vertical line at iteration `it` (the evaluation being replayed), or none.
mlplab.marker = (it) =>
  it === null || it === undefined ? [] : [{
    type: "line", xref: "x", yref: "paper", x0: it, x1: it, y0: 0, y1: 1,
    line: { color: mlplab.css("--focus"), width: 2, dash: "dot" },
  }];

// curves: {iterations, train_acc, test_acc, loss_x, loss, smooth_x, smooth, test_loss}
const xaxis = (xRange) => ({ gridcolor: mlplab.css("--line"), zerolinecolor: mlplab.css("--line"), title: { text: "iteration" },
                             ...(xRange ? { range: xRange } : { rangemode: "tozero" }) });

// Accuracy rises and loss falls, so the bottom right (accuracy) and the top right (loss) stay free:
// the legend sits there, on a panel-coloured box, and the x axis keeps all the room below it.
const legendInside = (side) => ({
  legend: { orientation: "v", x: 0.99, xanchor: "right", y: side === "top" ? 0.99 : 0.03,
            yanchor: side === "top" ? "top" : "bottom", bgcolor: mlplab.css("--panel"), bordercolor: mlplab.css("--line"),
            borderwidth: 1 },
  margin: { l: 64, r: 20, t: 44, b: Math.round(3.4 * mlplab.fontSize()) },
});

mlplab.drawAccuracy = (div, curves, markerIt = null, title = "Accuracy", xRange = null) => {
  const traces = [
    { x: curves.iterations, y: curves.train_acc, name: "train", mode: "lines+markers",
      line: { color: mlplab.css("--train"), width: 3 }, marker: { size: 7 } },
    { x: curves.iterations, y: curves.test_acc, name: "test", mode: "lines+markers",
      line: { color: mlplab.css("--test"), width: 3, dash: "dash" }, marker: { size: 7, symbol: "square" } },
  ];
  return Plotly.react(div, traces, mlplab.layout({
    title: { text: title },
    xaxis: xaxis(xRange),
    yaxis: { gridcolor: mlplab.css("--line"), tickformat: ".0%", range: [0, 1.02], title: { text: "accuracy" } },
    shapes: mlplab.marker(markerIt),
    ...legendInside("bottom"),
  }), mlplab.plotConfig);
};

mlplab.drawLoss = (div, curves, markerIt = null, title = "Loss", xRange = null) => {
  const traces = [
    { x: curves.loss_x, y: curves.loss, name: "mini-batch loss", mode: "lines",
      line: { color: mlplab.css("--train"), width: 1 }, opacity: 0.45 },
  ];
  if (curves.smooth && curves.smooth.length) {
    traces.push({ x: curves.smooth_x, y: curves.smooth, name: `moving average (${curves.window || "?"} it.)`,
                  mode: "lines", line: { color: mlplab.css("--smooth"), width: 3 } });
  }
  if (curves.test_loss && curves.test_loss.length) {
    traces.push({ x: curves.iterations, y: curves.test_loss, name: "test-set loss", mode: "lines+markers",
                  line: { color: mlplab.css("--test"), width: 2, dash: "dash" }, marker: { size: 7, symbol: "square" } });
  }
  return Plotly.react(div, traces, mlplab.layout({
    title: { text: title },
    xaxis: xaxis(xRange),
    yaxis: { gridcolor: mlplab.css("--line"), title: { text: "cross-entropy" }, rangemode: "tozero" },
    shapes: mlplab.marker(markerIt),
    ...legendInside("top"),
  }), mlplab.plotConfig);
};

// ---------------------------------------------------------------- live runs

// Curves grown from stream events (start / loss / eval / end), drawn at most a few times a second.
mlplab.LiveCurves = class {
  constructor(accDiv, lossDiv) {
    this.accDiv = accDiv;
    this.lossDiv = lossDiv;
    this.reset();
  }
  reset(iters = null) {
    this.curves = { iterations: [], train_acc: [], test_acc: [], test_loss: [], loss_x: [], loss: [],
                    smooth_x: [], smooth: [] };
    this.iters = iters;
    this.lastIteration = -1;
    this.pending = false;
    this.draw();
  }
  add(event) {
    const c = this.curves;
    if (event.event === "start") this.reset(event.iters);
    else if (event.event === "eval") {
      c.iterations.push(event.iteration);
      c.train_acc.push(event.train_acc);
      c.test_acc.push(event.test_acc);
      c.test_loss.push(event.test_loss);
      this.lastIteration = Math.max(this.lastIteration, event.iteration);
    } else if (event.event === "loss") {
      // the mean of the last 50 iterations: already smooth, drawn as the moving average
      c.smooth_x.push(event.iteration);
      c.smooth.push(event.loss);
      this.lastIteration = Math.max(this.lastIteration, event.iteration);
    }
    this.schedule();
  }
  schedule() {
    if (this.pending) return;
    this.pending = true;
    setTimeout(() => { this.pending = false; this.draw(); }, 250);
  }
  draw() {
    // Plotly.react redraws only what changed, judged by reference: each draw gets fresh copies of the arrays.
    const c = Object.fromEntries(Object.entries(this.curves).map(([k, v]) => [k, [...v]]));
    const xRange = [0, Math.max(this.lastIteration, 1) * 1.03]; // the curves fill the chart as they grow
    mlplab.drawAccuracy(this.accDiv, c, null, "Accuracy (live)", xRange);
    mlplab.drawLoss(this.lossDiv, { ...c, window: 50 }, null, "Loss (live: mean of every 50 iterations)", xRange);
  }
};

// Follow a run's stream.jsonl through Server-Sent Events. handlers: onEvent(event), onDone(lastEvent).
mlplab.follow = (name, handlers) => {
  const source = new EventSource(mlplab.apiRun(name) + "/stream");
  let done = false;
  const finish = (event) => {
    if (done) return;
    done = true;
    source.close(); // otherwise the browser reconnects and replays the whole stream
    if (handlers.onDone) handlers.onDone(event);
  };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (handlers.onEvent) handlers.onEvent(event);
    if (["end", "error", "stale", "closing"].includes(event.event)) finish(event);
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) finish({ event: "error", message: "the live stream was closed." });
  };
  return { close: () => { done = true; source.close(); } };
};
