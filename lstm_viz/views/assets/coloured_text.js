// The coloured text: one span per character on the colour of its value, lines grouped in chunks,
// pinned rows under each line, a hover card, a click to select and Up/Down or k/j to step. Both
// browser views draw it with this file: the notebook widget (lstm_viz/views/notebook.py) and the
// app's text view (ui/components/component.py). Each puts `const SHARED = {...}` in front: the
// colour scale of lstm_viz.views.colour (`scale()`), the glyph labels of lstm_viz.views.glyphs and
// the number of next-character guesses. Text is only ever set with textContent.

const SCALE = SHARED.scale, GLYPHS = SHARED.glyphs, TOP = SHARED.top;

// A printable label for one character: whitespace and control characters get a symbol.
function label(c) {
  if (c in GLYPHS) return GLYPHS[c];
  const code = c.codePointAt(0);
  if (code < 32 || code === 127) return "U+" + code.toString(16).toUpperCase().padStart(4, "0");
  return c;
}

// [sign, k]: which end of the scale, and how many levels towards white (NaN is white).
function level(v) {
  if (Number.isNaN(v)) return [1, SCALE.levels];
  const x = Math.max(-1, Math.min(1, v));
  return [x < 0 ? -1 : 1, Math.floor(SCALE.levels * (1 - Math.abs(x)) + 0.5)];
}

function levelRgb(sign, k) {
  const end = sign < 0 ? SCALE.low : SCALE.high;
  return end.map((e, i) => Math.round(e + ((SCALE.zero[i] - e) * k) / SCALE.levels));
}

function rgb(v) {
  const [sign, k] = level(v);
  return levelRgb(sign, k);
}

function css(v) {
  const [r, g, b] = rgb(v);
  return `rgb(${r}, ${g}, ${b})`;
}

// White text reads better on this background.
function dark([r, g, b]) {
  return 0.299 * r + 0.587 * g + 0.114 * b < SCALE.dark;
}

// A legend's CSS gradient, left to right: 0 to 1 (white to blue) for a gate, else -1 to 1.
function gradient(gate) {
  const n = SCALE.stops, stops = [];
  for (let k = 0; k < n; k++) stops.push(css(gate ? k / (n - 1) : (2 * k) / (n - 1) - 1));
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// The colour class of a value: the scale has 511 colours, one class each ("n<k>" below zero,
// "p<k>" from zero up), so a repaint only swaps class names.
function tone(v) {
  const [sign, k] = level(v);
  return (sign < 0 ? "n" : "p") + k;
}

function scaleRules() {
  const rules = [];
  for (let k = 0; k <= SCALE.levels; k++) {
    for (const [name, sign] of [[`n${k}`, -1], [`p${k}`, 1]]) {
      const colour = levelRgb(sign, k);
      rules.push(`.lvc .ch.${name} { background-color: rgb(${colour.join(", ")}); ${dark(colour) ? "color: #fff;" : ""} }`);
    }
  }
  return rules.join("\n");
}

function makeCard() {
  const card = el("div", "card");
  card.hidden = true;
  const head = el("div", "head");
  const pos = el("span", "pos"), char = el("span", "char"), note = el("span", "note");
  head.append(pos, char, note);
  const table = el("table"), about = el("div", "about");
  const list = el("ol");
  const top = [];
  for (let k = 0; k < TOP; k++) {
    const li = el("li");
    const sym = el("span", "sym"), pbar = el("span", "pbar"), fill = el("i"), p = el("span", "p");
    fill.style.background = `rgb(${SCALE.guess.join(", ")})`;
    pbar.append(fill);
    li.append(sym, pbar, p);
    list.append(li);
    top.push({ sym, fill, p });
  }
  const wait = el("div", "wait", "The other signals of this cell arrive once the page has caught up.");
  card.append(head, table, about, wait, el("div", "next", "next character"), list);
  return { card, pos, char, note, table, about, top, wait };
}

const LINES_PER_CHUNK = 20;  // lines are grouped so the browser can skip those out of view
const KEYS = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 };

// The coloured text in `box` (focusable, scrolling), inside `root` (positioned; it holds the card,
// so the card is never clipped by the scrolling). `on.select(t)`: a click on position t;
// `on.step(d)`: Up/Down or k/j (d = +1 or -1); `on.card(t, cell)`: what the hover card of position
// t says ({pos, char, note, rows: [{name, value, on}], about, wait, top: [[label, p]]}), for the
// main row (cell null) or a pinned row.
function colouredText(root, box, on) {
  const text = { root, box, on, card: makeCard(), spans: [], base: [], lines: [], chars: [], unknown: new Set(),
    selected: -1, pinRows: [] };
  root.classList.add("lvc");
  root.append(el("style", "", scaleRules()), text.card.card);
  box.addEventListener("mouseover", (e) => {
    const span = e.target.closest(".ch");
    if (span) showCard(text, span);
  });
  box.addEventListener("mouseleave", () => hideCard(text));
  box.addEventListener("click", (e) => {
    const span = e.target.closest(".ch");
    if (!span) return;
    selectAt(text, span._t);
    on.select(span._t);
  });
  box.addEventListener("keydown", (e) => {
    if (!(e.key in KEYS) || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    e.stopPropagation();  // a notebook would move between its cells
    on.step(KEYS[e.key]);
  });
  return text;
}

// One span per character of `chars` (an array of characters), a line per newline (shown as its glyph).
function setText(text, chars, unknown) {
  const frag = document.createDocumentFragment();
  text.spans = new Array(chars.length);
  text.base = new Array(chars.length);
  text.lines = [];
  let chunk = null, line = null;
  for (let t = 0; t < chars.length; t++) {
    if (!line) {
      if (text.lines.length % LINES_PER_CHUNK === 0) frag.append(chunk = el("div", "chunk"));
      chunk.append(line = el("div", "line main"));
      text.lines.push({ line, start: t, stop: t });
    }
    const newline = chars[t] === "\n";
    const span = el("span", "", newline ? GLYPHS["\n"] : chars[t]);
    span._t = t;
    text.base[t] = "ch" + (newline ? " nl" : "") + (unknown.has(t) ? " unk" : "") + " ";
    span.className = text.base[t];
    line.append(span);
    text.lines[text.lines.length - 1].stop = t + 1;
    text.spans[t] = span;
    if (newline) line = null;
  }
  text.box.replaceChildren(frag);
  text.chars = chars;
  text.unknown = unknown;
  text.selected = -1;
  text.pinRows = [];
}

// Recolour the main rows: `toneOf(t)` is position t's colour class (`tone`); pinned rows keep theirs.
function paintText(text, toneOf) {
  const { spans, base } = text;
  for (let t = 0; t < spans.length; t++) spans[t].className = base[t] + toneOf(t);
  if (text.selected >= 0 && spans[text.selected]) spans[text.selected].classList.add("sel");
}

// One row per pinned cell under each line, `pins` [{cell, toneOf}] in order.
function paintPins(text, pins) {
  for (const row of text.pinRows) row.remove();
  text.pinRows = [];
  text.box.classList.toggle("pinned", pins.length > 0);
  for (const { line, start, stop } of text.lines) {
    let after = line;
    for (const { cell, toneOf } of pins) {
      const row = el("div", "line pin");
      row.dataset.cell = String(cell);
      row.dataset.label = `cell ${cell}`;
      row._cell = cell;
      for (let t = start; t < stop; t++) {
        const span = el("span", text.base[t] + toneOf(t), text.spans[t].textContent);
        span._t = t;
        row.append(span);
      }
      after.after(row);
      after = row;
      text.pinRows.push(row);
    }
  }
}

// Outline position t (-1: none).
function selectAt(text, t) {
  if (text.selected >= 0 && text.spans[text.selected]) text.spans[text.selected].classList.remove("sel");
  text.selected = t;
  if (t >= 0 && text.spans[t]) text.spans[t].classList.add("sel");
}

function showCard(text, span) {
  const t = span._t;
  const row = span.parentElement;
  const info = text.on.card(t, row && row._cell !== undefined ? row._cell : null);
  const c = text.card;
  c.pos.textContent = info.pos;
  c.char.textContent = info.char;
  c.note.textContent = info.note || "";
  c.table.replaceChildren(...info.rows.map(({ name, value, on }) => {
    const tr = el("tr", on ? "on" : "");
    const sw = el("span", "sw"), swatch = el("td");
    sw.style.backgroundColor = Number.isNaN(value) ? "transparent" : css(value);
    swatch.append(sw);
    tr.append(swatch, el("td", "", name), el("td", "v", Number.isNaN(value) ? "\u2026" : value.toFixed(3)));
    return tr;
  }));
  c.about.textContent = info.about ? `about: ${info.about}` : "";
  c.about.hidden = !info.about;
  c.wait.hidden = !info.wait;
  for (let k = 0; k < TOP; k++) {
    const [sym, p] = info.top[k] || ["", 0];
    c.top[k].sym.textContent = sym;
    c.top[k].fill.style.width = `${(100 * p).toFixed(1)}%`;
    c.top[k].p.textContent = `${(100 * p).toFixed(1)}%`;
  }
  c.card.hidden = false;
  // Below the character, or above it when there is no room below.
  const root = text.root.getBoundingClientRect(), inner = span.getBoundingClientRect();
  const width = c.card.offsetWidth, height = c.card.offsetHeight;
  const left = Math.max(0, Math.min(inner.left - root.left, root.width - width - 4));
  const below = inner.bottom - root.top + 4, above = inner.top - root.top - height - 4;
  c.card.style.left = `${left}px`;
  c.card.style.top = `${below + height > root.height && above >= 0 ? above : below}px`;
  text.root.dataset.hover = String(t);
}

function hideCard(text) {
  text.card.card.hidden = true;
  delete text.root.dataset.hover;
}
