// The cell heatmap on a canvas: rows are cells, columns are characters, coloured like the text.
// Hovering shows a tooltip without a rerun; clicking a row sends {cell, position} as "pick".
// Characters are drawn with fillText and set with textContent, never parsed as HTML.
// Rows grouped by label (data.groups, one title per row) are ruled off, each group's title in a
// band on the right.

const ROW = 14, LABELS = 62, FOOT = 18, FONT = "11px ui-monospace, 'DejaVu Sans Mono', monospace";
const BAND = 260;  // px for the group titles, when the rows are grouped

function geometry(view) {
  const d = view.data;
  const width = view.canvas.clientWidth || 800;
  const band = d.groups ? Math.min(BAND, width / 3) : 0;
  const col = Math.max(1, (width - LABELS - band) / d.labels.length);
  return { width, col, band, height: d.cells.length * ROW + FOOT };
}

function drawGroups(g, d, x, band) {
  g.textAlign = "left";
  g.strokeStyle = "#333";
  g.lineWidth = 1;
  d.groups.forEach((title, r) => {
    if (r > 0 && title === d.groups[r - 1]) return;
    if (r > 0) {
      g.beginPath();
      g.moveTo(0, r * ROW + 0.5);
      g.lineTo(x + band, r * ROW + 0.5);
      g.stroke();
    }
    let shown = title;
    while (shown.length > 1 && g.measureText(shown).width > band - 8) shown = shown.slice(0, -2) + "\u2026";
    g.fillText(shown, x + 6, r * ROW + ROW / 2);
  });
}

function draw(view) {
  const d = view.data, canvas = view.canvas;
  const { width, col, band, height } = geometry(view);
  const scale = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  canvas.style.height = `${height}px`;
  const g = canvas.getContext("2d");
  g.setTransform(scale, 0, 0, scale, 0, 0);
  g.clearRect(0, 0, width, height);
  const n = d.labels.length;
  for (let r = 0; r < d.cells.length; r++) {
    for (let c = 0; c < n; c++) {
      g.fillStyle = css(view.values[r * n + c]);
      g.fillRect(LABELS + c * col, r * ROW, Math.ceil(col), ROW);
    }
  }
  g.font = FONT;
  g.fillStyle = "#333";
  g.textBaseline = "middle";
  g.textAlign = "right";
  d.cells.forEach((cell, r) => g.fillText(`cell ${cell}`, LABELS - 4, r * ROW + ROW / 2));
  g.textAlign = "center";
  if (col >= 7) d.labels.forEach((label, c) => g.fillText(label, LABELS + (c + 0.5) * col, height - FOOT / 2));
  if (d.groups) drawGroups(g, d, LABELS + n * col, band);
  g.strokeStyle = "#000";
  g.lineWidth = 1.5;
  const row = d.cells.indexOf(d.chosen);
  if (row >= 0) g.strokeRect(LABELS + 0.75, row * ROW + 0.75, n * col - 1.5, ROW - 1.5);
  const column = d.selected - d.start;
  if (column >= 0 && column < n) {
    g.strokeRect(LABELS + column * col + 0.75, 0.75, col - 1.5, d.cells.length * ROW - 1.5);
  }
}

function at(view, event) {
  const d = view.data;
  const rect = view.canvas.getBoundingClientRect();
  const { col } = geometry(view);
  const x = event.clientX - rect.left - LABELS, y = event.clientY - rect.top;
  const r = Math.floor(y / ROW), c = Math.floor(x / col);
  if (x < 0 || r < 0 || r >= d.cells.length || c < 0 || c >= d.labels.length) return null;
  return { r, c, x: event.clientX - rect.left, y };
}

function init(root) {
  const view = { root, canvas: root.querySelector("canvas"), tip: root.querySelector(".tip") };
  canvasEvents(view, at, (p) => {
    const d = view.data, n = d.labels.length;
    return `cell ${d.cells[p.r]}, position ${d.start + p.c} (${d.labels[p.c]}): ` + view.values[p.r * n + p.c].toFixed(3)
      + (d.groups ? `\n${d.groups[p.r]}` : "");
  }, (p) => ({ cell: view.data.cells[p.r], position: view.data.start + p.c }), () => draw(view));
  return view;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".hm");
  if (!root || !data) return;
  const view = root.__view || (root.__view = init(root));
  view.send = setTriggerValue;
  view.data = data;
  view.values = decode(data.values, Float32Array);
  root.querySelector(".title").textContent = data.title;
  draw(view);
  Object.assign(root.dataset, {
    cells: data.cells.join(","), chosen: String(data.chosen), start: String(data.start),
    columns: String(data.labels.length), grouped: String(Boolean(data.groups)),
  });
}
