// trace.show(): the coloured text (coloured_text.js, which comes first), its hover cards and the
// top-5 strip, from what Python computed (each character's place on the colour scale, labels,
// guesses). Up/Down or k/j change the cell through the synced "cell" trait; a click picks the
// position the strip is centred on.

const STRIP_BEFORE = 12, STRIP_AFTER = 24;

function render({ model, el: root }) {
  const box = el("div", "lvw");
  const head = el("div", "head");
  const title = el("span", "title");
  const lo = el("span", "num"), bar = el("span", "bar"), hi = el("span", "num"), note = el("span", "note");
  const hint = el("span", "note", "\u2191/\u2193 change the cell (click the text first); click a character for its strip");
  head.append(title, lo, bar, hi, note, hint);
  const body = el("div", "text");
  body.tabIndex = 0;
  const strip = el("div", "strip");
  box.append(head, body, strip);
  root.append(box);

  const text = colouredText(box, body, {
    select: (t) => {
      model.set("selected", t);
      model.save_changes();
    },
    step: (d) => {
      const n = model.get("cells");
      model.set("cell", (model.get("cell") + d + n) % n);
      model.save_changes();
    },
    card: (t) => ({
      pos: `position ${t + model.get("offset")}`,
      char: label(text.chars[t]),
      note: text.unknown.has(t) ? "not in the model's alphabet" : "",
      rows: [{ name: model.get("caption"), value: model.get("values")[t], on: true }],
      about: model.get("label"),
      top: model.get("top")[t],
    }),
  });
  setText(text, model.get("chars"), new Set(model.get("unknown")));

  function paint() {
    const shades = model.get("shades"), legend = model.get("legend");
    paintText(text, (t) => tone(shades[t]));
    title.textContent = model.get("caption");
    lo.textContent = legend.lo.toFixed(2);
    hi.textContent = legend.hi.toFixed(2);
    note.textContent = legend.note;
    bar.style.background = gradient(legend.gate);
    box.dataset.cell = String(model.get("cell"));
    drawStrip();
  }

  function drawStrip() {
    const selected = model.get("selected"), top = model.get("top"), hits = model.get("hits");
    const labels = model.get("labels"), shades = model.get("shades");
    const frag = document.createDocumentFragment();
    const from = Math.max(0, selected - STRIP_BEFORE), to = Math.min(labels.length, selected + STRIP_AFTER + 1);
    for (let t = from; t < to; t++) {
      const col = el("div", t === selected ? "col sel" : "col");
      const colour = rgb(shades[t]);
      const head = el("span", "txt", labels[t]);
      head.style.backgroundColor = `rgb(${colour.join(", ")})`;
      if (dark(colour)) head.style.color = "#fff";
      col.append(head);
      top[t].forEach(([sym, p], k) => {
        const guess = el("span", k === hits[t] ? "guess hit" : "guess", sym);
        guess.style.backgroundColor = `rgba(${SCALE.guess.join(", ")}, ${Math.min(1, p).toFixed(3)})`;
        if (p > 0.6) guess.style.color = "#fff";
        guess.title = `${(100 * p).toFixed(1)}%`;
        col.append(guess);
      });
      col.dataset.t = String(t);
      frag.append(col);
    }
    strip.replaceChildren(frag);
  }

  model.on("change:shades", paint);
  model.on("change:caption", paint);
  model.on("change:selected", drawStrip);
  paint();
  return () => {
    model.off("change:shades", paint);
    model.off("change:caption", paint);
    model.off("change:selected", drawStrip);
  };
}

export default { render };
