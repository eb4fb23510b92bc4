// Small DOM builders shared by the views. No innerHTML anywhere: captions, OCR text, labels and file names are data.

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

export function pairs(dl, entries) {
  dl.replaceChildren(...entries.flatMap(([name, value]) => [el('dt', { textContent: name }), el('dd', { textContent: String(value) })]));
}

export const percent = (confidence) => `${(confidence * 100).toFixed(1)}%`;

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Draws boxes on a canvas laid over an image. The canvas gets the image's own pixel size (the server's boxes are in
 * those pixels, EXIF-upright like the browser shows it) and CSS stretches it with the image, so a thumbnail of the
 * same aspect ratio needs no coordinate scaling either.
 */
export function drawBoxes(canvas, width, height, objects, faces) {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, width, height);
  const line = Math.max(2, Math.round(Math.max(width, height) / 300));
  const font = Math.max(12, Math.round(Math.max(width, height) / 45));
  context.lineWidth = line;
  context.font = `${font}px system-ui, sans-serif`;
  context.textBaseline = 'top';
  const box = (b, color, label) => {
    context.strokeStyle = color;
    context.strokeRect(b.x_min, b.y_min, b.x_max - b.x_min, b.y_max - b.y_min);
    const textWidth = context.measureText(label).width + line * 2;
    const y = b.y_min >= font + line * 2 ? b.y_min - font - line * 2 : b.y_min; // above the box unless it touches the top
    context.fillStyle = color;
    context.fillRect(b.x_min, y, textWidth, font + line * 2);
    context.fillStyle = '#fff';
    context.fillText(label, b.x_min + line, y + line);
  };
  for (const o of objects) box(o.box, '#d9480f', `${o.label} ${percent(o.confidence)}`);
  for (const f of faces) box(f.box, '#1971c2', `face ${percent(f.confidence)}`);
  // For scripts and tests: how many boxes the overlay shows.
  canvas.dataset.boxes = String(objects.length + faces.length);
}
