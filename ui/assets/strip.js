// The prediction strip: text on top, the top-5 next-character guesses under each character.
// All text is set with textContent; a click on a column sends its position as "select".

function rgb(v) {
  if (Number.isNaN(v)) return [255, 255, 255];
  const x = Math.max(-1, Math.min(1, v));
  const k = Math.floor(255 * (1 - Math.abs(x)) + 0.5);
  return x < 0 ? [255, k, k] : [k, k, 255];
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const grid = parentElement.querySelector(".grid");
  if (!grid || !data) return;
  const frag = document.createDocumentFragment();
  for (const col of data.cols) {
    const head = document.createElement("span");
    head.className = "txt" + (col.t === data.selected ? " sel" : "");
    head.textContent = col.label;
    const [r, g, b] = rgb(col.value);
    head.style.backgroundColor = `rgb(${r}, ${g}, ${b})`;
    if (0.299 * r + 0.587 * g + 0.114 * b < 140) head.style.color = "#fff";
    head.title = `position ${col.t}`;
    head.dataset.t = String(col.t);
    frag.append(head);
    col.top.forEach(([sym, p], k) => {
      const guess = document.createElement("span");
      guess.className = k === col.hit ? "guess hit" : "guess";
      guess.textContent = sym;
      guess.style.backgroundColor = `rgba(74, 111, 208, ${Math.min(1, p).toFixed(3)})`;
      if (p > 0.6) guess.style.color = "#fff";
      guess.title = `${(100 * p).toFixed(1)}%`;
      guess.dataset.t = String(col.t);
      frag.append(guess);
    });
  }
  grid.replaceChildren(frag);
  grid.onclick = (e) => {
    const t = e.target.dataset && e.target.dataset.t;
    if (t !== undefined) setTriggerValue("select", Number(t));
  };
}
