// Helpers shared by every view. ui/components/component.py puts this file in front of each view's script,
// after `const SHARED = {...}` and the library's coloured text (lstm_viz/views/assets/coloured_text.js),
// whose scale, labels and `el` every view uses.

// Base64 of little-endian bytes -> a typed array of `Type`.
function decode(b64, Type) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Type(bytes.buffer);
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
