// The coloured text: one span per character, coloured by the chosen cell's signal.
// Hover cards are drawn here from the data already sent, so hovering never reruns the app;
// a click sends the position back as the "select" trigger. User text is only ever set
// with textContent.

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
  card.append(head, table, el("div", "next", "next character"), list);
  return { card, pos, char, note, rows, top };
}

const LINES_PER_CHUNK = 20;  // lines are grouped so the browser can skip those out of view

function build(view, part) {
  const chars = Array.from(part.text);
  const unknown = new Set(part.unknown);
  const frag = document.createDocumentFragment();
  view.spans = new Array(chars.length);
  view.base = new Array(chars.length);
  let chunk = null, line = null, lines = 0;
  for (let t = 0; t < chars.length; t++) {
    if (!line) {
      if (lines % LINES_PER_CHUNK === 0) frag.append(chunk = el("div", "chunk"));
      chunk.append(line = el("div", "line"));
      lines++;
    }
    const newline = chars[t] === "\n";
    const span = el("span", "", newline ? GLYPHS["\n"] : chars[t]);
    span._t = t;
    view.base[t] = "ch" + (newline ? " nl" : "") + (unknown.has(t) ? " unk" : "");
    span.className = view.base[t];
    line.append(span);
    if (newline) line = null;
    view.spans[t] = span;
  }
  view.text.replaceChildren(frag);
  view.chars = chars;
  view.unknown = unknown;
  view.alphabet = part.alphabet;
  view.topIds = decode(part.top_ids, Uint16Array);
  view.topProbs = decode(part.top_probs, Float32Array);
  view.key = part.key;
  view.cellKey = null;
  view.selected = -1;
}

function paint(view) {
  const values = view.values[view.signal];
  const { spans, base } = view;
  for (let t = 0; t < spans.length; t++) spans[t].className = `${base[t]} ${tone(values[t])}`;
  view.selected = -1;
}

function select(view, t) {
  if (view.selected >= 0 && view.spans[view.selected]) view.spans[view.selected].classList.remove("sel");
  view.selected = t;
  if (t >= 0 && view.spans[t]) view.spans[t].classList.add("sel");
}

function showCard(view, span) {
  const t = span._t;
  const c = view.card;
  c.pos.textContent = `position ${t}`;
  c.char.textContent = label(view.chars[t]);
  c.note.textContent = view.unknown.has(t) ? "not in the model's alphabet" : "";
  for (const [name] of CARD_ROWS) {
    const v = view.values[name][t];
    const row = c.rows[name];
    row.sw.style.backgroundColor = css(v);
    row.value.textContent = v.toFixed(3);
    row.tr.classList.toggle("on", name === view.signal);
  }
  for (let k = 0; k < TOP; k++) {
    const id = view.topIds[t * TOP + k], p = view.topProbs[t * TOP + k];
    c.top[k].sym.textContent = label(view.alphabet[id]);
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

function init(root) {
  const view = { root, text: root.querySelector(".text"), card: makeCard(), key: null, spans: [] };
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
  return view;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".lv");
  if (!root || !data) return;
  const view = root.__view || (root.__view = init(root));
  view.send = setTriggerValue;
  const cell = data.cell;
  if (view.key !== data.text.key) build(view, data.text);
  const cellKey = `${cell.layer}:${cell.cell}`;
  if (view.cellKey !== cellKey) {
    view.values = {};
    for (const [name, packed] of Object.entries(cell.values)) view.values[name] = decode(packed, Float32Array);
  }
  if (view.cellKey !== cellKey || view.signal !== cell.signal) {
    view.cellKey = cellKey;
    view.signal = cell.signal;
    paint(view);
    hideCard(view);
  }
  select(view, cell.selected);
  root.querySelector(".legend .what").textContent =
    `Layer ${cell.layer + 1}, cell ${cell.cell}: ${cell.signal_label}`;
  root.querySelector(".legend .lo").textContent = cell.gate ? "0" : "-1";
  root.querySelector(".legend .bar").classList.toggle("gate", cell.gate);
  Object.assign(root.dataset, {
    key: view.key, layer: String(cell.layer), cell: String(cell.cell), signal: cell.signal,
    selected: String(cell.selected), chars: String(view.spans.length),
  });
}
