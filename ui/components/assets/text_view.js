// The app's coloured text, drawn by lstm_viz/views/assets/coloured_text.js, coloured by the chosen
// cell's signal. It holds the signal of every cell of the layer (the layer part, from layer_data.js), so it
// switches cells by itself: the toolbar's buttons and number box, or Up/Down and k/j in the
// text, repaint at once with no message to the server; the server is told the new cell as the
// "cell" trigger once no other switch has come for `sync_ms`. It moves to the data's cell only
// when the data's `jump` changes (the server moved it). Pinned cells are extra rows under each
// line. Hover cards are drawn from the data already here; a click sends the position as
// "select".

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

// Recolour the main rows with the current cell (at the training slider's snapshot, if it is on
// one and has this cell's values); pinned rows keep theirs.
function paint(view) {
  const { part, cell } = view;
  const lut = tones(part, cell), codes = part.codes, offset = cell * part.length;
  const past = snapshotValues(view);
  paintText(view.text, past ? (t) => tone(past[t]) : (t) => lut[codes[offset + t]]);
  view.paints += 1;
  Object.assign(view.root.dataset, { cell: String(cell), paints: String(view.paints) });
  // When these colours reached the screen (the frame after the repaint), for benchmarks.
  const shown = `${part.key}:${cell}`;
  requestAnimationFrame(() => setTimeout(() => {
    Object.assign(view.root.dataset, { shown, shownAt: performance.now().toFixed(1) });
  }, 0));
}

// The training slider (data.training, for a model with snapshots): the chosen cell at every snapshot,
// all here at once, so moving it repaints with no message to the server. Its stops are the
// snapshots in order, then the model itself (the layer part's colours). The values and each
// snapshot's sample come once the slider first moves off the model (the "training" trigger: the
// server then loads every snapshot and traces the text at each, for this cell and the next ones).
// It follows the cell the server knows: after a switch made here it waits, dimmed, for that cell's
// values.
function snapshotValues(view) {
  const t = view.data && view.data.training;
  if (!t || !view.snapValues || view.snap === null || view.snap >= view.snapValues.length) return null;
  if (t.layer !== view.data.layer || t.cell !== view.cell) return null;
  return view.snapValues[view.snap];
}

function svg(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

// The validation loss at each snapshot against the characters seen (log scale), the current one marked.
function drawLoss(view) {
  const t = view.data.training, box = view.root.querySelector(".training .loss");
  const W = 200, H = 46, pad = 5;
  const xs = t.chars_seen.map((c) => Math.log10(c + 1000)), ys = t.val;
  const known = ys.filter((y) => y !== null);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...known), Math.max(...known)];
  const px = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const py = (y) => pad + ((y1 - y) / (y1 - y0 || 1)) * (H - 2 * pad);
  const points = xs.map((x, i) => (ys[i] === null ? null : `${px(x).toFixed(1)},${py(ys[i]).toFixed(1)}`)).filter(Boolean);
  const at = Math.min(view.snap, t.index.length - 1);
  const marker = ys[at] === null ? [] : [svg("circle", { cx: px(xs[at]), cy: py(ys[at]), r: 3.5, fill: "#d62728", class: "now" })];
  box.replaceChildren(svg("polyline", { points: points.join(" "), fill: "none", stroke: "#1f77b4", "stroke-width": 1.5 }), ...marker);
}

function showSnapshot(view) {
  const t = view.data.training, box = view.root.querySelector(".training");
  const S = t.index.length, k = view.snap;
  const at = Math.min(k, S - 1);
  const loss = t.val[at] === null ? "" : `, validation loss ${t.val[at].toFixed(2)} nats`;
  const waiting = k < S && !view.snapValues ? " (running every snapshot over this text...)" : "";
  box.querySelector(".when").textContent = k >= S
    ? `the trained model (slide left to go back through its ${S} snapshots)`
    : `snapshot ${t.index[k]} of ${S}: ${t.chars_seen[k].toLocaleString("en")} characters seen${loss}${waiting}`;
  box.querySelector(".sample-box").hidden = !t.samples;  // they come with the snapshots' values
  box.querySelector(".sample").textContent = t.samples ? t.samples[at] : "";  // text, never HTML
  box.querySelector(".sample-what").textContent = k >= S ? "Its last snapshot writes:" : "It writes:";
  drawLoss(view);
  if (waiting) delete view.root.dataset.snapshot;  // set once the text shows that snapshot's colours
  else view.root.dataset.snapshot = String(k);
}

function training(view) {
  const t = view.data.training, box = view.root.querySelector(".training");
  box.hidden = !t;
  if (!t) { view.snap = null; delete view.root.dataset.snapshot; return; }
  const S = t.index.length;
  view.snapValues = t.values && t.values.map((v) => decode(v, Float32Array));
  if (t.values) view.askedTraining = false;  // a later part without them (a new session) may ask again
  const slider = box.querySelector(".snap");
  slider.max = String(S);
  if (view.snap === null || view.snap > S) view.snap = S;
  slider.value = String(view.snap);
  const on = t.layer === view.data.layer && t.cell === view.cell;
  box.classList.toggle("off", !on);
  slider.disabled = !on;
  showSnapshot(view);
}

// One row per pinned cell under each line of the text, coloured by that cell.
function drawPins(view) {
  const { part } = view;
  paintPins(view.text, view.pins.map((cell) => {
    const lut = tones(part, cell), offset = cell * part.length;
    return { cell, toneOf: (t) => lut[part.codes[offset + t]] };
  }));
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
      drawPins(view);
    });
    chip.append(show, drop);
    return chip;
  }));
  view.root.dataset.pins = view.pins.join(",");
}

function showCell(view, cell) {
  view.cell = cell;
  if (view.data.training) training(view);
  paint(view);
  view.num.value = String(cell);
  legend(view);
  hideCard(view.text);
}

// A switch made here: repaint now, tell the server once the switching stops.
function switchTo(view, cell) {
  if (!view.part) return;
  const n = view.part.cells;
  showCell(view, ((cell % n) + n) % n);
  clearTimeout(view.timer);
  view.timer = setTimeout(() => { view.timer = null; view.send("cell", view.cell); }, view.data.sync_ms);
}

function legend(view) {
  const d = view.data;
  view.root.querySelector(".legend .what").textContent = `Layer ${d.layer + 1}, cell ${view.cell}: ${d.signal_label}`;
  view.root.querySelector(".legend .lo").textContent = d.gate ? "0" : "-1";
  view.root.querySelector(".legend .bar").style.background = gradient(d.gate);
}

// The card's signals (the rows the server names for this kind of model): exact once the server has sent this cell's (with the sync), until
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

function card(view, t, pinned) {
  const cell = pinned === null ? view.cell : pinned, part = view.part, text = view.text;
  const exact = cardValues(view, cell);
  const top = [];
  for (let k = 0; k < TOP; k++) {
    top.push([label(part.alphabet[part.topIds[t * TOP + k]]), part.topProbs[t * TOP + k] / 65535]);
  }
  return {
    pos: `position ${t} \u00b7 cell ${cell}`,
    char: label(text.chars[t]),
    note: text.unknown.has(t) ? "not in the model's alphabet" : "",
    rows: view.data.card.rows.map(([name, words]) => ({
      name: words,
      value: exact ? exact[name][t] : name === view.data.signal ? valueAt(part, cell, t) : NaN,
      on: name === view.data.signal,
    })),
    wait: !exact,
    top,
  };
}

function init(root) {
  const view = {
    root, num: root.querySelector(".num"), textKey: null, part: null, pins: [], paints: 0, timer: null, snap: null,
  };
  view.text = colouredText(root, root.querySelector(".text"), {
    select: (t) => view.send("select", t),
    step: (d) => switchTo(view, view.cell + d),
    card: (t, cell) => card(view, t, cell),
  });
  root.querySelector(".prev").addEventListener("click", () => switchTo(view, view.cell - 1));
  root.querySelector(".next").addEventListener("click", () => switchTo(view, view.cell + 1));
  view.num.addEventListener("change", () => {
    const cell = Number(view.num.value);
    if (Number.isInteger(cell) && cell >= 0 && cell < view.part.cells) switchTo(view, cell);
    else view.num.value = String(view.cell);
  });
  root.querySelector(".training .snap").addEventListener("input", (e) => {
    view.snap = Number(e.target.value);
    const t = view.data.training;
    if (!view.snapValues && view.snap < t.index.length && !view.askedTraining) {
      view.askedTraining = true;  // once: from then on every rerun brings the values
      view.send("training", true);
    }
    showSnapshot(view);
    paint(view);
  });
  root.querySelector(".pin").addEventListener("click", () => {
    if (!view.part || view.pins.includes(view.cell)) return;
    view.pins.push(view.cell);
    drawChips(view);
    drawPins(view);
  });
  return view;
}

function update(view) {
  const data = view.data;
  const part = registry().parts.get(data.key);
  if (!part) return;
  const newPart = view.part !== part;
  if (newPart) {
    if (view.textKey !== part.text_key) {
      setText(view.text, Array.from(part.text), new Set(part.unknown));
      view.textKey = part.text_key;
    }
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
    drawPins(view);
  } else {
    training(view);
    if (snapshotValues(view)) paint(view);
  }
  legend(view);
  selectAt(view.text, data.selected);
  Object.assign(view.root.dataset, {
    key: part.text_key, layer: String(data.layer), signal: data.signal, selected: String(data.selected),
    chars: String(view.text.spans.length), synced: String(data.cell),
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
