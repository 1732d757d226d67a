// AnomalyKit's page: no framework, no network beyond this server. Every
// server-provided string reaches the page through textContent, never HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let info = {};

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function fmt(x) {
  if (x === null || x === undefined) return "—";
  const v = Number(x);
  if (!Number.isFinite(v)) return String(x);
  // Six significant digits, without trailing zeros: 3244.19, 0.0123457.
  const text = Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-4 && v !== 0) ? v.toExponential(3) : v.toPrecision(6);
  return text.includes("e") ? text : text.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

function verdictNode(anomalous) {
  if (anomalous === null || anomalous === undefined) return el("span", "no threshold yet", "verdict");
  return el("span", anomalous ? "ANOMALOUS" : "normal", "verdict " + (anomalous ? "anomalous" : "normal"));
}

function showError(id, message) {
  const box = $(id);
  box.textContent = message || "";
  box.hidden = !message;
}

// The server's JSON error ({"error", "status"}), or a plain description.
async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error) return `${response.status}: ${body.error}`;
  } catch (_) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

async function getJSON(path, options) {
  const response = await fetch(path, options);
  if (!response.ok) throw new Error(await errorOf(response));
  return response.json();
}

// MARK: info panel, in words

function describeBank(bank) {
  const m = bank.metadata || {};
  const items = [];
  const patches = m.patches === "true";
  const images = m.fit_images ? `${m.fit_images} normal images` : "normal data";
  const what = patches
    ? `Patch bank: ${bank.count} location features (${bank.dimension}-d) from ${images}`
    : `Image bank: ${bank.count} features (${bank.dimension}-d) from ${images}`;
  items.push(what + (m.backbone ? `, ${m.backbone}` : "") + (m.patch_stages ? ` stages ${m.patch_stages}` : "")
    + (m.input_size ? ` at ${m.input_size} px` : "") + ".");
  if (bank.threshold === null) {
    items.push("No threshold: scores are shown without a verdict.");
  } else {
    const fpr = m.threshold_fpr ? `${(Number(m.threshold_fpr) * 100).toFixed(1)}% false alarms on normal images` : "a target false-alarm rate";
    const folds = m.threshold_folds ? `, cross-fitted over ${m.threshold_folds} folds` : "";
    items.push(`Threshold ${fmt(bank.threshold)}: set on normal images only, at ${fpr}${folds}.`);
  }
  return items;
}

function describeDetector(d) {
  const items = [];
  const guidance = (d.metadata && (d.metadata.descriptions || d.metadata.guidance))
    || (d.modality === "image" ? "the names of ImageNet classes" : "zero-shot guidance");
  items.push(`Cold-start ${d.modality} detector: ${d.classes} normal classes from ${guidance}, rule "${d.rule}".`);
  items.push(d.threshold === null
    ? `${d.observations} observations so far; a threshold appears once enough have arrived.`
    : `${d.observations} observations so far; threshold ${fmt(d.threshold)}, set on the observations kept as normal.`);
  return items;
}

async function loadInfo() {
  info = await getJSON("/v1/info");
  const list = $("info-list");
  list.replaceChildren();
  const lines = [];
  if (info.bank) lines.push(...describeBank(info.bank));
  if (info.detector) lines.push(...describeDetector(info.detector));
  if (lines.length === 0) lines.push("Nothing is loaded.");
  for (const line of lines) list.appendChild(el("li", line));
  $("images").hidden = !(info.bank || (info.detector && info.detector.modality === "image"));
  $("texts").hidden = !(info.detector && info.detector.modality === "text");
  $("observations").hidden = !info.detector;
  const imageDetector = Boolean(info.detector && info.detector.modality === "image");
  $("observation-form").hidden = imageDetector;
  $("observation-images").hidden = !imageDetector;
  return info;
}

// MARK: images

// fetch() options that post one image file as the request body.
function upload(file) {
  return { method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" } };
}

function imageCard(file) {
  const card = el("article", null, "card");
  card.appendChild(el("p", file.name, "name"));
  const pair = el("div", null, "pair");
  const original = el("img");
  original.alt = "uploaded image";
  original.src = URL.createObjectURL(file);
  pair.appendChild(original);
  card.appendChild(pair);
  const facts = el("dl");
  card.appendChild(facts);
  $("image-results").prepend(card);
  return { card, pair, facts };
}

function addFact(facts, name, value) {
  facts.appendChild(el("dt", name));
  const dd = el("dd");
  if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
  facts.appendChild(dd);
}

async function scoreImage(file) {
  const { card, pair, facts } = imageCard(file);
  const patchBank = info.bank && info.bank.metadata && info.bank.metadata.patches === "true";
  try {
    if (patchBank) {
      // One request: the overlay with its colour bar as a PNG, the numbers in headers.
      const response = await fetch("/v1/score/image?format=png", upload(file));
      if (!response.ok) throw new Error(await errorOf(response));
      const heatmap = el("img", null, "heatmap");
      heatmap.alt = "heatmap overlay with colour bar";
      heatmap.src = URL.createObjectURL(await response.blob());
      pair.appendChild(heatmap);
      const anomalous = response.headers.get("X-AnomalyKit-Anomalous");
      addFact(facts, "score", fmt(response.headers.get("X-AnomalyKit-Score")));
      addFact(facts, "threshold", fmt(info.bank.threshold));
      addFact(facts, "verdict", verdictNode(anomalous === "null" ? null : anomalous === "true"));
    } else {
      const body = await getJSON("/v1/score/image", upload(file));
      const result = body.results ? body.results[0] : body;
      addFact(facts, "score", fmt(result.score));
      addFact(facts, "threshold", fmt(body.threshold !== undefined ? body.threshold : (info.detector || {}).threshold));
      if (result.class) addFact(facts, "nearest class", result.class);
      addFact(facts, "verdict", verdictNode(result.anomalous));
    }
    card.dataset.state = "done";
    showError("image-error", "");
  } catch (error) {
    card.remove();
    showError("image-error", `${file.name}: ${error.message}`);
  }
}

async function scoreFiles(files) {
  for (const file of files) await scoreImage(file);
}

function setUpImages() {
  const input = $("image-input");
  input.addEventListener("change", () => { scoreFiles(Array.from(input.files)); });
  const drop = $("drop");
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, (event) => { event.preventDefault(); drop.classList.remove("over"); });
  }
  drop.addEventListener("drop", (event) => { scoreFiles(Array.from(event.dataTransfer.files)); });
}

// MARK: texts and observations

function lines(text) {
  return text.split("\n").map((s) => s.trim()).filter((s) => s.length > 0);
}

async function postTexts(path, texts) {
  return getJSON(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ texts }) });
}

function setUpTexts() {
  $("text-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const texts = lines($("text-input").value);
    if (texts.length === 0) { showError("text-error", "Type at least one query."); return; }
    const button = $("text-score");
    button.disabled = true;
    try {
      const body = await postTexts("/v1/score/text", texts);
      const table = $("text-results");
      const rows = table.querySelector("tbody");
      rows.replaceChildren();
      for (const r of body.results) {
        const tr = el("tr");
        tr.appendChild(el("td", r.text));
        tr.appendChild(el("td", fmt(r.score), "num"));
        tr.appendChild(el("td", r.class));
        const verdict = el("td");
        verdict.appendChild(verdictNode(r.anomalous));
        tr.appendChild(verdict);
        rows.appendChild(tr);
      }
      table.hidden = false;
      table.dataset.state = "done";
      showError("text-error", "");
    } catch (error) {
      showError("text-error", error.message);
    } finally {
      button.disabled = false;
    }
  });

  $("observation-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const texts = lines($("observation-input").value);
    if (texts.length === 0) { showError("observation-error", "Type at least one observation."); return; }
    if (await observe($("observation-submit"), () => postTexts("/v1/observations", texts))) $("observation-input").value = "";
  });

  // An image detector observes images, one request each.
  const images = $("observation-image-input");
  images.addEventListener("change", async () => {
    for (const file of Array.from(images.files)) {
      await observe(images, () => getJSON("/v1/observations", upload(file)), file.name);
    }
  });
}

// Posts observations, then shows the count and the threshold as they move;
// true when the server took them.
async function observe(control, post, label) {
  control.disabled = true;
  try {
    const body = await post();
    const status = $("observation-status");
    status.textContent = `${body.accepted} accepted; ${body.observations} observations in all; threshold ${body.threshold === null ? "not yet set" : fmt(body.threshold)}.`;
    status.dataset.observations = String(body.observations);
    $("threshold-history").appendChild(el("li", `after ${body.observations}: threshold ${body.threshold === null ? "—" : fmt(body.threshold)}`));
    showError("observation-error", "");
    await loadInfo();
    return true;
  } catch (error) {
    showError("observation-error", label ? `${label}: ${error.message}` : error.message);
    return false;
  } finally {
    control.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  setUpImages();
  setUpTexts();
  try {
    await loadInfo();
    document.body.dataset.ready = "true";
  } catch (error) {
    $("info-list").replaceChildren(el("li", `Cannot reach the service: ${error.message}`));
  }
});
