// One layer's data for the coloured text, as bytes (ui/components/payload.layer_part): a uint32 header
// length, the JSON header, then the sections. Decoded once and handed to the text view through a
// registry on window (both views live in this document): key -> part; the view waits for its key.

const KEEP = 6;  // parts kept, so switching back to a recent layer or signal costs nothing

function registry() {
  return window.__lstmVizLayers || (window.__lstmVizLayers = { parts: new Map(), waiting: new Map() });
}

function bytesOf(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data && data.buffer instanceof ArrayBuffer) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

function parse(bytes) {
  const own = bytes.slice();  // its own buffer, so every section starts 4-aligned
  const n = new DataView(own.buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(own.subarray(4, 4 + n)));
  const base = 4 + n;
  const section = (name, Type) => {
    const [offset, size] = header.sections[name];
    return new Type(own.buffer, base + offset, size / Type.BYTES_PER_ELEMENT);
  };
  return {
    ...header,
    codes: section("codes", Uint8Array),  // (cells, length): one cell's values together
    lo: section("lo", Float32Array), step: section("step", Float32Array),
    topIds: section("top_ids", Uint16Array), topProbs: section("top_probs", Uint16Array),
  };
}

export default function (component) {
  const bytes = bytesOf(component.data);
  const root = component.parentElement.querySelector(".layer-data");
  if (!bytes || !root || root.__data === component.data) return;
  root.__data = component.data;
  const reg = registry();
  const n = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  const key = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))).key;
  if (!reg.parts.has(key)) {
    reg.parts.set(key, parse(bytes));
    while (reg.parts.size > KEEP) reg.parts.delete(reg.parts.keys().next().value);
  }
  root.dataset.key = key;
  const waiting = reg.waiting.get(key) || [];
  reg.waiting.delete(key);
  for (const callback of waiting) callback();
}
