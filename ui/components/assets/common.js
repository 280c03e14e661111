// Helpers shared by every view. ui/components/component.py puts this file in front of each view's script,
// after `const SHARED = {...}`: the constants defined in Python (the colour scale of
// lstm_viz.views.colour, the glyph labels of lstm_viz.views.glyphs, the number of next-character guesses).

const SCALE = SHARED.scale, GLYPHS = SHARED.glyphs, TOP = SHARED.top;

// A printable label for one character: whitespace and control characters get a symbol.
function label(c) {
  if (c in GLYPHS) return GLYPHS[c];
  const code = c.codePointAt(0);
  if (code < 32 || code === 127) return "U+" + code.toString(16).toUpperCase().padStart(4, "0");
  return c;
}

// Base64 of little-endian bytes -> a typed array of `Type`.
function decode(b64, Type) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Type(bytes.buffer);
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

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A canvas view's hover tip and click: `at(view, event)` finds what is under the pointer (with
// its x, y in the canvas), `tip(p)` words it, a click sends `pick(p)` as the "pick" trigger, and
// `redraw()` runs when the canvas is resized.
function canvasEvents(view, at, tip, pick, redraw) {
  view.canvas.addEventListener("mousemove", (e) => {
    const p = at(view, e);
    if (!p) { view.tip.hidden = true; return; }
    view.tip.textContent = tip(p);
    view.tip.hidden = false;
    view.tip.style.left = `${Math.min(p.x + 12, view.canvas.clientWidth - view.tip.offsetWidth)}px`;
    view.tip.style.top = `${p.y + view.canvas.offsetTop + 14}px`;
  });
  view.canvas.addEventListener("mouseleave", () => { view.tip.hidden = true; });
  view.canvas.addEventListener("click", (e) => {
    const p = at(view, e);
    if (p) view.send("pick", pick(p));
  });
  new ResizeObserver(() => view.data && redraw()).observe(view.canvas);
}
