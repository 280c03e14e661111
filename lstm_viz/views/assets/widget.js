// trace.show(): the coloured text, hover cards and the top-5 strip, laid out from what Python
// computed (colours, labels, guesses). Up/Down change the cell through the synced "cell"
// trait; a click picks the position the strip is centred on. Text is set with textContent only.

const STRIP_BEFORE = 12, STRIP_AFTER = 24;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el: root }) {
  const box = el("div", "lvw");
  box.tabIndex = 0;
  const head = el("div", "head");
  const title = el("span", "title");
  const lo = el("span", "num"), bar = el("span", "bar"), hi = el("span", "num"), note = el("span", "note");
  const hint = el("span", "note", "\u2191/\u2193 change the cell (click the text first); click a character for its strip");
  head.append(title, lo, bar, hi, note, hint);
  const text = el("div", "text");
  const card = el("div", "card");
  card.hidden = true;
  const strip = el("div", "strip");
  box.append(head, text, strip, card);
  root.append(box);

  const labels = model.get("labels");
  const breaks = new Set(model.get("breaks"));
  const unknown = new Set(model.get("unknown"));
  const spans = labels.map((label, t) => {
    const span = el("span", unknown.has(t) ? "ch unk" : "ch", label);
    span.dataset.t = String(t);
    text.append(span);
    if (breaks.has(t)) text.append(el("br"));
    return span;
  });

  function paint() {
    const colours = model.get("colours"), inks = model.get("inks");
    spans.forEach((span, t) => {
      span.style.backgroundColor = colours[t];
      span.style.color = inks[t];
    });
    const legend = model.get("legend");
    title.textContent = model.get("caption");
    lo.textContent = legend.lo.toFixed(2);
    hi.textContent = legend.hi.toFixed(2);
    note.textContent = legend.note;
    bar.style.background = `linear-gradient(to right, ${legend.stops.join(", ")})`;
    box.dataset.cell = String(model.get("cell"));
    drawStrip();
  }

  function drawStrip() {
    const selected = model.get("selected"), top = model.get("top"), hits = model.get("hits");
    const colours = model.get("colours"), inks = model.get("inks");
    const frag = document.createDocumentFragment();
    const from = Math.max(0, selected - STRIP_BEFORE), to = Math.min(labels.length, selected + STRIP_AFTER + 1);
    for (let t = from; t < to; t++) {
      const col = el("div", t === selected ? "col sel" : "col");
      const head = el("span", "txt", labels[t]);
      head.style.backgroundColor = colours[t];
      head.style.color = inks[t];
      col.append(head);
      top[t].forEach(([sym, p], k) => {
        const guess = el("span", k === hits[t] ? "guess hit" : "guess", sym);
        guess.style.backgroundColor = `rgba(${model.get("palette").guess.join(", ")}, ${Math.min(1, p).toFixed(3)})`;
        if (p > 0.6) guess.style.color = "#fff";
        guess.title = `${(100 * p).toFixed(1)}%`;
        col.append(guess);
      });
      col.dataset.t = String(t);
      frag.append(col);
    }
    strip.replaceChildren(frag);
  }

  text.addEventListener("mouseover", (e) => {
    const t = e.target.dataset && e.target.dataset.t;
    if (t === undefined) return;
    const k = Number(t), values = model.get("values");
    const rows = [el("div", "pos", `position ${k + model.get("offset")}${unknown.has(k) ? " (unknown)" : ""}`),
                  el("div", "char", labels[k]), el("div", "v", `${model.get("caption")}: ${values[k].toFixed(3)}`)];
    if (model.get("label")) rows.push(el("div", "label", `about: ${model.get("label")}`));
    rows.push(el("div", "next", "next character:"));
    for (const [sym, p] of model.get("top")[k]) rows.push(el("div", "guessrow", `${sym}  ${(100 * p).toFixed(1)}%`));
    card.replaceChildren(...rows);
    card.style.left = `${e.target.offsetLeft}px`;
    card.style.top = `${e.target.offsetTop + e.target.offsetHeight + 4}px`;
    card.hidden = false;
  });
  text.addEventListener("mouseleave", () => { card.hidden = true; });
  text.addEventListener("click", (e) => {
    const t = e.target.dataset && e.target.dataset.t;
    box.focus();
    if (t === undefined) return;
    model.set("selected", Number(t));
    model.save_changes();
  });
  box.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    e.preventDefault();
    e.stopPropagation();  // JupyterLab would move between notebook cells
    const n = model.get("cells");
    model.set("cell", (model.get("cell") + (e.key === "ArrowDown" ? 1 : -1) + n) % n);
    model.save_changes();
  });

  model.on("change:colours", paint);
  model.on("change:caption", paint);
  model.on("change:selected", drawStrip);
  paint();
  return () => {
    model.off("change:colours", paint);
    model.off("change:caption", paint);
    model.off("change:selected", drawStrip);
  };
}

export default { render };
