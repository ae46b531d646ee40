// The Palimpsest web page: search, history, changes and documents over the JSON API.
//
// The whole state of the page lives in its URL (view, query, filters, time mode, page, the
// document and version shown), so a search can be shared and the back button works. Every
// view is drawn from the URL by `render`; links are real links, and clicks on them only
// push a new URL. Nothing is loaded from another origin. The only HTML parsed is the
// server's rendering of Markdown (`html=true`: written from an allow-list of elements and
// attributes, see server/src/render.rs), in `rendered`; nothing else goes through a parser.

const API = "/api/v1";
const PAGE = 20;
const LIST_FILTERS = ["service", "terms_type", "collection"];
const MODES = ["current", "as_of", "between", "history"];
const CHANGE_KINDS = ["added", "removed", "modified", "moved"];

// ---------------------------------------------------------------------------------------
// State <-> URL

/** Reads the state of the page from a URL's query string. */
function readState(search) {
  const p = new URLSearchParams(search);
  const one = (name) => (p.get(name) || "").trim();
  const mode = MODES.includes(one("mode")) ? one("mode") : "";
  return {
    view: ["search", "history", "changes", "document"].includes(one("view")) ? one("view") : "search",
    q: p.get("q") || "",
    service: p.getAll("service"),
    terms_type: p.getAll("terms_type"),
    collection: p.getAll("collection"),
    section: one("section"),
    year: one("year"),
    mode,
    as_of: one("as_of"),
    from: one("from"),
    to: one("to"),
    offset: Math.max(0, parseInt(one("offset"), 10) || 0),
    sort: one("sort"),
    first_records: one("first_records") === "true",
    group: one("group") === "version" ? "version" : "",
    hide_minor: one("minor") === "false",
    technical_upgrades: one("technical_upgrades") === "true",
    kind: p.getAll("kind").filter((k) => CHANGE_KINDS.includes(k)),
    layout: one("layout") === "split" ? "split" : "",
    by: one("by") === "year" ? "year" : "month",
    // Document view.
    document: one("document"),
    at: one("at"),
    focus: one("focus"),
    span: one("span"),
    hl: p.get("hl") || "",
    from_version: p.get("from_version") || "",
    to_version: p.get("to_version") || "",
  };
}

/** The URL of a state: only the values that differ from the defaults. */
function urlOf(state) {
  const p = new URLSearchParams();
  const put = (name, value) => {
    if (value !== "" && value !== false && value !== undefined && value !== null) p.append(name, String(value));
  };
  if (state.view !== "search") put("view", state.view);
  if (state.view === "document") {
    put("document", state.document);
    for (const c of state.collection) put("collection", c);
    put("at", state.at);
    put("focus", state.focus);
    put("span", state.span);
    put("hl", state.hl);
    put("from_version", state.from_version);
    put("to_version", state.to_version);
    if (state.from_version) put("layout", state.layout);
    return "/" + (p.toString() ? "?" + p : "");
  }
  put("q", state.q);
  for (const name of LIST_FILTERS) for (const v of state[name]) put(name, v);
  put("section", state.section);
  if (state.view === "search") put("year", state.year);
  put("mode", state.mode);
  if (state.mode === "as_of") put("as_of", state.as_of);
  if (state.mode === "between") {
    put("from", state.from);
    put("to", state.to);
  }
  if (state.view === "changes") {
    put("sort", state.sort);
    put("first_records", state.first_records);
    put("technical_upgrades", state.technical_upgrades);
    put("group", state.group);
    for (const k of state.kind) put("kind", k);
    if (!state.group) put("layout", state.layout);
    if (state.hide_minor) put("minor", "false");
  }
  if (state.view === "history" && state.by !== "month") put("by", state.by);
  if (state.offset) put("offset", state.offset);
  return "/" + (p.toString() ? "?" + p : "");
}

/** The time mode in effect: search defaults to "in force now", the others to all history. */
function modeOf(state) {
  if (state.mode) return state.mode;
  return state.view === "search" ? "current" : "history";
}

/** A copy of `state` with `changes` applied; any change but paging goes back to page 1. */
function withState(state, changes) {
  const next = { ...state, ...changes };
  if (!("offset" in changes)) next.offset = 0;
  return next;
}

/** A search-like view's state, keeping the query, filters and time of `state`. */
function viewState(state, view) {
  const next = withState(state, { view, document: "", at: "", focus: "", span: "", hl: "", from_version: "", to_version: "" });
  if (state.view === "document") {
    next.collection = [];
  }
  return next;
}

/** The document view of one document. */
function documentState(service, termsType, collection, extra = {}) {
  return {
    ...readState(""),
    view: "document",
    document: `${service}/${termsType}`,
    collection: collection ? [collection] : [],
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------
// DOM helpers

/** Creates an element: `h("a", {href: "/"}, "text", child)`. Strings become text nodes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Replaces the children of `el`, leaving out empty ones. */
function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return append(el, children);
}

/** A link to another state of the page; a plain click moves there without a reload. */
function link(state, children, attrs = {}) {
  return h("a", { href: urlOf(state), "data-nav": true, ...attrs }, children);
}

/** "Did you mean …", a link to the corrected query, when the answer suggests one. */
function didYouMean(state, answer) {
  if (!answer.did_you_mean) return null;
  return h("p", { class: "did-you-mean" }, "Showing results for ", link(withState(state, { q: answer.did_you_mean, offset: 0 }), answer.did_you_mean), " (words not found were matched by the nearest indexed words).");
}

/** A snippet from the API: plain text and the character ranges of its matches. */
function snippet(data) {
  const out = h("p", { class: "snippet" });
  const chars = Array.from(data.text);
  let at = 0;
  for (const [start, end] of data.highlights) {
    if (start < at || end <= start) continue;
    out.append(chars.slice(at, start).join(""), h("mark", {}, chars.slice(start, end).join("")));
    at = end;
  }
  out.append(chars.slice(at).join(""));
  return out;
}

/** Markdown the server rendered as safe HTML, as the children of a new `tag`. */
function rendered(html, tag = "div", attrs = {}) {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  const el = h(tag, attrs);
  el.append(...parsed.body.childNodes);
  return el;
}

/** A version id as people tell them apart: a commit's first 10 hex digits, a file's name. */
function shortId(id) {
  if (id.includes("/")) return id.split("/").pop().replace(/\.md$/, "");
  return /^[0-9a-f]{40}$/.test(id) ? id.slice(0, 10) : id;
}

/** Date and time, to the minute, in UTC: versions of one day told apart. */
function minute(instant) {
  return instant ? `${instant.slice(0, 10)} ${instant.slice(11, 16)}` : "";
}

function day(instant) {
  return instant ? instant.slice(0, 10) : "";
}

function time(instant) {
  return h("time", { datetime: instant, title: instant }, day(instant));
}

function plural(n, one, many = one + "s") {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

/** Absences shorter than this are shown as brief ones within an interval (the server's
 * `BRIEF_ABSENCE_HOURS`, from `scripts/brief_absences.py`). */
const BRIEF_ABSENCE_HOURS = 72;

const KIND_NAMES = {
  first_record: "first record",
  change: "change",
  technical_upgrade: "technical upgrade",
  deleted: "deleted",
  added: "added",
  removed: "removed",
  modified: "modified",
  moved: "moved",
};

function badge(kind) {
  return h("span", { class: `badge ${kind}` }, KIND_NAMES[kind] || kind);
}

function path(section) {
  if (!section || section.length === 0) return h("span", { class: "path muted" }, "(before the first heading)");
  return h("span", { class: "path" }, section.join(" › "));
}

// ---------------------------------------------------------------------------------------
// The API

class ApiFailure extends Error {
  constructor(status, code, message, suggestions) {
    super(message);
    this.status = status;
    this.code = code;
    this.suggestions = suggestions || null;
  }
}

let inflight = null;

/** GETs an endpoint; throws an ApiFailure with the server's own message on an error. */
async function api(path, params = {}, signal) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (Array.isArray(value)) for (const v of value) query.append(name, v);
    else if (value !== "" && value !== undefined && value !== null && value !== false) query.append(name, String(value));
  }
  const url = API + path + (query.toString() ? "?" + query : "");
  let response;
  try {
    response = await fetch(url, { signal, headers: { Accept: "application/json" } });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiFailure(0, "unreachable", "The server did not answer. Is `palimpsest serve` still running?");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail = body && body.error ? body.error : {};
    throw new ApiFailure(response.status, detail.code || String(response.status), detail.message || response.statusText, detail.suggestions);
  }
  return body;
}

function encodePart(text) {
  return encodeURIComponent(text);
}

function filterParams(state) {
  return {
    service: state.service,
    terms_type: state.terms_type,
    collection: state.collection,
    section: state.section,
  };
}

// ---------------------------------------------------------------------------------------
// Page frame: form, chips, facets, messages

const $ = (id) => document.getElementById(id);

function syncForm(state) {
  const form = $("query");
  form.hidden = state.view === "document";
  if (document.activeElement !== form.q) form.q.value = state.q;
  const mode = modeOf(state);
  for (const input of form.querySelectorAll("input[name=mode]")) input.checked = input.value === mode;
  form.as_of.value = state.as_of;
  form.from.value = state.from;
  form.to.value = state.to;
  // Changes and history cover a window or all history; "now" and "as of" are for sections.
  const allowed = {
    search: MODES,
    changes: ["between", "history"],
    history: ["between", "history"],
    document: [],
  }[state.view];
  for (const label of form.querySelectorAll("[data-mode]")) label.hidden = !allowed.includes(label.dataset.mode);
  $("time").hidden = allowed.length === 0;
  for (const view of ["search", "history", "changes"]) {
    const nav = $(`nav-${view}`);
    nav.href = urlOf(viewState(state, view));
    if (state.view === view) nav.setAttribute("aria-current", "page");
    else nav.removeAttribute("aria-current");
  }
  document.title = titleOf(state);
}

function titleOf(state) {
  if (state.view === "document") return `${state.document.replace("/", " · ")} — Palimpsest`;
  const name = { search: "Search", history: "History", changes: "Changes" }[state.view];
  return state.q ? `${state.q} — ${name} — Palimpsest` : `${name} — Palimpsest`;
}

function stateFromForm(state) {
  const form = $("query");
  const mode = form.querySelector("input[name=mode]:checked")?.value || "";
  return withState(state, {
    q: form.q.value.trim(),
    mode: mode === modeOf({ ...state, mode: "" }) ? "" : mode,
    as_of: form.as_of.value,
    from: form.from.value,
    to: form.to.value,
  });
}

/** Removable chips for the filters in force. */
function drawChips(state) {
  const chips = $("chips");
  chips.replaceChildren();
  if (state.view === "document") return;
  const chip = (label, value, without) =>
    h("li", {}, link(without, [h("span", { class: "muted" }, label + ": "), value, h("span", { "aria-hidden": "true" }, " ✕")], {
      class: "chip",
      "aria-label": `Remove the filter ${label} ${value}`,
    }));
  const items = [];
  for (const name of LIST_FILTERS) {
    for (const value of state[name]) {
      items.push(chip(name.replace("_", " "), value, withState(state, { [name]: state[name].filter((v) => v !== value) })));
    }
  }
  if (state.section) items.push(chip("section", state.section, withState(state, { section: "" })));
  if (state.view === "changes") {
    for (const k of state.kind) items.push(chip("kind", KIND_NAMES[k], withState(state, { kind: state.kind.filter((v) => v !== k) })));
  }
  if (state.year && state.view === "search") items.push(chip("appeared in", state.year, withState(state, { year: "" })));
  if (items.length) chips.append(h("ul", {}, items));
}

/** A facet group; `select(value)` gives the state a click moves to, or null for plain counts. */
function facetGroup(title, counts, active, select) {
  if (!counts || counts.length === 0) return null;
  const items = counts.map(({ value, count }) => {
    const on = active(value);
    const label = [h("span", { class: value ? "value" : "value muted" }, value || "(before the first heading)"), h("span", { class: "count" }, count.toLocaleString("en"))];
    const target = select ? select(value, on) : null;
    return h("li", {}, target ? link(target, label, { "aria-pressed": on ? "true" : "false", class: on ? "facet on" : "facet" }) : h("span", { class: "facet" }, label));
  });
  return h("section", { class: "facet-group" }, h("h2", {}, title), h("ul", {}, items));
}

function toggle(state, name, value, on) {
  const values = on ? state[name].filter((v) => v !== value) : [...state[name], value];
  return withState(state, { [name]: values });
}

function drawFacets(groups, note) {
  const aside = $("facets");
  aside.replaceChildren();
  const present = groups.filter(Boolean);
  if (present.length === 0) return;
  const details = h("details", { class: "facets", open: window.matchMedia("(min-width: 48rem)").matches }, h("summary", {}, "Refine"), note ? h("p", { class: "small muted facet-note" }, note) : null, present);
  aside.append(details);
}

/** For a filter naming nothing the index holds: links to the same view with each close name
 * the server offers instead. For a document several collections hold (no name given): links
 * to it in each collection. */
function suggestionLinks(state, suggestions) {
  if (!suggestions || !suggestions.names.length || !LIST_FILTERS.includes(suggestions.parameter)) return null;
  const name = suggestions.parameter;
  const choosing = suggestions.name === "";
  const inDocument = state.view === "document" && name !== "collection" && !choosing;
  const next = (value) => {
    if (inDocument) {
      const { service, termsType } = documentParts(state) || { service: "", termsType: "" };
      return withState(state, { document: name === "service" ? `${value}/${termsType}` : `${service}/${value}` });
    }
    return withState(state, { [name]: choosing ? [value] : state[name].map((v) => (v === suggestions.name ? value : v)) });
  };
  const links = suggestions.names.map((value) => link(next(value), value, { class: "suggestion" }));
  const joined = links.flatMap((a, i) => (i ? [" or ", a] : [a]));
  if (choosing) return h("p", { class: "did-you-mean" }, "Choose the collection: ", joined, ".");
  return h("p", { class: "did-you-mean" }, "Did you mean ", joined, "?");
}

function message(kind, title, ...text) {
  return h("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, h("h2", {}, title), text.length ? h("p", {}, text) : null);
}

/** What went wrong, in words, by the server's error code; its message says the rest. */
const ERROR_TITLES = {
  invalid_parameter: "This cannot be asked as it stands",
  unknown_parameter: "This cannot be asked as it stands",
  invalid_query: "The search cannot be read",
  unknown_name: "No such name in this archive",
  not_found: "Not found",
  date_in_future: "That date is still to come",
  time_budget_exceeded: "This took too long",
  overloaded: "The server is busy",
  answer_too_large: "The answer would be too large",
  no_index: "There is no index yet",
  other_schema: "The index needs rebuilding",
  index_verifying: "The index is being checked",
  index_damaged: "The index is damaged",
};

function errorMessage(error, state) {
  if (error instanceof ApiFailure) {
    const what = error.status ? ERROR_TITLES[error.code] || "The server could not answer" : "No answer";
    const offer = state ? suggestionLinks(state, error.suggestions) : null;
    // The links below say "did you mean" once: the message need not say it too.
    const text = offer ? error.message.replace(/;?\s*did you mean [^]*$/i, ".") : error.message;
    const box = message("error", what, text);
    if (offer) box.append(offer);
    return box;
  }
  return message("error", "Something went wrong on this page", String(error && error.message ? error.message : error));
}

/** Previous and next page links for a list of `total` of which `shown` are on this page. */
function pager(state, total, shown, size = PAGE) {
  const prev = state.offset > 0 ? link(withState(state, { offset: Math.max(0, state.offset - size) }), "← Previous", { rel: "prev" }) : null;
  const next = state.offset + shown < total && state.offset + size < 10000 ? link(withState(state, { offset: state.offset + size }), "Next →", { rel: "next" }) : null;
  if (!prev && !next) return null;
  return h("nav", { class: "pager", "aria-label": "Pages" }, prev, h("span", { class: "muted" }, `${state.offset + 1}–${state.offset + shown} of ${total.toLocaleString("en")}`), next);
}

// ---------------------------------------------------------------------------------------
// Search view

function timeLabel(state) {
  switch (modeOf(state)) {
    case "current":
      return "in force now";
    case "as_of":
      return state.as_of ? `in force on ${state.as_of}` : "in force now";
    case "between":
      return `in force between ${state.from || "the first record"} and ${state.to || "now"}`;
    default:
      return "ever recorded";
  }
}

/** The query string of a list's parameters without its page (`limit`, `offset`). */
function listQuery(params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (name === "limit" || name === "offset") continue;
    if (Array.isArray(value)) value.forEach((v) => query.append(name, v));
    else if (value) query.append(name, value);
  }
  return query;
}

/** Links that download every result of a list (`/api/v1/export/…`), past the pages. */
function exportLinks(list, params, total) {
  const query = listQuery(params);
  const href = (format) => {
    const q = new URLSearchParams(query);
    q.set("format", format);
    return `${API}/export/${list}?${q}`;
  };
  return h(
    "p",
    { class: "exports muted" },
    `Download all ${total.toLocaleString("en")}: `,
    h("a", { href: href("csv"), download: `palimpsest-${list}.csv`, "data-format": "csv" }, "CSV"),
    " · ",
    h("a", { href: href("jsonl"), download: `palimpsest-${list}.jsonl`, "data-format": "jsonl" }, "JSON Lines"),
  );
}

function searchParams(state) {
  const mode = modeOf(state);
  const params = { q: state.q || "*", ...filterParams(state), year: state.year, limit: PAGE, offset: state.offset };
  if (mode === "as_of" && state.as_of) params.as_of = state.as_of;
  if (mode === "between") {
    params.from = state.from;
    params.to = state.to;
  }
  if (mode === "history") params.history = "true";
  return params;
}

async function drawSearch(state, main, signal) {
  if (!state.q && !hasFilters(state)) return drawWelcome(main, signal);
  if (modeOf(state) === "between" && !state.from && !state.to) {
    fill(main, message("error", "Choose dates", "Give a start date, an end date or both for “between”."));
    return;
  }
  const answer = await api("/search", searchParams(state), signal);
  const f = answer.facets;
  drawFacets([
    facetGroup("Service", f.service, (v) => state.service.includes(v), (v, on) => toggle(state, "service", v, on)),
    facetGroup("Terms type", f.terms_type, (v) => state.terms_type.includes(v), (v, on) => toggle(state, "terms_type", v, on)),
    facetGroup("Collection", f.collection, (v) => state.collection.includes(v), (v, on) => toggle(state, "collection", v, on)),
    // Text before the first heading has no path to filter by: counted, not a link.
    facetGroup("Section", f.section, (v) => v !== "" && state.section === v, (v, on) => (v === "" ? null : withState(state, { section: on ? "" : v }))),
    facetGroup("Year the text appeared", f.year, (v) => state.year === v, (v, on) => withState(state, { year: on ? "" : v })),
  ], modeOf(state) === "current" || modeOf(state) === "as_of" ? null : "Counts are of texts: a section counts once for each text it had. The list has one entry per section, its texts together.");
  const heading = h("h1", { class: "summary" }, `${plural(answer.total, "section")} ${timeLabel(state)}`, state.q ? ` ${answer.total === 1 ? "matches" : "match"} ${state.q}` : "");
  const coverage = coverageNote(state, answer.coverage);
  if (answer.total === 0) {
    fill(main, heading, coverage, message("empty", "No results", "No section matches this query with these filters and time. Try fewer words, another time, or remove a filter."));
    return;
  }
  const list = h("ol", { class: "hits", start: state.offset + 1 }, answer.hits.map((hit) => h("li", {}, drawHit(state, hit))));
  const every = answer.all_words < answer.total ? h("p", { class: "muted" }, `${plural(answer.all_words, "section")} hold every word; the others most of them.`) : null;
  fill(main, heading, didYouMean(state, answer), coverage, every, list, pager(state, answer.total, answer.hits.length), exportLinks("search", searchParams(state), answer.total));
}

function hasFilters(state) {
  return LIST_FILTERS.some((n) => state[n].length) || state.section || state.year;
}

/** The instant to open a hit at: the date asked for, else the start of its text. */
function hitInstant(state, hit) {
  const mode = modeOf(state);
  if (mode === "as_of" && state.as_of) return state.as_of;
  if (mode === "current") return "";
  return hit.valid_from;
}

function drawHit(state, hit) {
  const target = documentState(hit.service, hit.terms_type, hit.collection, {
    at: hitInstant(state, hit),
    span: hit.span,
    hl: state.q && state.q !== "*" ? state.q : "",
  });
  const validity = hitDates(hit);
  return h(
    "article",
    { class: "hit" },
    h("p", { class: "doc" }, h("strong", {}, hit.service), " · ", hit.terms_type, h("span", { class: "muted" }, ` · ${(hit.collections || [hit.collection]).join(", ")}`)),
    h("h2", {}, link(target, hit.section.length ? hit.section.join(" › ") : hit.title || "(untitled section)")),
    snippet(hit.snippet),
    h("p", { class: "meta" }, validity, hit.matched_terms && hit.matched_terms.length ? h("span", { class: "muted" }, ` · holds ${hit.matched_terms.join(", ")}`) : null),
  );
}

/** When a text was in force: "in force since A", or "in force A → B, and again C → now";
 * "tracked since A" when it was there at the document's first record (it may be older). */
function inForce(intervals, trackedSince) {
  const first = intervals[0];
  const tracked = trackedSince && first && first.from === trackedSince;
  if (intervals.length === 1 && !first.to) return h("span", {}, tracked ? "tracked since " : "in force since ", time(first.from));
  const parts = intervals.map((iv, i) => [i === 0 ? "" : i === intervals.length - 1 ? ", and again " : ", again ", ...ivTimes(iv), i === 0 && tracked ? " (there when tracking began)" : ""]);
  return h("span", {}, "in force ", parts);
}

/** An interval as <time> elements: days, to the minute when it starts and ends on one day. */
function ivTimes(iv) {
  if (iv.to && day(iv.from) === day(iv.to)) {
    return [h("time", { datetime: iv.from, title: iv.from }, minute(iv.from)), " → ", h("time", { datetime: iv.to, title: iv.to }, iv.to.slice(11, 16)), " UTC"];
  }
  return [time(iv.from), " → ", iv.to ? time(iv.to) : "now"];
}

/** A hit's dates in each collection holding its text: "in force since 2024-07-25 (pga),
 * 2025-09-13 (vlopses-us)"; a text there since a collection began tracking the document
 * reads "tracked since" (it may be older). */
function hitDates(hit) {
  const records = hit.by_collection && hit.by_collection.length ? hit.by_collection : [{ collection: hit.collection, intervals: hit.intervals, valid_from: hit.valid_from, valid_to: hit.valid_to }];
  const intervalsOf = (r) => (r.intervals && r.intervals.length ? r.intervals : [{ from: r.valid_from, to: r.valid_to }]);
  if (records.length === 1) return h("span", { class: "dates" }, inForce(intervalsOf(records[0]), records[0].tracked_since));
  const tracked = (r) => r.valid_from === r.tracked_since;
  if (records.every((r) => intervalsOf(r).length === 1 && !r.valid_to)) {
    const parts = records.map((r, i) => {
      const switched = i === 0 || tracked(r) !== tracked(records[i - 1]);
      const lead = !switched ? "" : tracked(r) ? "tracked since " : "in force since ";
      return [i === 0 ? "" : ", ", lead, time(r.valid_from), h("span", { class: "muted" }, ` (${r.collection})`)];
    });
    return h("span", { class: "dates" }, parts);
  }
  const parts = records.map((r, i) => {
    const ivs = intervalsOf(r).map((iv, j) => [j === 0 ? "" : ", ", ...ivTimes(iv)]);
    const note = tracked(r) ? ", there when tracking began" : "";
    return [i === 0 ? "" : "; ", ivs, h("span", { class: "muted" }, ` (${r.collection}${note})`)];
  });
  return h("span", { class: "dates" }, "in force ", parts);
}

/** What the archive recorded of the documents searched, when it bounds the answer:
 * "Not tracked before 2022-07-11" when the time asked precedes every record. */
function coverageNote(state, coverage) {
  if (!coverage) return null;
  const first = day(coverage.first_recorded);
  const mode = modeOf(state);
  const asked = mode === "as_of" ? state.as_of : mode === "between" ? state.to : "";
  const beforeAll = asked && (mode === "as_of" ? asked < coverage.first_recorded : asked <= coverage.first_recorded);
  const docs = coverage.documents === 1 ? "this document" : "these documents";
  let text;
  if (coverage.not_tracked === coverage.documents && beforeAll) {
    text = [h("strong", {}, `Not tracked before ${first}`), `: the archive holds no version of ${docs} from before then, so an empty answer says nothing about that time.`];
  } else if (coverage.not_tracked > 0) {
    text = [h("strong", {}, `${coverage.not_tracked} of ${plural(coverage.documents, "document")} not tracked then`), ` (the first recorded ${first}): they cannot match.`];
  } else {
    return h("p", { class: "coverage info small muted" }, `Tracked from ${first} to ${day(coverage.last_recorded)} (the last record).`);
  }
  return h("p", { class: "coverage" }, text);
}

/** The page without a query: what the archive holds, with links to each document. */
async function drawWelcome(main, signal) {
  const [stats, services] = await Promise.all([api("/stats", {}, signal), api("/services", {}, signal)]);
  drawFacets([]);
  const rows = services.services.flatMap((service) =>
    service.documents.map((doc) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, service.service),
        h("td", {}, link(documentState(service.service, doc.terms_type, doc.collection), doc.terms_type)),
        // The unit shows on a phone, where the rows are stacked without their column heads.
        h("td", { class: "num" }, doc.versions.toLocaleString("en"), h("span", { class: "unit" }, doc.versions === 1 ? " version" : " versions")),
        h("td", {}, time(doc.first_recorded), " → ", time(doc.last_recorded)),
        h("td", { class: "muted" }, doc.collection),
      ),
    ),
  );
  fill(main, 
    h("h1", { class: "summary" }, "What this archive holds"),
    h(
      "p",
      { class: "lead" },
      `${plural(stats.documents, "document")} in ${plural(stats.collections, "collection")}, ${plural(stats.versions, "version")}. `,
      "Search what is in force now, on any date, or ever; see when a text was in force in History, and what changed in Changes.",
    ),
    rows.length
      ? h(
          "div",
          { class: "scroll" },
          h(
            "table",
            { class: "documents" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Service"), h("th", { scope: "col" }, "Document"), h("th", { scope: "col" }, "Versions"), h("th", { scope: "col" }, "Recorded"), h("th", { scope: "col" }, "Collection"))),
            h("tbody", {}, rows),
          ),
        )
      : message("empty", "The archive is empty", "Index an archive with `palimpsest index` first."),
  );
}

// ---------------------------------------------------------------------------------------
// History view: intervals per document, and the trend

async function drawHistory(state, main, signal) {
  if (!state.q) {
    drawFacets([]);
    fill(main, message("empty", "Type a query", "History shows, for each document, when text matching the query was in force, and the share of documents that had it over time."));
    return;
  }
  const range = modeOf(state) === "between" ? { from: state.from, to: state.to } : {};
  const [history, trend] = await Promise.all([
    api("/history", { q: state.q, ...filterParams(state), limit: 50, offset: state.offset }, signal),
    api("/trend", { q: state.q, ...filterParams(state), by: state.by, ...range }, signal),
  ]);
  drawFacets([]);
  const heading = h("h1", { class: "summary" }, `${plural(history.total, "document")} ever had text matching ${state.q}`);
  if (history.total === 0) {
    fill(main, heading, message("empty", "No results", "No version of any document matches this query with these filters."));
    return;
  }
  const axis = timeAxis(history.documents, trend);
  fill(main,
    heading,
    drawTrend(state, trend, axis),
    drawTimeline(history.documents, axis),
    history.total > 50 ? pager(state, history.total, history.documents.length, 50) : null,
    exportLinks("history", { q: state.q, ...filterParams(state) }, history.total),
  );
}

/** The time axis the trend and the intervals share: from the first period of the trend
 * or the first sighting, whichever is earlier, to the end of the last period or now. */
function timeAxis(documents, trend) {
  const now = Date.now();
  const points = trend.points;
  const starts = documents.map((d) => Date.parse(d.first_seen));
  let end = now;
  if (points.length) {
    starts.push(Date.parse(points[0].start));
    end = Math.max(end, periodEnd(trend.by, points[points.length - 1].start));
  }
  const start = Math.min(...starts);
  const span = Math.max(1, end - start);
  return { start, end, now, at: (t) => ((Math.min(Math.max(t, start), end) - start) / span) * 100 };
}

/** The instant a trend period starting at `start` ends. */
function periodEnd(by, start) {
  const d = new Date(start);
  return by === "year" ? Date.UTC(d.getUTCFullYear() + 1, 0, 1) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Ticks of the shared axis: each new year, or months when it spans less than two years. */
function axisTicks(axis) {
  const ticks = [];
  const first = new Date(axis.start);
  for (let y = first.getUTCFullYear() + 1; Date.UTC(y, 0, 1) <= axis.end; y++) ticks.push([Date.UTC(y, 0, 1), String(y)]);
  if (ticks.length >= 2) return ticks;
  const months = [];
  for (let m = first.getUTCMonth() + 1, y = first.getUTCFullYear(); Date.UTC(y, m, 1) <= axis.end; m++) months.push(Date.UTC(y, m, 1));
  const step = Math.max(1, Math.ceil(months.length / 6));
  return months.filter((_, i) => i % step === 0).map((t) => [t, new Date(t).toISOString().slice(0, 7)]);
}

function axisRow(axis) {
  const ticks = axisTicks(axis).map(([t, label]) => h("span", { class: "tick", "data-left": `${axis.at(t).toFixed(3)}%` }, label));
  return h("div", { class: "axis-row", "aria-hidden": "true" }, ticks);
}

/** Positions are set through the CSS object model: the page's policy forbids inline styles. */
function placeAll(root) {
  for (const el of root.querySelectorAll("[data-left], [data-bottom]")) {
    if (el.dataset.left) el.style.left = el.dataset.left;
    if (el.dataset.width) el.style.width = el.dataset.width;
    if (el.dataset.bottom) el.style.bottom = el.dataset.bottom;
  }
  return root;
}

function drawTrend(state, trend, axis) {
  const points = trend.points;
  const section = h("section", { class: "trend", "aria-labelledby": "trend-title" });
  const other = state.by === "month" ? "year" : "month";
  section.append(
    h("h2", { id: "trend-title" }, `Share of tracked documents with a match, by ${state.by}`, " ", link(withState(state, { by: other }), `(by ${other})`, { class: "small" })),
  );
  if (points.length === 0) {
    section.append(message("empty", "Nothing to chart", "No document was tracked in this window."));
    return section;
  }
  // A period with no document tracked has no share (null): nothing is known of it.
  const max = Math.max(0, ...points.map((p) => p.share || 0));
  // The axis ends at the first round share above the highest: 1-2 % fill the chart too.
  const top = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1].find((t) => t >= max) || 1;
  // The plot is in time units (0-1000 across the shared axis), stretched to its box; its
  // labels are HTML beside it, so that they keep their size (11 px and more) everywhere.
  const W = 1000;
  const H = 200;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", class: "chart", role: "img", "aria-labelledby": "trend-title trend-desc", "data-top": top });
  svg.append(s("desc", { id: "trend-desc" }, `From ${points[0].period} to ${points[points.length - 1].period}; highest share ${(max * 100).toFixed(1)} %.`));
  const levels = h("div", { class: "y-axis", "aria-hidden": "true" });
  for (const level of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(s("line", { x1: 0, x2: W, y1: H * (1 - level), y2: H * (1 - level), class: "grid" }));
    levels.append(h("span", { class: "level", "data-bottom": `${level * 100}%` }, `${+(level * top * 100).toFixed(2)}%`));
  }
  const narrow = window.matchMedia("(max-width: 48rem)").matches;
  const counts = points.length <= (narrow ? 6 : 14);
  const labels = h("div", { class: "counts", "aria-hidden": "true" });
  for (const p of points) {
    const from = axis.at(Date.parse(p.start)) * (W / 100);
    const to = axis.at(periodEnd(trend.by, p.start)) * (W / 100);
    if (p.share === null) {
      svg.append(s("rect", { x: from, y: 0, width: Math.max(1, to - from), height: H, class: "untracked" }, s("title", {}, `${p.period}: not tracked yet`)));
      continue;
    }
    const height = H * (p.share / top);
    svg.append(
      s(
        "rect",
        { x: from + (to - from) * 0.1, y: H - height, width: Math.max(1, (to - from) * 0.8), height, class: "bar" },
        s("title", {}, `${p.period}: ${p.documents} of ${p.tracked} tracked documents (${(p.share * 100).toFixed(1)} %)`),
      ),
    );
    if (counts && p.documents > 0) {
      labels.append(h("span", { class: "count", "data-left": `${(from + to) / 20}%`, "data-bottom": `${(p.share / top) * 100}%` }, `${p.documents}/${p.tracked}`));
    }
  }
  const untracked = points.some((p) => p.share === null);
  if (counts || untracked) {
    section.append(h("p", { class: "small muted" }, counts ? "Above each bar: documents with a match / documents tracked." : "", counts && untracked ? " " : "", untracked ? "Hatched: no document tracked yet, so no share." : ""));
  }
  section.append(h("div", { class: "plot-row" }, levels, h("div", { class: "plot" }, svg, labels)), axisRow(axis));
  const rows = points.map((p) => h("tr", {}, h("th", { scope: "row" }, p.period), h("td", { class: "num" }, p.documents), h("td", { class: "num" }, p.tracked), h("td", { class: "num" }, p.share === null ? "not tracked" : `${(p.share * 100).toFixed(1)} %`)));
  section.append(
    h(
      "details",
      { class: "data" },
      h("summary", {}, "The figures"),
      h("div", { class: "scroll" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Period"), h("th", { scope: "col" }, "With a match"), h("th", { scope: "col" }, "Tracked"), h("th", { scope: "col" }, "Share"))), h("tbody", {}, rows))),
    ),
  );
  return placeAll(section);
}

/** An interval for people: dates, and times too when it starts and ends on one day. */
function spanText(from, to) {
  if (!to) return `${day(from)} → now`;
  if (day(from) === day(to)) {
    // To the second when both fall in one minute (a first record deleted seconds later).
    const end = from.slice(11, 16) === to.slice(11, 16) ? 19 : 16;
    return `${day(from)} ${from.slice(11, end)} → ${to.slice(11, end)} UTC`;
  }
  return `${day(from)} → ${day(to)}`;
}

/** When matching text was in force, as text: "in force 2023-01-10 → 2024-05-20, and again
 * …", brief absences counted ("briefly absent 9 times"). */
function inForceText(d) {
  const runs = historyRuns(d);
  const shown = runs.slice(0, 3).map(runText);
  if (shown.length && d.tracked_since && runs[0].from === d.tracked_since) shown[0] += " (there when tracking began)";
  const more = runs.length - shown.length;
  return `in force ${shown.join("; and again ")}${more > 0 ? `; and ${plural(more, "more time")}` : ""}`;
}

/** A history's runs of text in force (brief absences bridged), or its raw intervals. */
function historyRuns(d) {
  return d.runs && d.runs.length ? d.runs : d.intervals.map((iv) => ({ ...iv, brief_absences: [] }));
}

function runText(r) {
  const n = r.brief_absences.length;
  return `${spanText(r.from, r.to)}${n ? `, briefly absent ${n === 1 ? "once" : `${n} times`}` : ""}`;
}

/** The brief absences of a history, each to the minute, on demand. */
function absencesList(d) {
  const absences = (d.runs || []).flatMap((r) => r.brief_absences);
  if (!absences.length) return null;
  const item = (a) => h("li", {}, h("time", { datetime: a.from }, `${minute(a.from)}`), " → ", h("time", { datetime: a.to }, day(a.to) === day(a.from) ? a.to.slice(11, 16) : minute(a.to)), " UTC");
  return h(
    "details",
    { class: "absences small" },
    h("summary", {}, `${plural(absences.length, "brief absence")} (each under ${BRIEF_ABSENCE_HOURS} hours: text gone for a recording run or a few, then back)`),
    h("ol", {}, absences.map(item)),
  );
}

/** When matching text was in force, as the page shows it: the first runs, and the others
 * behind "and N more times", which expands to list them. */
function inForceLine(d) {
  const shown = 3;
  const runs = historyRuns(d);
  if (runs.length <= shown) return inForceText(d);
  const first = runs.slice(0, shown).map(runText);
  if (d.tracked_since && runs[0].from === d.tracked_since) first[0] += " (there when tracking began)";
  const rest = runs.slice(shown).map(runText);
  return h("span", {}, `in force ${first.join("; and again ")}; `, h("details", { class: "more-times" }, h("summary", {}, `and ${plural(rest.length, "more time")}`), ` ${rest.join("; ")}`));
}

function drawTimeline(documents, axis) {
  const rows = documents.map((d) => {
    const target = documentState(d.service, d.terms_type, d.collection, { at: d.intervals.length ? d.intervals[d.intervals.length - 1].from : "" });
    const bars = d.intervals.map((iv) => {
      const from = axis.at(Date.parse(iv.from));
      const to = axis.at(iv.to ? Date.parse(iv.to) : axis.now);
      return h("span", { class: "interval", "data-left": `${from.toFixed(3)}%`, "data-width": `${Math.max(0.4, to - from).toFixed(3)}%`, title: spanText(iv.from, iv.to) });
    });
    if (d.tracked_since) {
      // Tracked without a match is not the same as not tracked yet: a band from the first record.
      const from = axis.at(Date.parse(d.tracked_since));
      bars.unshift(h("span", { class: "tracked", "data-left": `${from.toFixed(3)}%`, "data-width": `${(100 - from).toFixed(3)}%`, title: `tracked since ${day(d.tracked_since)}` }));
    }
    const tracked = d.tracked_since && d.tracked_since !== d.first_seen ? ` · tracked since ${day(d.tracked_since)}` : "";
    const summary = `${inForceText(d)}${d.present ? "" : "; no longer in force"}${tracked}`;
    return h(
      "li",
      { class: "row" },
      h("div", { class: "name" }, link(target, [h("strong", {}, d.service), " · ", d.terms_type]), h("span", { class: "muted small" }, ` ${d.collection}`)),
      h("div", { class: "track", role: "img", "aria-label": summary, title: summary }, bars),
      h("div", { class: "small muted" }, inForceLine(d), d.present ? "" : "; no longer in force", tracked),
      absencesList(d),
    );
  });
  const legend = h("p", { class: "small muted legend" }, h("span", { class: "key key-match" }), " matching text in force ", h("span", { class: "key key-tracked" }), " tracked, no match ", h("span", { class: "key key-untracked" }), " not tracked yet");
  const list = h("section", { class: "timeline", "aria-labelledby": "timeline-title" }, h("h2", { id: "timeline-title" }, "When matching text was in force"), legend, axisRow(axis), h("ol", {}, rows));
  return placeAll(list);
}

// ---------------------------------------------------------------------------------------
// Changes view

function changesParams(state) {
  const params = { ...filterParams(state), limit: PAGE, offset: state.offset };
  if (state.q) params.q = state.q;
  if (modeOf(state) === "between") {
    params.from = state.from;
    params.to = state.to;
  }
  if (state.sort) params.sort = state.sort;
  if (state.first_records) params.first_records = "true";
  if (state.technical_upgrades) params.technical_upgrades = "true";
  if (state.hide_minor) params.minor = "false";
  if (state.group) params.group = state.group;
  if (state.kind.length) params.kind = state.kind;
  return params;
}

function monthWindow(state, month) {
  const [y, m] = month.split("-").map(Number);
  const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, "0")}-01`;
  return withState(state, { mode: "between", from: `${month}-01`, to: next });
}

async function drawChanges(state, main, signal) {
  const params = changesParams(state);
  const answer = await api("/changes", { ...params, html: state.group ? "" : "true" }, signal);
  const f = answer.facets;
  drawFacets([
    facetGroup("Service", f.service, (v) => state.service.includes(v), (v, on) => toggle(state, "service", v, on)),
    facetGroup("Terms type", f.terms_type, (v) => state.terms_type.includes(v), (v, on) => toggle(state, "terms_type", v, on)),
    facetGroup("Collection", f.collection, (v) => state.collection.includes(v), (v, on) => toggle(state, "collection", v, on)),
    facetGroup("Kind", f.kind, (v) => state.kind.includes(v), (v, on) => toggle(state, "kind", v, on)),
    facetGroup("Month", [...(f.month || [])].sort((a, b) => b.value.localeCompare(a.value)), (v) => state.from === `${v}-01`, (v) => monthWindow(state, v)),
  ], state.group ? "Counts are of changed sections; the list has one entry per version." : null);
  const feed = listQuery(params);
  const options = h(
    "div",
    { class: "options" },
    checkbox("Include first records and deletions", state.first_records, (on) => withState(state, { first_records: on })),
    checkbox("Include technical upgrades", state.technical_upgrades, (on) => withState(state, { technical_upgrades: on })),
    checkbox("Hide minor changes (dates, punctuation, links only)", state.hide_minor, (on) => withState(state, { hide_minor: on }), "minor"),
    checkbox("One entry per version", state.group === "version", (on) => withState(state, { group: on ? "version" : "" }), "group"),
    state.group ? null : layoutSwitch(state),
    h(
      "label",
      {},
      "Order ",
      h(
        "select",
        { onchange: (e) => navigate(withState(state, { sort: e.target.value === "newest" ? "" : e.target.value })) },
        [["newest", "newest first"], ["oldest", "oldest first"], ["relevance", "most relevant first"]].map(([value, label]) =>
          h("option", { value, selected: (state.sort || "newest") === value }, label),
        ),
      ),
    ),
    h("a", { class: "feed", href: `${API}/changes.atom${feed.toString() ? "?" + feed : ""}`, type: "application/atom+xml" }, "Atom feed of these changes"),
  );
  const unit = state.group ? "version with changes" : "change";
  const heading = h("h1", { class: "summary" }, `${plural(answer.total, unit, state.group ? "versions with changes" : "changes")}`, state.q ? ` to text matching ${state.q}` : "", modeOf(state) === "between" ? ` between ${state.from || "the first record"} and ${state.to || "now"}` : "");
  const hidden = hiddenNote(state, answer.hidden);
  if (answer.total === 0) {
    fill(main, heading, hidden, options, message("empty", "No changes", "Nothing changed that matches these filters. Widen the dates or include first records and technical upgrades."));
    return;
  }
  const entries = state.group ? answer.versions.map(drawVersionChanges) : answer.changes.map((c) => drawChange(c, state.layout));
  const list = h("ol", { class: "changes" }, entries.map((entry) => h("li", {}, entry)));
  fill(main, heading, hidden, didYouMean(state, answer), options, list, pager(state, answer.total, entries.length), exportLinks("changes", params, answer.total));
}

/** What the list leaves out by default, one line per switch, each with the link that shows
 * it: "13 changes from first records not shown — show them". */
function hiddenNote(state, hidden) {
  if (!hidden) return null;
  const versions = Boolean(state.group);
  const count = (n, change, version) => (n > 0 ? plural(n, ...(versions ? version : change)) : null);
  const lines = [
    [[count(hidden.first_records, ["change from first records", "changes from first records"], ["first record", "first records"]), count(hidden.deletions, ["change from deletions", "changes from deletions"], ["deletion", "deletions"])], { first_records: true }],
    [[count(hidden.technical_upgrades, ["change from technical upgrades", "changes from technical upgrades"], ["technical upgrade", "technical upgrades"])], { technical_upgrades: true }],
    [[count(hidden.minor, ["minor change", "minor changes"], ["version with only minor changes", "versions with only minor changes"])], { hide_minor: false }],
  ]
    .map(([parts, change]) => [parts.filter(Boolean), change])
    .filter(([parts]) => parts.length)
    .map(([parts, change]) => h("li", {}, `${parts.join(" and ")} not shown — `, link(withState(state, change), "show them", { class: "show-hidden" })));
  return lines.length ? h("ul", { class: "hidden-note small muted" }, lines) : null;
}

function checkbox(label, checked, next, option) {
  return h("label", {}, h("input", { type: "checkbox", checked, "data-option": option, onchange: (e) => navigate(next(e.target.checked)) }), " ", label);
}

function drawChange(c, layout) {
  const target = documentState(c.service, c.terms_type, c.collection, { at: c.date, focus: (c.section || []).join(" > ") });
  return h(
    "article",
    { class: "change" },
    h("p", { class: "meta" }, time(c.date), " ", badge(c.kind), c.version_kind !== "change" ? [" ", badge(c.version_kind)] : null, c.minor ? [" ", badge("minor")] : null),
    h("h2", {}, link(target, [h("strong", {}, c.service), " · ", c.terms_type]), h("span", { class: "muted small" }, ` ${c.collection}`)),
    h("p", { class: "section" }, sectionLine(c)),
    diffBlock(c, layout),
  );
}

/** One version of the grouped view: its date, id and kind, the sections it changed and the
 * words it inserted and deleted, with a link to its diff against the version before. */
function drawVersionChanges(v) {
  const target = v.previous_version
    ? documentState(v.service, v.terms_type, v.collection, { from_version: v.previous_version, to_version: v.version })
    : documentState(v.service, v.terms_type, v.collection, { at: v.date });
  const sections = v.sections.map((t) =>
    h(
      "li",
      {},
      badge(t.kind),
      " ",
      sectionLine(t),
      h("span", { class: "muted small" }, ` +${t.words_inserted} −${t.words_deleted} ${t.words_inserted + t.words_deleted === 1 ? "word" : "words"}`),
      t.minor ? [" ", badge("minor")] : null,
    ),
  );
  return h(
    "article",
    { class: "change version-changes" },
    h("p", { class: "meta" }, time(v.date), " ", h("code", { title: v.version }, shortId(v.version)), " ", badge(v.version_kind), v.minor ? [" ", badge("minor")] : null),
    h("h2", {}, link(target, [h("strong", {}, v.service), " · ", v.terms_type]), h("span", { class: "muted small" }, ` ${v.collection}`)),
    h("p", { class: "words" }, h("span", { class: "inserted" }, `+${v.words_inserted.toLocaleString("en")}`), " ", h("span", { class: "deleted" }, `−${v.words_deleted.toLocaleString("en")}`), ` words in ${plural(v.sections.length, "section")}`),
    h("ul", { class: "touched" }, sections),
  );
}

/** Where a change is: its heading path, and for a moved section the path it moved from. */
function sectionLine(c) {
  const moved = c.previous_section && c.previous_section.join(">") !== c.section.join(">");
  if (!moved) return path(c.section);
  return [h("span", { class: "muted" }, "moved from "), path(c.previous_section), h("span", { class: "muted" }, " to "), path(c.section)];
}

/** Links between the two layouts of diffs, unified (one text, insertions and deletions in
 * place) and side by side (the earlier text beside the later one), kept in the address. */
function layoutSwitch(state) {
  const choice = (value, label) => {
    const on = state.layout === value;
    return link(withState(state, { layout: value, offset: state.offset }), label, { class: on ? "layout-choice on" : "layout-choice", "aria-pressed": on ? "true" : "false", "data-layout": value || "unified" });
  };
  return h("span", { class: "layouts", role: "group", "aria-label": "Diff layout" }, "Diff: ", choice("", "unified"), " ", choice("split", "side by side"));
}

/** A change as the server rendered it (word diff marked, Markdown as HTML), unchanged text
 * folded away, in the layout asked for; a plain word diff when there is no rendering. A
 * section added or removed whole has one side: it shows unified, its start only when long. */
function diffBlock(change, layout = "") {
  if (change.html !== undefined) {
    const block = rendered(change.html, "div", { class: "diff rendered" });
    if (!change.diff) return showStart(block);
    if (layout === "split") return splitBlock(block);
    foldUnchanged(block);
    foldWords(block);
    return block;
  }
  const block = h("div", { class: "diff" });
  const parts = change.diff || (change.after ? [{ op: "insert", text: change.after }] : change.before ? [{ op: "delete", text: change.before }] : []);
  parts.forEach((part, i) => {
    const tag = { insert: "ins", delete: "del" }[part.op] || "span";
    // Blank lines that end a section are not worth showing.
    const text = i === parts.length - 1 ? part.text.trimEnd() : part.text;
    if (text) block.append(h(tag, {}, text));
  });
  return block;
}

const CONTEXT = 1;
/** Words of unchanged text kept beside a change inside a paragraph. */
const CONTEXT_WORDS = 30;
/** Fewer unchanged words than this are not worth a button. */
const MIN_FOLDED_WORDS = 20;
/** Words of a section added or removed whole shown before "show all". */
const START_WORDS = 120;

function words(text) {
  return text.match(/\s*\S+\s*|\s+/g) || [];
}

/** The two sides of a rendered word diff in rows, one per block (paragraph, list, table):
 * the earlier text (deletions marked) on the left, the later one (insertions marked) on
 * the right, unchanged rows and words folded as in the unified layout. */
function splitBlock(block) {
  const side = (el, drop, name) => {
    const copy = el.cloneNode(true);
    for (const mark of copy.querySelectorAll(drop)) mark.remove();
    // A link whose address changed points, on the earlier side, where it pointed then.
    if (name === "before") for (const a of copy.querySelectorAll("a.changed-link")) a.dataset.beforeHref ? a.setAttribute("href", a.dataset.beforeHref) : a.replaceWith(...a.childNodes);
    const empty = copy.textContent.trim() === "";
    return h("div", { class: `side ${name}${empty ? " empty" : ""}` }, empty ? null : copy);
  };
  const rows = [...block.children].map((el) => h("div", { class: "row" }, side(el, "ins", "before"), side(el, "del", "after")));
  const grid = h("div", { class: "diff rendered split" }, rows);
  foldUnchanged(grid);
  for (const cell of grid.querySelectorAll(".side")) foldWords(cell);
  const head = h("div", { class: "row split-head", "aria-hidden": "true" }, h("div", {}, "Before"), h("div", {}, "After"));
  return h("div", { class: "split-diff" }, head, grid);
}

/** Inside the paragraphs shown, folds each long run of unchanged words but for
 * `CONTEXT_WORDS` either side of a change, behind "… N unchanged words …". */
function foldWords(block) {
  const marks = [...block.querySelectorAll("ins, del")];
  if (marks.length === 0) return;
  const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest("ins, del, a, button, [hidden]")) texts.push(node);
  }
  for (const node of texts) foldText(node, marks);
}

function foldText(node, marks) {
  const pieces = words(node.data);
  const changeBefore = marks.some((m) => m.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING);
  const changeAfter = marks.some((m) => m.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_PRECEDING);
  const head = changeBefore ? CONTEXT_WORDS : 0;
  const tail = changeAfter ? CONTEXT_WORDS : 0;
  const folded = pieces.length - head - tail;
  if (folded < MIN_FOLDED_WORDS) return;
  const middle = h("span", { class: "folded-words", hidden: true }, pieces.slice(head, head + folded).join(""));
  const button = h("button", { type: "button", class: "expand-words", title: "Show the unchanged words" }, `… ${plural(folded, "unchanged word")} …`);
  button.addEventListener("click", () => {
    middle.hidden = false;
    button.remove();
  });
  node.replaceWith(pieces.slice(0, head).join(""), button, middle, " ", pieces.slice(head + folded).join(""));
}

/** A long section added or removed whole: its start, and "show all". */
function showStart(block) {
  const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
  let total = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) total += words(node.data).filter((w) => w.trim()).length;
  if (total <= 2 * START_WORDS) return block;
  block.classList.add("start-only");
  const button = h("button", { type: "button", class: "show-all" }, `Show all ${plural(total, "word")}`);
  button.addEventListener("click", () => {
    block.classList.remove("start-only");
    block.classList.add("whole");
    button.remove();
  });
  return h("div", { class: "long-change" }, block, button);
}

/** Folds each run of unchanged blocks (paragraphs, list items, rows) of `container` away,
 * but for one block of context either side of a change, behind a button that shows them.
 * Lists holding changes are folded inside the same way. A change that is all inserted or
 * all deleted has nothing to fold. */
function foldUnchanged(container) {
  const blocks = [...container.children];
  const changed = blocks.map((el) => el.matches("ins, del") || el.querySelector("ins, del") !== null);
  if (!changed.includes(false) || !changed.includes(true)) return;
  blocks.forEach((el, i) => {
    if (changed[i] && el.matches("ul, ol, table")) foldUnchanged(el.matches("table") ? el.querySelector("tbody") || el : el);
  });
  const near = (i) => changed.slice(Math.max(0, i - CONTEXT), i + CONTEXT + 1).includes(true);
  let run = [];
  const flush = () => {
    if (run.length >= 2) {
      const hidden = run;
      for (const el of hidden) el.hidden = true;
      const what = hidden[0].matches("li") ? "item" : hidden[0].matches("tr") ? "row" : "paragraph";
      const button = h("button", { type: "button", class: "expand" }, `${plural(hidden.length, `unchanged ${what}`)} — show`);
      button.addEventListener("click", () => {
        for (const el of hidden) el.hidden = false;
        holder.remove();
      });
      const holder = hidden[0].matches("li") ? h("li", { class: "folded" }, button) : hidden[0].matches("tr") ? h("tr", { class: "folded" }, h("td", { colspan: 99 }, button)) : h("div", { class: "folded" }, button);
      hidden[0].before(holder);
    }
    run = [];
  };
  blocks.forEach((el, i) => {
    if (near(i)) flush();
    else run.push(el);
  });
  flush();
}

// ---------------------------------------------------------------------------------------
// Document view: versions, text, diff

function documentParts(state) {
  const slash = state.document.indexOf("/");
  if (slash <= 0) return null;
  return { service: state.document.slice(0, slash), termsType: state.document.slice(slash + 1) };
}

async function drawDocument(state, main, signal) {
  drawFacets([]);
  const parts = documentParts(state);
  if (!parts) {
    fill(main, message("error", "Which document?", "The address names no document (expected `document=Service/Terms type`)."));
    return;
  }
  const base = `/${encodePart(parts.service)}/${encodePart(parts.termsType)}`;
  const collection = state.collection[0] || "";
  const versions = await api(`/versions${base}`, { collection }, signal);
  const list = versions.versions;
  const recorded = list.filter((v) => v.kind !== "deleted");
  // The version shown: the one asked for by instant, else the latest with text.
  const at = state.at || (recorded.length ? recorded[recorded.length - 1].recorded_at : "");
  const comparing = state.from_version && state.to_version;
  const [version, diff] = await Promise.all([
    at ? api(`/version${base}/${encodePart(at)}`, { collection, q: state.hl, html: "true" }, signal).catch((e) => e) : Promise.resolve(null),
    comparing ? api(`/diff${base}`, { from_version: state.from_version, to_version: state.to_version, collection, html: "true" }, signal).catch((e) => e) : Promise.resolve(null),
  ]);
  const heading = h("h1", { class: "summary" }, h("strong", {}, versions.service), " · ", versions.terms_type, h("span", { class: "muted small" }, ` ${versions.collection}`));
  const shownId = version && !(version instanceof Error) ? version.id : "";
  const last = list[list.length - 1];
  const removed = last && last.kind === "deleted"
    ? message("warning removed", "Removed from the archive", "This document was deleted from the archive on ", time(last.recorded_at), `. ${recorded.length ? "The versions recorded before stay readable." : ""}`)
    : null;
  const back = h("p", { class: "small" }, h("a", { href: "#", onclick: (e) => { e.preventDefault(); history.back(); } }, "← Back"));
  fill(main, 
    back,
    heading,
    removed,
    h(
      "div",
      { class: "document" },
      drawVersionList(state, versions, comparing ? [state.from_version, state.to_version] : [shownId]),
      h("div", { class: "reading" }, drawCompareForm(state, list, shownId), comparing ? drawDiff(state, diff) : drawVersion(state, version)),
    ),
  );
  showMarkedVersion(main);
  if (!comparing) focusSection(main, state);
}

/** Scrolls the version list (not the page) to the version shown, or the first one compared. */
function showMarkedVersion(main) {
  const list = main.querySelector(".versions ol");
  const marked = list && list.querySelector('[aria-current="true"]');
  if (!marked) return;
  const item = marked.closest("li");
  list.scrollTop = Math.max(0, item.offsetTop - (list.clientHeight - item.offsetHeight) / 2);
}

function drawVersionList(state, versions, marked) {
  const items = versions.versions
    .slice()
    .reverse()
    .map((v) => {
      const current = marked.includes(v.id);
      const label = [time(v.recorded_at), " ", badge(v.kind)];
      const target = { ...state, at: v.recorded_at, from_version: "", to_version: "", focus: state.focus };
      return h("li", {}, v.kind === "deleted" ? h("span", { class: "muted" }, label) : link(target, label, { "aria-current": current ? "true" : null, title: v.id }));
    });
  return h("nav", { class: "versions", "aria-label": "Versions" }, h("h2", {}, plural(versions.versions.filter((v) => v.kind !== "deleted").length, "version")), h("ol", {}, items));
}

function drawCompareForm(state, list, shownId) {
  const recorded = list.filter((v) => v.kind !== "deleted");
  if (recorded.length < 2) return null;
  // By default the version shown against the one before it (the first against the second).
  const shown = recorded.findIndex((v) => v.id === shownId);
  const later = shown > 0 ? shown : 1;
  const toDefault = state.to_version || recorded[later].id;
  const fromDefault = state.from_version || recorded[later - 1].id;
  const options = (selected) => recorded.map((v) => h("option", { value: v.id, selected: v.id === selected }, `${minute(v.recorded_at)} · ${KIND_NAMES[v.kind]} · ${shortId(v.id)}`));
  const from = h("select", { name: "from_version", "aria-label": "Earlier version" }, options(fromDefault));
  const to = h("select", { name: "to_version", "aria-label": "Later version" }, options(toDefault));
  const form = h(
    "form",
    {
      class: "compare",
      onsubmit: (e) => {
        e.preventDefault();
        navigate({ ...state, from_version: from.value, to_version: to.value });
      },
    },
    h("span", {}, "Compare "),
    from,
    h("span", {}, " with "),
    to,
    " ",
    h("button", { type: "submit" }, "Show changes"),
    state.from_version ? [" ", link({ ...state, from_version: "", to_version: "" }, "Show the text")] : null,
  );
  return form;
}

function drawVersion(state, version) {
  if (!version) return message("empty", "No text", "This document has no version with text.");
  if (version instanceof Error) return errorMessage(version);
  const article = h("article", { class: "text" });
  article.append(
    h(
      "p",
      { class: "meta" },
      "Version recorded ",
      time(version.recorded_at),
      " ",
      badge(version.kind),
      state.at && day(state.at) !== day(version.recorded_at) ? h("span", { class: "muted" }, ` · in force on ${day(state.at)}`) : null,
      " · ",
      h("span", { class: "source" }, "source ", h("code", { title: version.id }, shortId(version.id))),
      version.source_url ? [" · ", h("a", { class: "online", href: version.source_url, target: "_blank", rel: "nofollow noopener noreferrer" }, "this version online")] : null,
      " ",
      citeButton(version, state),
    ),
  );
  const sections = version.sections.map(drawSection);
  // The marks shown, not the highlights: a match inside a link's address is not shown.
  const matches = sections.reduce((n, section) => n + section.querySelectorAll("mark").length, 0);
  if (state.hl) article.append(drawMatchNav(state, matches));
  article.append(...sections);
  return article;
}

/** A button that copies a citation of the version (and of the section in focus): service,
 * terms type, collection, recorded date, version id, section path and this page's address. */
function citeButton(version, state) {
  const note = h("span", { class: "small muted", role: "status" });
  const button = h("button", { type: "button", class: "cite" }, "Cite");
  button.addEventListener("click", async () => {
    const focused = document.querySelector(".text .part.focus");
    const section = focused && focused.dataset.path ? ` § ${focused.dataset.path.replaceAll(" > ", " › ")}.` : "";
    const target = { ...state, at: version.recorded_at };
    const url = new URL(urlOf(target), location.href).href;
    const online = version.source_url ? ` Online: ${version.source_url}.` : "";
    const text = `${version.service}, ${version.terms_type} (${version.collection}), version recorded ${version.recorded_at}, id ${version.id}.${section}${online} ${url}`;
    try {
      await navigator.clipboard.writeText(text);
      note.textContent = " Citation copied.";
    } catch {
      note.textContent = ` ${text}`;
    }
  });
  return h("span", {}, button, note);
}

/** A section: its text rendered from Markdown, its matches marked. The section knows its
 * span, which search hits name, and its heading path, which changes name. */
function drawSection(section) {
  return rendered(section.html, "section", { class: "part", "data-span": section.span, "data-path": section.section.join(" > "), tabindex: "-1" });
}

/** "N matches of …" with previous and next buttons that move through the marks. */
function drawMatchNav(state, count) {
  const label = h("span", { class: "where" }, count ? plural(count, "match", "matches") : "No match");
  const nav = h("nav", { class: "match-nav", "aria-label": "Matches" }, label, ` of ${state.hl} `);
  if (!count) return nav;
  const move = (step) => () => {
    const marks = [...document.querySelectorAll(".text mark")];
    if (marks.length === 0) return;
    const at = marks.findIndex((m) => m.classList.contains("current"));
    const next = at < 0 ? (step > 0 ? 0 : marks.length - 1) : (at + step + marks.length) % marks.length;
    showMatch(marks, next, label);
  };
  nav.append(h("button", { type: "button", class: "prev-match", onclick: move(-1) }, "← Previous match"), " ", h("button", { type: "button", class: "next-match", onclick: move(1) }, "Next match →"));
  return nav;
}

function showMatch(marks, index, label) {
  for (const m of marks) m.classList.remove("current");
  const mark = marks[index];
  mark.classList.add("current");
  mark.scrollIntoView({ block: "center" });
  if (label) label.textContent = `Match ${index + 1} of ${marks.length}`;
}

/** Scrolls to the section a hit (by span) or a change (by heading path) named, and marks
 * its first match as the current one. */
function focusSection(main, state) {
  const parts = [...main.querySelectorAll(".text [data-span]")];
  let found = state.span ? parts.find((el) => el.dataset.span === state.span) : null;
  if (!found && state.focus) {
    const wanted = state.focus.toLowerCase();
    found = parts.find((el) => el.dataset.path.toLowerCase() === wanted) || parts.find((el) => el.dataset.path.toLowerCase().endsWith(wanted.split(" > ").pop()));
  }
  const marks = [...main.querySelectorAll(".text mark")];
  const first = found ? marks.findIndex((m) => found.contains(m)) : marks.length ? 0 : -1;
  if (found) {
    found.classList.add("focus");
    found.scrollIntoView({ block: "start" });
    found.focus({ preventScroll: true });
  }
  if (first >= 0) showMatch(marks, first, main.querySelector(".match-nav .where"));
}

function drawDiff(state, diff) {
  if (diff instanceof Error) return errorMessage(diff);
  const intro = h("p", { class: "meta" }, "From ", time(diff.from.recorded_at), " to ", time(diff.to.recorded_at), `: ${plural(diff.changes.length, "section")} changed, ${plural(diff.unchanged, "section")} unchanged.`);
  if (diff.changes.length === 0) return h("div", {}, intro, message("empty", "No changes", "These two versions have the same sections."));
  const items = diff.changes.map((c) => h("li", {}, h("article", { class: "change" }, h("p", { class: "section" }, badge(c.kind), " ", sectionLine(c)), diffBlock(c, state.layout))));
  return h("div", { class: "diffs" }, intro, h("div", { class: "options" }, layoutSwitch(state)), h("ol", { class: "changes" }, items));
}

// ---------------------------------------------------------------------------------------
// Rendering and navigation

let current = readState(location.search);

async function render() {
  current = readState(location.search);
  const state = current;
  syncForm(state);
  drawChips(state);
  const main = $("main");
  if (inflight) inflight.abort();
  const controller = new AbortController();
  inflight = controller;
  main.setAttribute("aria-busy", "true");
  fill(main, h("p", { class: "loading" }, "Loading…"));
  try {
    const draw = { search: drawSearch, history: drawHistory, changes: drawChanges, document: drawDocument }[state.view];
    await draw(state, main, controller.signal);
  } catch (error) {
    if (error.name === "AbortError") return;
    drawFacets([]);
    fill(main, errorMessage(error, state));
  } finally {
    if (inflight === controller) {
      main.removeAttribute("aria-busy");
      inflight = null;
    }
  }
}

function navigate(state, { replace = false } = {}) {
  const url = urlOf(state);
  if (url === location.pathname + location.search) return render();
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.scrollTo(0, 0);
  return render();
}

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-nav]");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  const url = new URL(a.href);
  navigate(readState(url.search));
});

document.addEventListener("keydown", (e) => {
  if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
  const tag = (e.target.tagName || "").toLowerCase();
  if (["input", "textarea", "select"].includes(tag) || e.target.isContentEditable) return;
  e.preventDefault();
  if (current.view === "document") {
    navigate(viewState(current, "search")).then(() => $("q").focus());
  } else {
    $("q").focus();
    $("q").select();
  }
});

window.addEventListener("popstate", render);

function start() {
  const form = $("query");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    navigate(stateFromForm(current));
  });
  // A new time mode searches at once, unless it still needs its dates.
  form.addEventListener("change", (e) => {
    const name = e.target.name;
    if (name === "q") return;
    const next = stateFromForm(current);
    const mode = modeOf(next);
    if (mode === "as_of" && !next.as_of) return form.as_of.focus();
    if (mode === "between" && !next.from && !next.to) return form.from.focus();
    navigate(next);
  });
  render();
}

start();
