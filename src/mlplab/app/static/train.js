// Train page: start a training in the server's worker, watch it live, stop it.
"use strict";

mlplab.header("train");
const $ = (id) => document.getElementById(id);
const curves = new mlplab.LiveCurves($("acc-chart"), $("loss-chart"));
mlplab.live = curves;
let current = null; // {name, stream}

const BOOK_INIT = { weight_init: "number", weight_init_std: 0.01, dtype: "float32", sampling: "replacement",
                    batchnorm: false, dropout: 0, weight_decay: 0, validation: "" };
const PRESETS = {
  quick: { hidden: "50", activation: "sigmoid", optimizer: "sgd", lr: 0.5, batch_size: 100, iters: 3000,
           train_size: 10000, test_size: 2000, eval_every: 100, ...BOOK_INIT },
  textbook: null, // from /api/options: the book's settings are defined once, in mlplab.data.reference
};

async function init() {
  try {
    const options = await mlplab.api("/api/options");
    PRESETS.textbook = options.textbook;
    $("activation").innerHTML = options.activations.map((a) => `<option>${a}</option>`).join("");
    $("optimizer").innerHTML = options.optimizers.map((o) => `<option>${o}</option>`).join("");
    $("dtype").innerHTML = options.dtypes.map((d) => `<option>${d}</option>`).join("");
    $("sampling").innerHTML = options.samplings.map((d) => `<option>${d}</option>`).join("");
    $("weight_init").innerHTML = `<option value="number">a number</option>` +
      options.weight_inits.map((w) => `<option>${w}</option>`).join("");
    optimizerDefaults = options.optimizer_options;
    optimizerFields();
    $("where").textContent = `Runs are saved in ${options.runs_dir}, like those of mlplab train; ` +
      `at most ${options.max_trainings} training${options.max_trainings > 1 ? "s" : ""} at a time.`;
    const jobs = await mlplab.api("/api/train");
    const active = jobs.jobs.find((j) => j.active);
    if (active) attach(active.name, active.iters); // a training started before this page was opened
  } catch (e) {
    mlplab.showError($("error"), e);
  }
}

// One input per setting of the chosen optimizer (momentum, beta1, …), filled with the library's defaults.
let optimizerDefaults = {};
function optimizerFields() {
  const defaults = optimizerDefaults[$("optimizer").value] || {};
  $("optimizer-options").innerHTML = Object.entries(defaults).map(([key, value]) =>
    `<div class="field"><label for="opt-${key}">${key}</label>` +
    `<input id="opt-${key}" data-option="${key}" type="number" step="any" min="0" max="1" value="${value}"></div>`).join("");
}
$("optimizer").addEventListener("change", optimizerFields);
$("weight_init").addEventListener("change", () => {
  $("weight_init_std").classList.toggle("hidden", $("weight_init").value !== "number");
});

function number(id) {
  const text = $(id).value.trim();
  return text === "" ? null : Number(text);
}

// The form as the API's TrainRequest; a value the browser cannot even read is reported here.
function request() {
  const hidden = $("hidden").value.split(",").map((s) => s.trim()).filter((s) => s);
  if (!hidden.length || hidden.some((s) => !/^\d+$/.test(s))) {
    throw new Error(`hidden sizes: give whole numbers separated by commas, e.g. 100,50 (got "${$("hidden").value}").`);
  }
  const body = {
    hidden: hidden.map(Number), activation: $("activation").value, optimizer: $("optimizer").value,
    lr: number("lr"), batch_size: number("batch_size"), iters: number("iters"), seed: number("seed"),
    train_size: number("train_size"), test_size: number("test_size"), eval_every: number("eval_every"),
    plots: $("plots").checked, dtype: $("dtype").value, sampling: $("sampling").value,
    weight_init_std: $("weight_init").value === "number" ? number("weight_init_std") : $("weight_init").value,
    batchnorm: $("batchnorm").checked, dropout: number("dropout") ?? 0, weight_decay: number("weight_decay") ?? 0,
    validation: number("validation") ?? 0,
    optimizer_options: Object.fromEntries([...document.querySelectorAll("[data-option]")]
      .map((input) => [input.dataset.option, number(input.id)])),
  };
  if (body.weight_init_std === null) throw new Error("initial weights: give a std such as 0.01, or choose he or xavier.");
  for (const [key, value] of Object.entries(body.optimizer_options)) {
    if (value === null) throw new Error(`${key}: give a value, e.g. ${optimizerDefaults[body.optimizer][key]}.`);
  }
  for (const key of ["lr", "batch_size", "iters"]) {
    if (body[key] === null) throw new Error(`${key.replace("_", " ")} is required.`);
  }
  const name = $("name").value.trim();
  if (name) body.name = name;
  return body;
}

$("train-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  mlplab.showError($("error"), null);
  let body;
  try { body = request(); } catch (e) { mlplab.showError($("error"), e); return; }
  $("start").disabled = true;
  $("start").innerHTML = `<span class="spinner"></span> starting…`;
  try {
    const job = await mlplab.post("/api/train", body);
    attach(job.name, job.iters);
  } catch (e) {
    mlplab.showError($("error"), e);
    $("start").disabled = false;
  } finally {
    $("start").textContent = "Start training";
  }
});

$("stop").addEventListener("click", async () => {
  if (!current) return;
  $("stop").disabled = true;
  $("stop").textContent = "stopping…";
  try { await mlplab.post(`/api/train/${current.name.split("/").map(encodeURIComponent).join("/")}/stop`, {}); }
  catch (e) { mlplab.showError($("error"), e); $("stop").disabled = false; $("stop").textContent = "Stop"; }
});

document.querySelectorAll("[data-preset]").forEach((button) => button.addEventListener("click", () => {
  for (const [key, value] of Object.entries(PRESETS[button.dataset.preset] || {})) {
    if ($(key).type === "checkbox") $(key).checked = Boolean(value); else $(key).value = value;
  }
  optimizerFields();
  $("weight_init").dispatchEvent(new Event("change"));
}));

function setStatus(status) {
  $("status").innerHTML = `<span class="badge ${mlplab.escape(status)}">${mlplab.escape(status)}</span>`;
}

function attach(name, iters) {
  if (current) current.stream.close();
  $("run-title").innerHTML = `Run <a href="${mlplab.runUrl(name)}">${mlplab.escape(name)}</a>`;
  setStatus("running");
  $("start").disabled = true;
  $("stop").disabled = false;
  $("stop").textContent = "Stop";
  $("done-note").classList.add("hidden");
  $("progress-text").innerHTML = `<span class="spinner"></span> loading the data…`;
  curves.reset(iters);
  current = { name, iters, stream: null };
  current.stream = mlplab.follow(name, {
    onEvent: (event) => {
      curves.add(event);
      progress(event);
    },
    onDone: (event) => finished(name, event),
  });
}

function progress(event) {
  if (event.event === "start") { current.iters = event.iters; }
  if (event.event === "loss" || event.event === "eval") {
    const done = event.iteration + 1;
    const share = Math.min(1, done / current.iters);
    $("progress-bar").style.width = `${(100 * share).toFixed(1)}%`;
    $("progress-text").textContent = `iteration ${done} of ${current.iters} (${(100 * share).toFixed(0)} %)`;
  }
  if (event.event === "loss") $("loss").textContent = event.loss.toFixed(3);
  if (event.event === "eval") {
    $("train-acc").textContent = mlplab.pct(event.train_acc, 1);
    $("test-acc").textContent = mlplab.pct(event.test_acc, 1);
  }
}

function finished(name, event) {
  $("start").disabled = false;
  $("stop").disabled = true;
  $("stop").textContent = "Stop";
  const note = $("done-note");
  note.classList.remove("hidden");
  if (event.event === "end") {
    setStatus(event.status);
    $("progress-text").textContent = `${event.status}`;
    note.innerHTML = `The run is saved. <a href="${mlplab.runUrl(name)}">Open it</a> for its pictures, diagnosis and replay.`;
  } else {
    setStatus("error");
    mlplab.showError($("error"), new Error(event.message || "the training stopped unexpectedly."));
    note.textContent = "";
  }
}

window.addEventListener("themechange", () => curves.draw());
init();
