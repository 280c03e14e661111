// The coloured text: one span per character, coloured by the chosen cell's signal.
// It holds the signal of every cell of the layer (the layer part, from layer_data.js), so it
// switches cells by itself: the toolbar's buttons and number box, or Up/Down and k/j in the
// text, repaint at once with no message to the server; the server is told the new cell as the
// "cell" trigger once no other switch has come for `sync_ms`. It moves to the data's cell only
// when the data's `jump` changes (the server moved it). Pinned cells are extra rows under each
// line. Hover cards are drawn from the data already here; a click sends the position as
// "select". User text is only ever set with textContent.

const CARD_ROWS = [
  ["cell", "tanh(c)"], ["hidden", "h"], ["input", "input gate"], ["forget", "forget gate"],
  ["output", "output gate"],
];

// The scale has 511 colours, one class each ("n<k>" below zero, "p<k>" from zero up), so a
// repaint only swaps class names; dark ones get white text.
function scaleRules() {
  const rules = [];
  for (let k = 0; k <= SCALE.levels; k++) {
    for (const [name, sign] of [[`n${k}`, -1], [`p${k}`, 1]]) {
      const colour = levelRgb(sign, k);
      rules.push(`.ch.${name} { background-color: rgb(${colour.join(", ")}); ${dark(colour) ? "color: #fff;" : ""} }`);
    }
  }
  return rules.join("\n");
}

function tone(v) {
  const [sign, k] = level(v);
  return (sign < 0 ? "n" : "p") + k;
}

function registry() {
  return window.__lstmVizLayers || (window.__lstmVizLayers = { parts: new Map(), waiting: new Map() });
}

// A cell's value at position t, as quantised in the layer part.
function valueAt(part, cell, t) {
  return part.lo[cell] + part.codes[cell * part.length + t] * part.step[cell];
}

// The colour class of each of the 256 codes of one cell.
function tones(part, cell) {
  const out = new Array(256);
  for (let q = 0; q < 256; q++) out[q] = tone(part.lo[cell] + q * part.step[cell]);
  return out;
}

function makeCard() {
  const card = el("div", "card");
  card.hidden = true;
  const head = el("div", "head");
  const pos = el("span", "pos"), char = el("span", "char"), note = el("span", "note");
  head.append(pos, char, note);
  const table = el("table");
  const rows = {};
  for (const [name, text] of CARD_ROWS) {
    const tr = el("tr");
    const sw = el("span", "sw");
    const swatch = el("td");
    swatch.append(sw);
    const value = el("td", "v");
    tr.append(swatch, el("td", "", text), value);
    table.append(tr);
    rows[name] = { tr, sw, value };
  }
  const list = el("ol");
  const top = [];
  for (let k = 0; k < TOP; k++) {
    const li = el("li");
    const sym = el("span", "sym"), pbar = el("span", "pbar"), fill = el("i"), p = el("span", "p");
    pbar.append(fill);
    li.append(sym, pbar, p);
    list.append(li);
    top.push({ sym, fill, p });
  }
  const wait = el("div", "wait", "The other signals of this cell arrive once the page has caught up.");
  card.append(head, table, wait, el("div", "next", "next character"), list);
  return { card, pos, char, note, rows, top, wait };
}

const LINES_PER_CHUNK = 20;  // lines are grouped so the browser can skip those out of view

function build(view, part) {
  const chars = Array.from(part.text);
  const unknown = new Set(part.unknown);
  const frag = document.createDocumentFragment();
  view.spans = new Array(chars.length);
  view.base = new Array(chars.length);
  view.lines = [];
  let chunk = null, line = null;
  for (let t = 0; t < chars.length; t++) {
    if (!line) {
      if (view.lines.length % LINES_PER_CHUNK === 0) frag.append(chunk = el("div", "chunk"));
      chunk.append(line = el("div", "line main"));
      view.lines.push({ line, start: t, stop: t });
    }
    const newline = chars[t] === "\n";
    const span = el("span", "", newline ? GLYPHS["\n"] : chars[t]);
    span._t = t;
    view.base[t] = "ch" + (newline ? " nl" : "") + (unknown.has(t) ? " unk" : "") + " ";
    span.className = view.base[t];
    line.append(span);
    view.lines[view.lines.length - 1].stop = t + 1;
    view.spans[t] = span;
    if (newline) line = null;
  }
  view.text.replaceChildren(frag);
  view.chars = chars;
  view.unknown = unknown;
  view.textKey = part.text_key;
  view.selected = -1;
  view.pinRows = [];
}

// Recolour the main rows with the current cell; pinned rows keep theirs.
function paint(view) {
  const { spans, base, part, cell } = view;
  const lut = tones(part, cell), codes = part.codes, offset = cell * part.length;
  for (let t = 0; t < spans.length; t++) spans[t].className = base[t] + lut[codes[offset + t]];
  if (view.selected >= 0 && spans[view.selected]) spans[view.selected].classList.add("sel");
  view.paints += 1;
  Object.assign(view.root.dataset, { cell: String(cell), paints: String(view.paints) });
  // When these colours reached the screen (the frame after the repaint), for benchmarks.
  const shown = `${part.key}:${cell}`;
  requestAnimationFrame(() => setTimeout(() => {
    Object.assign(view.root.dataset, { shown, shownAt: performance.now().toFixed(1) });
  }, 0));
}

// One row per pinned cell under each line of the text, coloured by that cell.
function paintPins(view) {
  for (const row of view.pinRows) row.remove();
  view.pinRows = [];
  const { part, base } = view;
  view.text.classList.toggle("pinned", view.pins.length > 0);
  if (!view.pins.length) return;
  const luts = view.pins.map((cell) => tones(part, cell));
  for (const { line, start, stop } of view.lines) {
    let after = line;
    view.pins.forEach((cell, i) => {
      const row = el("div", "line pin");
      row.dataset.cell = String(cell);
      row.dataset.label = `cell ${cell}`;
      row._cell = cell;
      const offset = cell * part.length;
      for (let t = start; t < stop; t++) {
        const span = el("span", base[t] + luts[i][part.codes[offset + t]], view.spans[t].textContent);
        span._t = t;
        row.append(span);
      }
      after.after(row);
      after = row;
      view.pinRows.push(row);
    });
  }
  view.root.dataset.pins = view.pins.join(",");
}

function drawChips(view) {
  const chips = view.root.querySelector(".pins");
  chips.replaceChildren(...view.pins.map((cell) => {
    const chip = el("span", "chip");
    const show = el("button", "show", `cell ${cell}`);
    show.type = "button";
    show.title = `Show cell ${cell} in the main rows`;
    show.addEventListener("click", () => switchTo(view, cell));
    const drop = el("button", "drop", "\u00d7");
    drop.type = "button";
    drop.title = `Unpin cell ${cell}`;
    drop.setAttribute("aria-label", `Unpin cell ${cell}`);
    drop.addEventListener("click", () => {
      view.pins = view.pins.filter((c) => c !== cell);
      drawChips(view);
      paintPins(view);
    });
    chip.append(show, drop);
    return chip;
  }));
  view.root.dataset.pins = view.pins.join(",");
}

function showCell(view, cell) {
  view.cell = cell;
  paint(view);
  view.num.value = String(cell);
  legend(view);
  hideCard(view);
}

// A switch made here: repaint now, tell the server once the switching stops.
function switchTo(view, cell) {
  if (!view.part) return;
  const n = view.part.cells;
  showCell(view, ((cell % n) + n) % n);
  clearTimeout(view.timer);
  view.timer = setTimeout(() => { view.timer = null; view.send("cell", view.cell); }, view.data.sync_ms);
}

function select(view, t) {
  if (view.selected >= 0 && view.spans[view.selected]) view.spans[view.selected].classList.remove("sel");
  view.selected = t;
  if (t >= 0 && view.spans[t]) view.spans[t].classList.add("sel");
}

function legend(view) {
  const d = view.data;
  view.root.querySelector(".legend .what").textContent = `Layer ${d.layer + 1}, cell ${view.cell}: ${d.signal_label}`;
  view.root.querySelector(".legend .lo").textContent = d.gate ? "0" : "-1";
  view.root.querySelector(".legend .bar").classList.toggle("gate", d.gate);
}

// The card's five signals: exact once the server has sent this cell's (with the sync), until
// then the coloured signal as quantised here, and a line saying the rest is on its way.
function cardValues(view, cell) {
  const card = view.data.card;
  if (card.layer === view.data.layer && card.cell === cell) {
    if (!view.exact || view.exact.card !== card) {
      view.exact = { card, values: {} };
      for (const [name, packed] of Object.entries(card.values)) view.exact.values[name] = decode(packed, Float32Array);
    }
    return view.exact.values;
  }
  return null;
}

function showCard(view, span) {
  const t = span._t;
  const row = span.parentElement;
  const cell = row && row._cell !== undefined ? row._cell : view.cell;
  const c = view.card, part = view.part;
  c.pos.textContent = `position ${t} \u00b7 cell ${cell}`;
  c.char.textContent = label(view.chars[t]);
  c.note.textContent = view.unknown.has(t) ? "not in the model's alphabet" : "";
  const exact = cardValues(view, cell);
  for (const [name] of CARD_ROWS) {
    const r = c.rows[name];
    const v = exact ? exact[name][t] : name === view.data.signal ? valueAt(part, cell, t) : NaN;
    r.sw.style.backgroundColor = Number.isNaN(v) ? "transparent" : css(v);
    r.value.textContent = Number.isNaN(v) ? "\u2026" : v.toFixed(3);
    r.tr.classList.toggle("on", name === view.data.signal);
  }
  c.wait.hidden = !!exact;
  for (let k = 0; k < TOP; k++) {
    const id = part.topIds[t * TOP + k], p = part.topProbs[t * TOP + k] / 65535;
    c.top[k].sym.textContent = label(part.alphabet[id]);
    c.top[k].fill.style.width = `${(100 * p).toFixed(1)}%`;
    c.top[k].p.textContent = `${(100 * p).toFixed(1)}%`;
  }
  c.card.hidden = false;
  // The card lives outside the scrolling text, so it is never clipped by it; it opens below
  // the character, or above it when there is no room below.
  const root = view.root.getBoundingClientRect(), inner = span.getBoundingClientRect();
  const width = c.card.offsetWidth, height = c.card.offsetHeight;
  const left = Math.max(0, Math.min(inner.left - root.left, root.width - width - 4));
  const below = inner.bottom - root.top + 4, above = inner.top - root.top - height - 4;
  c.card.style.left = `${left}px`;
  c.card.style.top = `${below + height > root.height && above >= 0 ? above : below}px`;
  view.root.dataset.hover = String(t);
}

function hideCard(view) {
  view.card.card.hidden = true;
  delete view.root.dataset.hover;
}

const KEYS = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 };

function init(root) {
  const view = { root, text: root.querySelector(".text"), card: makeCard(), num: root.querySelector(".num"),
    textKey: null, part: null, spans: [], pins: [], pinRows: [], paints: 0, timer: null };
  root.append(el("style", "", scaleRules()), view.card.card);
  view.text.addEventListener("mouseover", (e) => {
    const span = e.target.closest(".ch");
    if (span) showCard(view, span);
  });
  view.text.addEventListener("mouseleave", () => hideCard(view));
  view.text.addEventListener("click", (e) => {
    const span = e.target.closest(".ch");
    if (!span) return;
    select(view, span._t);
    view.send("select", span._t);
  });
  view.text.addEventListener("keydown", (e) => {
    if (!(e.key in KEYS) || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    switchTo(view, view.cell + KEYS[e.key]);
  });
  root.querySelector(".prev").addEventListener("click", () => switchTo(view, view.cell - 1));
  root.querySelector(".next").addEventListener("click", () => switchTo(view, view.cell + 1));
  view.num.addEventListener("change", () => {
    const cell = Number(view.num.value);
    if (Number.isInteger(cell) && cell >= 0 && cell < view.part.cells) switchTo(view, cell);
    else view.num.value = String(view.cell);
  });
  root.querySelector(".pin").addEventListener("click", () => {
    if (!view.part || view.pins.includes(view.cell)) return;
    view.pins.push(view.cell);
    drawChips(view);
    paintPins(view);
  });
  return view;
}

function update(view) {
  const data = view.data;
  const part = registry().parts.get(data.key);
  if (!part) return;
  const newPart = view.part !== part;
  if (newPart) {
    if (view.textKey !== part.text_key) build(view, part);
    view.part = part;
    view.num.max = String(part.cells - 1);
    view.pins = view.pins.filter((c) => c < part.cells);
  }
  const moved = view.jump !== data.jump;
  if (moved) {  // the server chose this cell: it wins over a switch not yet sent
    view.jump = data.jump;
    clearTimeout(view.timer);
    view.timer = null;
  }
  if (newPart || moved) {
    showCell(view, moved || view.cell === undefined || view.cell >= part.cells ? data.cell : view.cell);
    drawChips(view);
    paintPins(view);
  }
  legend(view);
  select(view, data.selected);
  Object.assign(view.root.dataset, {
    key: part.text_key, layer: String(data.layer), signal: data.signal, selected: String(data.selected),
    chars: String(view.spans.length), synced: String(data.cell),
  });
}

// Behind the balancer (deploy/), a cookie names the replica each visitor is kept on. When that
// replica goes away, the page reconnects through the balancer to another one, which sets the
// cookie anew and has no session for this page; so once the page is connected again, the view
// asks for one run (the "moved" trigger) and the new replica rebuilds the session from the link.
// A connection that drops and comes back to the same replica, whose session is still there (a
// network blip, or a message the server refused), asks for nothing: the page never sends the
// same refused message again and again.
function replica() {
  const name = SHARED.replica_cookie + "=";
  const found = document.cookie.split("; ").find((c) => c.startsWith(name));
  return found ? found.slice(name.length) : null;
}

function watchReplica(view) {
  const w = window.__lstmVizReplica || (window.__lstmVizReplica = { view: null, served: replica() });
  w.view = view;
  const app = document.querySelector("[data-testid=stApp]");
  if (w.observer || !app) return;
  w.observer = new MutationObserver(() => {
    if (app.dataset.testConnectionState !== "CONNECTED") return;
    const now = replica();
    if (now && w.served && now !== w.served && w.view.root.isConnected) w.view.send("moved", now);
    w.served = now || w.served;
  });
  w.observer.observe(app, { attributes: true, attributeFilter: ["data-test-connection-state"] });
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".lv");
  if (!root || !data) return;
  const view = root.__view || (root.__view = init(root));
  view.send = setTriggerValue;
  watchReplica(view);
  view.data = data;
  const reg = registry();
  if (reg.parts.has(data.key)) update(view);
  else reg.waiting.set(data.key, [...(reg.waiting.get(data.key) || []), () => view.data === data && update(view)]);
}
