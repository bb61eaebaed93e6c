// The side-by-side corpus viewer: asks the server for one page of rows at a time
// (filtering, search and sorting happen there) and draws Arabic | MT | reference.
// Text is always inserted as text nodes, never as HTML.
"use strict";

const SHOWN_ELSEWHERE = new Set([
  "arabic", "english_mt", "english_reference", "article_id", "reference", "row", "source_ids",
  "reference_ids", "alignment_confidence", "flagged", "sentence_chrf", "sentence_bleu", "engine", "model",
]);
const SEARCH_DELAY_MS = 250;

const runSegment = location.pathname.slice("/view/".length);  // still percent-encoded, as the API wants it
const api = `/api/runs/${runSegment}`;
const $ = (id) => document.getElementById(id);
const form = $("controls");
const number = new Intl.NumberFormat("en");

const state = readState();
let matched = 0;  // rows matching the current filters, as last answered
let request = 0;  // the latest request: older answers are dropped

function readState() {
  const p = new URLSearchParams(location.search);
  return {
    show: p.get("show") || "all",
    article: p.get("article") || "",
    check: p.get("check") || "",
    sort: p.get("sort") || "file",
    q: p.get("q") || "",
    offset: Math.max(0, parseInt(p.get("offset") || "0", 10) || 0),
    limit: parseInt(p.get("limit") || "50", 10) || 50,
  };
}

function query() {
  const p = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) {
    const isDefault = (key === "show" && value === "all") || (key === "sort" && value === "file") ||
      (key === "offset" && value === 0) || (key === "limit" && value === 50) || value === "";
    if (!isDefault) p.set(key, String(value));
  }
  return p;
}

// An id, run name or label as shown: every unprintable character (bidi overrides and isolates, other
// format and control characters, separators other than the space) as a visible escape, the way
// Python's tarjama.errors.printable (and report.html) writes it, so "\u202eevil" cannot reorder the
// text around it. Sentence texts are shown as they are: Arabic needs its own direction marks.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
const NAMED_ESCAPES = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

function printable(text) {
  let shown = "";
  for (const char of String(text)) {
    if (char === " " || !UNPRINTABLE.test(char)) {
      shown += char;
      continue;
    }
    const code = char.codePointAt(0);
    const [prefix, digits] = code < 0x100 ? ["\\x", 2] : code < 0x10000 ? ["\\u", 4] : ["\\U", 8];
    shown += NAMED_ESCAPES[char] ?? prefix + code.toString(16).padStart(digits, "0");
  }
  return shown;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// Red (0) through amber to green (1): one scale for chrF/100 and for confidence.
function hue(fraction) {
  return Math.round(120 * Math.min(1, Math.max(0, fraction)));
}

function chip(label, value, fraction, title) {
  const node = element("span", "chip score", `${label} ${value}`);
  if (fraction === null) {
    node.classList.add("none");
  } else {
    node.style.setProperty("--hue", hue(fraction));
  }
  node.title = title;
  return node;
}

// The text with each match of the search (spans found by the server, which folds Arabic letter
// variants and marks as the search does) wrapped in <mark>.
function highlighted(text, spans) {
  const cell = document.createDocumentFragment();
  let from = 0;
  for (const [start, end] of spans || []) {
    cell.append(text.slice(from, start), element("mark", "", text.slice(start, end)));
    from = end;
  }
  cell.append(text.slice(from));
  return cell;
}

function textCell(text, spans, attributes) {
  const td = element("td", "text");
  for (const [name, value] of Object.entries(attributes)) td.setAttribute(name, value);
  if (text) {
    td.append(highlighted(text, spans));
  } else {
    td.classList.add("empty");
    td.append(element("span", "missing", attributes.lang === "ar" ? "(no Arabic)" : "(none)"));
  }
  return td;
}

function metaCell(row) {
  const c = row.cells;
  const td = element("td", "meta");
  const where = element("div", "where");
  where.append(element("strong", "", `#${number.format(c.row ?? row.position + 1)}`));
  const reference = c.reference && c.reference !== "en" ? ` · ${printable(c.reference)}` : "";
  where.append(element("span", "article", ` ${printable(c.article_id ?? "")}${reference}`));
  td.append(where);

  const chips = element("div", "chips");
  const chrf = c.sentence_chrf;
  chips.append(chip("chrF", chrf === null ? "–" : chrf.toFixed(1), chrf === null ? null : chrf / 100,
    "sentence chrF of the MT against the reference"));
  const confidence = c.alignment_confidence;
  chips.append(chip("conf", confidence === null ? "–" : confidence.toFixed(2), confidence,
    "alignment confidence"));
  if (c.flagged) chips.append(element("span", "chip flag", "flagged"));
  for (const name of row.failed_checks) {
    const failed = element("span", "chip failed", `✗ ${printable(name.replace(/^check_/, ""))}`);
    failed.title = `failed check ${printable(name)}`;
    chips.append(failed);
  }
  td.append(chips);

  const ids = element("div", "ids", `ar ${printable(c.source_ids || "–")} ↔ en ${printable(c.reference_ids || "–")}`);
  ids.title = "Arabic and reference sentence numbers in this row";
  td.append(ids);
  const extras = Object.entries(c).filter(([name, value]) =>
    !SHOWN_ELSEWHERE.has(name) && !name.startsWith("check_") && value !== null && value !== "");
  for (const [name, value] of extras) {
    const extra = element("div", "extra", `${printable(name)}: `);
    extra.append(element("bdi", "", String(value)));  // a value keeps its own text, isolated from the name
    td.append(extra);
  }
  return td;
}

function rowElement(row) {
  const c = row.cells;
  const tr = element("tr");
  tr.dataset.position = row.position;
  const confidence = c.alignment_confidence;
  if (confidence !== null) tr.style.setProperty("--confidence-hue", hue(confidence));
  else tr.classList.add("no-confidence");
  if (c.flagged) tr.classList.add("flagged");
  if (row.failed_checks.length) tr.classList.add("failed");
  const found = row.matches || {};
  const mt = textCell(c.english_mt, found.english_mt, { lang: "en", dir: "ltr" });
  mt.classList.add("mt");
  if (c.sentence_chrf !== null) mt.style.setProperty("--hue", hue(c.sentence_chrf / 100));
  tr.append(metaCell(row), textCell(c.arabic, found.arabic, { lang: "ar", dir: "rtl" }), mt,
    textCell(c.english_reference, found.english_reference, { lang: "en", dir: "ltr" }));
  return tr;
}

function showMessage(text, isError) {
  const message = $("message");
  message.hidden = !text;
  message.textContent = text || "";
  message.classList.toggle("error", Boolean(isError));
}

function drawPager(page) {
  const pages = Math.max(1, Math.ceil(page.matched / page.limit));
  const current = Math.floor(page.offset / page.limit) + 1;
  const first = page.matched ? page.offset + 1 : 0;
  const last = Math.min(page.offset + page.limit, page.matched);
  const of = page.matched === page.total ? "" : ` matching (${number.format(page.total)} in all)`;
  $("range").textContent = `Rows ${number.format(first)}–${number.format(last)} of ${number.format(page.matched)}${of}`;
  $("page-of").textContent = `page ${number.format(current)} of ${number.format(pages)}`;
  $("first").disabled = $("prev").disabled = page.offset === 0;
  $("next").disabled = $("last").disabled = last >= page.matched;
}

// The state is the URL: each change the user makes is a new history entry (Back returns to the page,
// sort, filters and search before it), and a copied link opens the same view.
async function load(push = true) {
  const mine = ++request;
  const p = query();
  const url = p.toString() ? `?${p}` : location.pathname;
  if (push && url !== (location.search || location.pathname)) {
    history.pushState(null, "", url);
  } else {
    history.replaceState(null, "", url);
  }
  document.body.classList.add("loading");
  let page;
  try {
    const response = await fetch(`${api}/rows?${p}`, { headers: { Accept: "application/json" } });
    page = await response.json();
    if (!response.ok) throw new Error(page.error || response.statusText);
  } catch (problem) {
    if (mine === request) {
      showMessage(`Could not load rows: ${problem.message}`, true);
      document.body.classList.remove("loading");
    }
    return;
  }
  if (mine !== request) return;
  if (page.offset >= page.matched && page.matched > 0) {  // e.g. a narrower filter: back to its last page
    state.offset = Math.floor((page.matched - 1) / page.limit) * page.limit;
    return load(false);
  }
  const body = document.createDocumentFragment();
  for (const row of page.rows) body.append(rowElement(row));
  $("rows").tBodies[0].replaceChildren(body);
  showMessage(page.rows.length ? "" : "No rows match.", false);
  drawPager(page);
  matched = page.matched;
  document.body.classList.remove("loading");
  document.body.dataset.loaded = String(mine);  // for tests: the page shown answers the latest request
}

function drawSummary(summary) {
  const parts = [`${number.format(summary.rows)} rows`, `${number.format(summary.articles.length)} articles`,
    `${number.format(summary.flagged)} flagged`];
  if (Object.keys(summary.checks).length) parts.push(`${number.format(summary.failed)} failed a check`);
  if (summary.mean_chrf !== null) parts.push(`mean row chrF ${summary.mean_chrf.toFixed(1)}`);
  $("stats").textContent = parts.join(" · ");
  $("count-flagged").textContent = number.format(summary.flagged);
  $("count-failed").textContent = number.format(summary.failed);
  const article = $("article");
  for (const { id, rows } of summary.articles) {
    const option = element("option", "", `${printable(id)} (${number.format(rows)})`);
    option.value = id;  // the id itself: the filter compares it exactly
    article.append(option);
  }
  $("article-field").hidden = summary.articles.length < 2;
  const check = $("check");
  for (const [name, failures] of Object.entries(summary.checks)) {
    const option = element("option", "", `${printable(name.replace(/^check_/, ""))} (${number.format(failures)} failed)`);
    option.value = name;
    check.append(option);
  }
  $("check-field").hidden = Object.keys(summary.checks).length === 0;
}

function syncControls() {
  form.elements.show.value = state.show;
  for (const name of ["article", "check", "sort", "q"]) form.elements[name].value = state[name];
  $("limit").value = String(state.limit);
}

function changed(field) {
  state[field.name] = field.value;
  state.offset = 0;
  load();
}

let searchTimer = 0;
form.addEventListener("change", (event) => {
  if (event.target.name !== "q") changed(event.target);
});
form.addEventListener("input", (event) => {
  if (event.target.name !== "q") return;
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => changed(event.target), SEARCH_DELAY_MS);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  changed(form.elements.q);
});

function goTo(offset) {
  state.offset = Math.max(0, offset);
  load().then(() => window.scrollTo(0, 0));
}
$("first").addEventListener("click", () => goTo(0));
$("prev").addEventListener("click", () => goTo(state.offset - state.limit));
$("next").addEventListener("click", () => goTo(state.offset + state.limit));
$("last").addEventListener("click", () => {
  goTo(Math.floor(Math.max(0, matched - 1) / state.limit) * state.limit);
});
$("limit").addEventListener("change", (event) => {
  state.limit = parseInt(event.target.value, 10);
  state.offset = 0;
  load();
});
window.addEventListener("popstate", () => {
  Object.assign(state, readState());
  syncControls();
  load(false);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "/" && document.activeElement !== form.elements.q) {
    event.preventDefault();
    form.elements.q.focus();
  }
});

async function start() {
  const name = printable(decodeURIComponent(runSegment));
  $("run-name").textContent = name;
  document.title = `${name} · tarjama viewer`;
  syncControls();
  try {
    const response = await fetch(`${api}/summary`, { headers: { Accept: "application/json" } });
    const summary = await response.json();
    if (!response.ok) throw new Error(summary.error || response.statusText);
    drawSummary(summary);
    syncControls();  // the article and check options exist now
  } catch (problem) {
    showMessage(`Could not read this run: ${problem.message}`, true);
    return;
  }
  await load(false);
}

start();
