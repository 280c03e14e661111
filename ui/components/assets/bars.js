// Light bar charts drawn without a charting library: the next-character guesses ("next": one
// row per guess, the one that came next in green) and every cell of a layer at one position
// ("cells": a canvas of bars coloured like the text; hover for the value, click a bar to send
// its cell as "pick"). Labels are set with textContent or drawn with fillText.

const HEIGHT = 200, PAD = 4;

function drawNext(view, d) {
  view.next.hidden = false;
  view.canvas.hidden = true;
  view.next.replaceChildren(...d.rows.flatMap((row, i) => {
    const sym = el("span", "sym", `${i + 1}. ${row.label}`);
    const track = el("span", "track"), fill = el("i");
    fill.style.width = `${(100 * row.p).toFixed(1)}%`;
    track.append(fill);
    const p = el("span", "p", `${(100 * row.p).toFixed(1)}%`);
    const cells = [sym, track, p];
    if (row.actual) cells.forEach((node) => node.classList.add("hit"));
    return cells;
  }));
}

function drawCells(view) {
  const canvas = view.canvas, values = view.values;
  view.next.hidden = true;
  canvas.hidden = false;
  const width = canvas.clientWidth || 800, scale = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(HEIGHT * scale);
  const g = canvas.getContext("2d");
  g.setTransform(scale, 0, 0, scale, 0, 0);
  g.clearRect(0, 0, width, HEIGHT);
  const col = width / values.length, mid = HEIGHT / 2;
  g.fillStyle = "#ccc";
  g.fillRect(0, mid, width, 1);
  for (let i = 0; i < values.length; i++) {
    const v = Math.max(-1, Math.min(1, values[i]));
    g.fillStyle = css(values[i]);
    const h = v * (mid - PAD);
    g.fillRect(i * col, v >= 0 ? mid - h : mid, Math.max(1, col), Math.abs(h));
  }
}

function at(view, event) {
  const rect = view.canvas.getBoundingClientRect();
  const i = Math.floor(((event.clientX - rect.left) / rect.width) * view.values.length);
  return i >= 0 && i < view.values.length ? { i, x: event.clientX - rect.left, y: event.clientY - rect.top } : null;
}

function init(root) {
  const view = { root, next: root.querySelector(".next"), canvas: root.querySelector("canvas"),
    tip: root.querySelector(".tip") };
  canvasEvents(view, at, (p) => `cell ${p.i}: ${view.values[p.i].toFixed(3)}`, (p) => p.i,
    () => view.data.kind === "cells" && drawCells(view));
  return view;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".bars");
  if (!root || !data) return;
  const view = root.__view || (root.__view = init(root));
  view.send = setTriggerValue;
  if (view.data && JSON.stringify(view.data) === JSON.stringify(data)) return;  // nothing new to draw
  view.data = data;
  root.querySelector(".title").textContent = data.title;
  root.querySelector(".note").textContent = data.note || "";
  if (data.kind === "next") drawNext(view, data);
  else {
    view.values = decode(data.values, Float32Array);
    drawCells(view);
  }
  root.dataset.kind = data.kind;
  root.dataset.title = data.title;
}
