// The Search view (issue #10): the image library searched by text or by example, a grid of hits with their scores,
// one image with its caption, labels and boxes, "more like this", uploads by drag and drop, and the indexing progress.
// Thumbnails are fetched through api() and shown as blob: URLs, because an <img src> cannot send the API key.
import { api, apiJson, showError, clearError } from './api.js';
import { $, el, pairs, percent, bytes, drawBoxes } from './dom.js';

const THUMBNAIL_WIDTH = 256;
const DETAIL_WIDTH = 1024;
// While images wait to be indexed the counts move every second or two; once all are done, a slow check is enough.
const BUSY_POLL_MS = 1500;
const IDLE_POLL_MS = 10000;

let visible = false;
let progressTimer = null;
let gridUrls = [];        // the grid's blob: URLs, revoked when it is replaced
let detailUrl = null;     // the open image's blob: URL
let openId = null;        // the image shown in the dialog
let models = null;        // the catalog (/v1/models), to say what each model was trained on

// ---------------------------------------------------------------- setup

export function setupSearch() {
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    searchByText();
  });
  $('search-example').addEventListener('change', (event) => {
    const file = event.target.files[0];
    event.target.value = ''; // choosing the same file again searches again
    if (file) searchByExample(file);
  });

  const zone = $('upload-zone');
  $('upload-files').addEventListener('change', (event) => {
    const files = [...event.target.files];
    event.target.value = '';
    upload(files);
  });
  // dragover must be cancelled, or the browser opens the dropped file instead of handing it to us.
  zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    upload([...event.dataTransfer.files]);
  });

  $('library-collection').addEventListener('change', () => refreshProgress());
  $('image-close').addEventListener('click', () => $('image-dialog').close());
  $('image-dialog').addEventListener('close', () => {
    if (detailUrl) URL.revokeObjectURL(detailUrl);
    detailUrl = null;
    openId = null;
  });
  $('more-like-this').addEventListener('click', () => {
    const id = openId;
    $('image-dialog').close();
    moreLikeThis(id);
  });
  $('image-delete').addEventListener('click', deleteOpenImage);
}

/** Called on every view change: the progress polls only while Search is showing, so a background tab costs nothing. */
export function showSearch(show) {
  visible = show;
  clearTimeout(progressTimer);
  progressTimer = null;
  if (!show) return;
  refreshProgress();
  if (!models) loadModels();
}

const collection = () => $('library-collection').value.trim();

// ---------------------------------------------------------------- search

function searchByText() {
  const params = new URLSearchParams({ text: $('search-text').value.trim(), mode: $('search-mode').value });
  addCommonParameters(params);
  const text = $('search-text').value.trim();
  return runSearch(`“${text}” (${$('search-mode').value})`, () => apiJson(`/v1/search?${params}`));
}

function searchByExample(file) {
  const form = new FormData();
  form.append('image', file, file.name);
  const params = new URLSearchParams();
  addCommonParameters(params);
  return runSearch(`images like ${file.name}`, () => apiJson(`/v1/search?${params}`, { method: 'POST', body: form }));
}

function moreLikeThis(id) {
  const params = new URLSearchParams();
  addCommonParameters(params);
  return runSearch(`images like ${id}`, () => apiJson(`/v1/search?${params}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ image_id: id }),
  }));
}

/** k, min_score and the collection apply to every kind of search; empty fields are left to the server's defaults. */
function addCommonParameters(params) {
  const k = $('search-k').value.trim();
  const minScore = $('search-min-score').value.trim();
  if (k) params.set('k', k);
  if (minScore) params.set('min_score', minScore);
  if (collection()) params.set('collection', collection());
}

async function runSearch(what, request) {
  const error = $('search-error');
  const status = $('search-status');
  clearError(error);
  status.textContent = `Searching ${what}…`;
  $('search-run').disabled = true;
  try {
    const started = performance.now();
    const answer = await request();
    const hits = answer.hits ?? answer;
    renderHits(hits);
    const took = answer.took_ms ?? Math.round(performance.now() - started);
    status.textContent = `${hits.length} ${hits.length === 1 ? 'image' : 'images'} for ${what}, best first (${took} ms).`;
    $('hits').dataset.query = what;
  } catch (e) {
    status.textContent = '';
    showError(error, e);
  } finally {
    $('search-run').disabled = false;
  }
}

function renderHits(hits) {
  for (const url of gridUrls) URL.revokeObjectURL(url);
  gridUrls = [];
  $('hits').replaceChildren(...hits.map((hit, index) => {
    const alt = hit.caption ? hit.caption : `Library image ${hit.image_id}`;
    const image = el('img', { alt, width: THUMBNAIL_WIDTH, height: THUMBNAIL_WIDTH, loading: 'lazy' });
    loadThumbnail(image, hit.image_id);
    const matched = hit.matched ?? hit.matched_fields ?? [];
    const open = el('button', { type: 'button', className: 'hit-open', onclick: () => openImage(hit.image_id) },
      image,
      el('span', { className: 'hit-meta' },
        el('span', { className: 'rank', textContent: `#${index + 1}` }),
        el('span', { className: 'score', textContent: `score ${hit.score.toFixed(3)}` }),
        el('span', { className: 'matched', textContent: matched.join(' · ') })));
    const item = el('li', { className: 'hit' }, open);
    item.dataset.imageId = hit.image_id;
    item.dataset.score = String(hit.score);
    return item;
  }));
  if (hits.length === 0) $('hits').append(el('li', { className: 'none', textContent: 'No image matched. Try other words, another mode or a lower minimum score.' }));
}

async function loadThumbnail(image, id) {
  try {
    const blob = await (await api(`/images/${encodeURIComponent(id)}?w=${THUMBNAIL_WIDTH}`)).blob();
    const url = URL.createObjectURL(blob);
    gridUrls.push(url);
    image.src = url;
  } catch (e) {
    // The hit stays in the grid (its score and rank are still right); its picture says why it is missing.
    image.alt = `${image.alt} (thumbnail unavailable: ${e.message})`;
  }
}

// ---------------------------------------------------------------- one image

async function openImage(id) {
  const dialog = $('image-dialog');
  const error = $('image-error');
  clearError(error);
  openId = id;
  $('image-title').textContent = `Image ${id}`;
  $('image-caption').textContent = '';
  $('image-caption-model').textContent = '';
  $('image-boxes-model').textContent = '';
  $('image-labels').replaceChildren();
  $('image-facts').replaceChildren();
  $('image-full').removeAttribute('src');
  $('image-overlay').width = 0; // clears the previous image's boxes
  $('image-overlay').dataset.boxes = '0';
  if (!dialog.open) dialog.showModal();
  try {
    const image = await apiJson(`/v1/images/${encodeURIComponent(id)}`);
    if (openId !== id) return; // another image was opened meanwhile
    renderImage(image);
    const width = image.width && image.width > DETAIL_WIDTH ? `?w=${DETAIL_WIDTH}` : '';
    const blob = await (await api(`/images/${encodeURIComponent(id)}${width}`)).blob();
    if (openId !== id) return;
    if (detailUrl) URL.revokeObjectURL(detailUrl);
    detailUrl = URL.createObjectURL(blob);
    const full = $('image-full');
    full.src = detailUrl;
    await full.decode().catch(() => {});
    await drawDetections(id, blob);
  } catch (e) {
    showError(error, e);
  }
}

/**
 * The index keeps an image's labels, not where they are, so the boxes come from running detect on the open image now;
 * the note under them names the detector, like the caption's.
 */
async function drawDetections(id, blob) {
  const form = new FormData();
  form.append('image', blob, id);
  const result = await apiJson('/v1/analyze?tasks=detect', { method: 'POST', body: form });
  if (openId !== id) return;
  const objects = result.detect?.objects ?? [];
  drawBoxes($('image-overlay'), result.width, result.height, objects, []);
  $('image-boxes-model').textContent = objects.length
    ? `${modelNote('Boxes', result.detect.model)} (${objects.map((o) => `${o.label} ${percent(o.confidence)}`).join(', ')})`
    : `${modelNote('Detection', result.detect?.model)}: nothing found.`;
}

function renderImage(image) {
  const index = image.index ?? image;
  const caption = index.caption;
  const captionText = typeof caption === 'string' ? caption : caption?.text;
  $('image-full').alt = captionText ? `${captionText} (caption made by a model)` : `Library image ${image.id}`;
  $('image-caption').textContent = captionText ? `“${captionText}”` : 'No caption.';
  $('image-caption-model').textContent = captionText ? modelNote('Caption', caption?.model ?? index.caption_model) : '';

  const labels = index.labels ?? [];
  $('image-labels').replaceChildren(...(labels.length
    ? labels.map((label) => el('li', { textContent: label }))
    : [el('li', { className: 'none', textContent: 'none' })]));

  const facts = [['State', image.state + (image.error ? ` (${image.error})` : '')]];
  if (image.width) facts.push(['Size', `${image.width} × ${image.height}`]);
  if (image.bytes) facts.push(['File', bytes(image.bytes)]);
  if (image.collection) facts.push(['Collection', image.collection]);
  if (image.tags?.length) facts.push(['Tags', image.tags.join(', ')]);
  if (index.ocr_text) facts.push(['Text', index.ocr_text]);
  if (index.face_count !== undefined) facts.push(['Faces', index.face_count]);
  if (index.taken_at) facts.push(['Taken', new Date(index.taken_at).toLocaleString()]);
  if (index.embedding?.model) facts.push(['Embedding', `${index.embedding.model} (${index.embedding.dimensions}-d)`]);
  pairs($('image-facts'), facts);
}

/**
 * "Caption by flower-captioner-tiny: Tiny ViT-GPT2 captioner trained on synthetic flowers." The catalog's description
 * says what a model knows, so a caption or a ranking from a domain-specific model is never presented as general.
 */
function modelNote(what, name) {
  if (!name) return '';
  const description = models?.find((m) => m.name === name)?.description;
  return `${what} by ${name}${description ? `: ${description}` : ''}`;
}

async function deleteOpenImage() {
  const id = openId;
  if (!id || !confirm(`Delete image ${id} from the library? It is removed from the index and the store.`)) return;
  try {
    await api(`/v1/images/${encodeURIComponent(id)}`, { method: 'DELETE' });
    $('image-dialog').close();
    document.querySelector(`#hits li[data-image-id="${CSS.escape(id)}"]`)?.remove();
    $('search-status').textContent = `Deleted image ${id}.`;
    refreshProgress();
  } catch (e) {
    showError($('image-error'), e);
  }
}

async function loadModels() {
  try {
    models = await apiJson('/v1/models');
    const embedders = models.filter((m) => m.task === 'embed' && m.installed);
    $('search-models').textContent = embedders.map((m) => modelNote('Image similarity', m.name)).join(' ');
  } catch {
    models = null; // the catalog only adds context; a failure here (say, no key yet) is reported by the other calls
  }
}

// ---------------------------------------------------------------- upload

async function upload(files) {
  const status = $('upload-status');
  const error = $('upload-error');
  clearError(error);
  const images = files.filter((f) => f.type.startsWith('image/') || f.type === '');
  if (images.length === 0) {
    showError(error, new Error('None of the dropped files is an image.'));
    return;
  }
  const form = new FormData();
  for (const file of images) form.append('files', file, file.name);
  if (collection()) form.append('collection', collection());
  const tags = $('upload-tags').value.split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length) form.append('tags', tags.join(','));
  status.textContent = `Uploading ${images.length} ${images.length === 1 ? 'image' : 'images'} (${bytes(images.reduce((n, f) => n + f.size, 0))})…`;
  try {
    const answer = await apiJson('/v1/images', { method: 'POST', body: form });
    const added = answer.images ?? [];
    const skipped = files.length - images.length;
    status.textContent = `Added ${added.length} ${added.length === 1 ? 'image' : 'images'}; indexing in the background.`
      + (skipped ? ` ${skipped} ${skipped === 1 ? 'file is' : 'files are'} not an image and ${skipped === 1 ? 'was' : 'were'} skipped.` : '');
    refreshProgress();
  } catch (e) {
    status.textContent = '';
    showError(error, e);
  }
}

// ---------------------------------------------------------------- indexing progress

async function refreshProgress() {
  clearTimeout(progressTimer);
  progressTimer = null;
  const error = $('progress-error');
  let busy = false;
  try {
    const counts = await indexCounts();
    clearError(error);
    $('count-queued').textContent = counts.queued;
    $('count-indexed').textContent = counts.indexed;
    $('count-failed').textContent = counts.failed;
    const total = counts.queued + counts.indexed + counts.failed;
    const progress = $('index-progress');
    progress.max = Math.max(total, 1);
    progress.value = counts.indexed + counts.failed;
    busy = counts.queued > 0;
  } catch (e) {
    showError(error, e);
  }
  if (visible) progressTimer = setTimeout(refreshProgress, busy ? BUSY_POLL_MS : IDLE_POLL_MS);
}

async function indexCounts() {
  const params = new URLSearchParams({ limit: '1' });
  if (collection()) params.set('collection', collection());
  const page = await apiJson(`/v1/images?${params}`);
  const counts = page.counts ?? {};
  return { queued: counts.queued ?? 0, indexed: counts.indexed ?? 0, failed: counts.failed ?? 0 };
}
