// The prediction strip: text on top, the top next-character guesses under each character.
// All text is set with textContent; a click on a column sends its position as "select".
// It does not depend on the chosen cell, so a rerun that brings the same data draws nothing.

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const grid = parentElement.querySelector(".grid");
  if (!grid || !data) return;
  const same = JSON.stringify(data);
  if (grid.__drawn === same) return;
  grid.__drawn = same;
  const frag = document.createDocumentFragment();
  for (const col of data.cols) {
    const head = document.createElement("span");
    head.className = "txt" + (col.t === data.selected ? " sel" : "");
    head.textContent = col.label;
    head.title = `position ${col.t}`;
    head.dataset.t = String(col.t);
    frag.append(head);
    col.top.forEach(([sym, p], k) => {
      const guess = document.createElement("span");
      guess.className = k === col.hit ? "guess hit" : "guess";
      guess.textContent = sym;
      guess.style.backgroundColor = `rgba(${SCALE.guess.join(", ")}, ${Math.min(1, p).toFixed(3)})`;
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
