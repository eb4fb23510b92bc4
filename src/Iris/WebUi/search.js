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
let progressRun = 0;      // numbers the refreshes, so only the latest one writes the counts and schedules the next
let gridUrls = [];        // the grid's blob: URLs, revoked when it is replaced
let detailUrl = null;     // the open image's blob: URL
let openId = null;        // the image shown in the dialog
let openName = null;      // its file name, when it came with one
let catalogRequest = null; // GET /v1/models, once: what each model was trained on
let person = null;        // the person every search is limited to: { id, label }, or null
let peopleUrls = [];      // the people row's blob: URLs, revoked when it is replaced
let peopleRun = 0;        // numbers the people refreshes, so only the latest one writes the row
let indexedSeen = -1;     // the indexed count the people row was last loaded at

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
    const name = openName;
    $('image-dialog').close();
    moreLikeThis(id, name);
  });
  $('image-delete').addEventListener('click', deleteOpenImage);
  $('search-more').addEventListener('click', () => current && searchPage(current, true));
  $('people-recluster').addEventListener('click', recluster);
  $('person-clear').addEventListener('click', () => choosePerson(null));
  $('person-rename').addEventListener('click', renamePerson);
}

/** Called on every view change: the progress polls only while Search is showing, so a background tab costs nothing. */
export function showSearch(show) {
  visible = show;
  clearTimeout(progressTimer);
  progressTimer = null;
  if (!show) return;
  refreshProgress();
  loadPeople();
}

const collection = () => $('library-collection').value.trim();

// ---------------------------------------------------------------- search

/** The search on screen: how to ask for a page of it (a cursor or none) and what to call it. */
let current = null;

function searchByText() {
  const text = $('search-text').value.trim();
  const mode = $('search-mode').value;
  // An empty query goes to the server too: its problem detail says what a query needs better than a guess here.
  return startSearch(`“${text}” (${mode})`, (params) => {
    params.set('text', text);
    params.set('mode', mode);
    return apiJson(`/v1/search?${params}`);
  });
}

function searchByExample(file) {
  return startSearch(`images like ${file.name}`, (params) => {
    const form = new FormData();
    form.append('image', file, file.name);
    return apiJson(`/v1/search?${params}`, { method: 'POST', body: form });
  });
}

/** The server leaves the image itself out of its "more like this" answer; the status line names it instead. */
function moreLikeThis(id, name) {
  return startSearch(`images like ${name ?? id}`, (params) => apiJson(`/v1/search?${params}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ image_id: id }),
  }));
}

/** k, min_score, sort and the collection apply to every kind of search; empty fields are left to the server's defaults. */
function commonParameters(cursor) {
  const params = new URLSearchParams();
  const k = $('search-k').value.trim();
  const minScore = $('search-min-score').value.trim();
  if (k) params.set('k', k);
  if (minScore) params.set('min_score', minScore);
  if ($('search-sort').value !== 'relevance') params.set('sort', $('search-sort').value);
  if (collection()) params.set('collection', collection());
  if (person) params.set('person', person.id);
  if (cursor) params.set('cursor', cursor);
  return params;
}

function startSearch(what, request) {
  current = { what, request, cursor: null, shown: 0 };
  return searchPage(current, false);
}

async function searchPage(search, more) {
  const error = $('search-error');
  const status = $('search-status');
  clearError(error);
  status.textContent = `Searching ${search.what}…`;
  $('search-run').disabled = true;
  $('search-more').hidden = true;
  try {
    const started = performance.now();
    const answer = await search.request(commonParameters(more ? search.cursor : null));
    if (current !== search) return; // a newer search started meanwhile
    renderHits(answer.hits, more ? search.shown : 0);
    search.shown += answer.hits.length;
    search.cursor = answer.next_cursor;
    const took = Math.round(performance.now() - started);
    const order = $('search-sort').value === 'date' ? 'newest first' : 'best first';
    status.textContent = `${search.shown} ${search.shown === 1 ? 'image' : 'images'} for ${search.what}, ${order} (${took} ms).`;
    $('search-models').textContent = await rankingNote(answer);
    $('search-more').hidden = !answer.next_cursor;
  } catch (e) {
    status.textContent = '';
    showError(error, e);
  } finally {
    $('search-run').disabled = false;
  }
}

/** Which model ranked the hits, with what the catalog says it knows: a flower-only CLIP must not pass for a general one. */
async function rankingNote(answer) {
  if (answer.listing) return 'Newest first.';
  const words = 'words in captions, OCR text, labels and tags';
  if (!answer.space || answer.mode === 'text') return `Ranked by ${words}.`;
  const space = `${answer.space.model} ${answer.space.version}, ${answer.space.dimensions}-d`;
  const description = await describe(answer.space.model);
  return `Image similarity by ${space}${description ? `: ${description}` : ''}${answer.mode === 'hybrid' ? `; fused with ${words}` : ''}.`;
}

/** Replaces the grid (first page) or appends to it (the next pages); `offset` numbers the appended hits. */
function renderHits(hits, offset) {
  if (offset === 0) {
    for (const url of gridUrls) URL.revokeObjectURL(url);
    gridUrls = [];
    $('hits').replaceChildren();
  }
  $('hits').append(...hits.map((hit, index) => {
    const alt = hit.caption ? `${hit.caption} (caption made by a model)` : `Library image ${hit.image_id}`;
    const image = el('img', { alt, width: THUMBNAIL_WIDTH, height: THUMBNAIL_WIDTH });
    loadThumbnail(image, hit.image_id);
    const score = hit.score == null ? '' : `score ${hit.score.toFixed(3)}`;
    const open = el('button', { type: 'button', className: 'hit-open', onclick: () => openImage(hit.image_id) },
      image,
      el('span', { className: 'hit-meta' },
        el('span', { className: 'rank', textContent: `#${offset + index + 1}` }),
        el('span', { className: 'score', textContent: score }),
        el('span', { className: 'matched', textContent: hit.matched.join(' · '), title: 'the fields that matched' })));
    const item = el('li', { className: 'hit' }, open);
    item.dataset.imageId = hit.image_id;
    if (hit.score != null) item.dataset.score = String(hit.score);
    return item;
  }));
  if (offset === 0 && hits.length === 0) {
    $('hits').append(el('li', { className: 'none', textContent: 'No image matched. Try other words, another mode or a lower minimum score.' }));
  }
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
  openName = null;
  $('image-title').textContent = `Image ${id}`;
  for (const note of ['image-caption', 'image-caption-model', 'image-boxes-model']) $(note).textContent = '';
  $('image-labels').replaceChildren();
  $('image-facts').replaceChildren();
  $('image-full').removeAttribute('src');
  $('image-full').alt = '';
  $('image-overlay').width = 0; // clears the previous image's boxes
  $('image-overlay').dataset.boxes = '0';
  if (!dialog.open) dialog.showModal();
  try {
    const image = await apiJson(`/v1/images/${encodeURIComponent(id)}`);
    if (openId !== id) return; // another image was opened meanwhile
    renderImage(image);
    noteCaptionModel(image);
    const width = image.index?.width > DETAIL_WIDTH ? `?w=${DETAIL_WIDTH}` : '';
    const blob = await (await api(`/images/${encodeURIComponent(id)}${width}`)).blob();
    if (openId !== id) return;
    if (detailUrl) URL.revokeObjectURL(detailUrl);
    detailUrl = URL.createObjectURL(blob);
    const full = $('image-full');
    full.src = detailUrl;
    await full.decode().catch(() => {});
    // An image indexing refused (say, it does not decode) would fail detect the same way: its reason is already shown.
    if (image.state !== 'failed') await drawDetections(id, blob);
  } catch (e) {
    if (openId === id) showError(error, e);
  }
}

function renderImage(image) {
  const index = image.index;
  openName = image.file_name;
  $('image-title').textContent = image.file_name ? `${image.file_name} (${image.image_id})` : `Image ${image.image_id}`;
  const caption = index?.caption;
  $('image-full').alt = caption ? `${caption} (caption made by a model)` : `Library image ${image.file_name ?? image.image_id}`;
  $('image-caption').textContent = caption ? `“${caption}”` : (index ? 'No caption in the index.' : 'Not indexed yet.');

  const labels = index?.labels ?? [];
  $('image-labels').replaceChildren(...(labels.length
    ? labels.map((label) => el('li', { textContent: label }))
    : [el('li', { className: 'none', textContent: 'none' })]));

  const facts = [['State', image.state + (image.error ? ` (${image.error})` : '')], ['Collection', image.collection]];
  if (image.tags.length) facts.push(['Tags', image.tags.join(', ')]);
  if (index) facts.push(['Size', `${index.width} × ${index.height}${index.format ? `, ${index.format}` : ''}`]);
  facts.push(['File', `${bytes(image.bytes)}, ${image.media_type}`], ['Added', new Date(image.added_at).toLocaleString()]);
  if (index?.captured_at) facts.push(['Taken', new Date(index.captured_at).toLocaleString()]);
  if (index?.ocr_text) facts.push(['Text', index.ocr_text]);
  if (index?.face_count != null) facts.push(['Faces', index.face_count]);
  if (index?.space) facts.push(['Embedding', index.has_vector ? index.space : `${index.space} (no vector)`]);
  pairs($('image-facts'), facts);
}

/**
 * The index records which model wrote each field (index.models), so the caption is credited to its describe model,
 * with what the catalog says it was trained on, whether the image came through the API or `iris library add`.
 */
async function noteCaptionModel(image) {
  const model = image.index?.caption ? image.index.models?.caption : null;
  if (!model) return; // indexed before Iris recorded the models: the caption stands uncredited
  const note = await modelNote('Caption', model.name, model.version);
  if (openId === image.image_id) $('image-caption-model').textContent = `${note}.`;
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
  const objects = result.detect.objects;
  drawBoxes($('image-overlay'), result.width, result.height, objects, []);
  const note = await modelNote('Boxes', result.detect.model);
  $('image-boxes-model').textContent = objects.length
    ? `${note} (${objects.map((o) => `${o.label} ${percent(o.confidence)}`).join(', ')}).`
    : `${note}: nothing found.`;
}

/** The model catalog (GET /v1/models), fetched once; it only adds context, so a failure gives an empty list. */
function catalog() {
  catalogRequest ??= apiJson('/v1/models').catch(() => {
    catalogRequest = null; // asked again next time (say, once a key is saved)
    return [];
  });
  return catalogRequest;
}

/**
 * "Caption by flower-captioner-tiny 1.0: Tiny ViT-GPT2 captioner trained on synthetic flowers." The catalog's
 * description says what a model knows, so a caption or a ranking from a domain-specific model never passes for general.
 */
async function modelNote(what, name, version) {
  const description = await describe(name);
  return `${what} by ${name}${version ? ` ${version}` : ''}${description ? `: ${description}` : ''}`;
}

/** The catalog's one-line description of a model, without its full stop (the notes continue after it). */
async function describe(name) {
  return (await catalog()).find((m) => m.name === name)?.description?.replace(/\.$/, '');
}

async function deleteOpenImage() {
  const id = openId;
  if (!id || !confirm(`Delete image ${openName ?? id} from the library? It is removed from the index and the store.`)) return;
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

// ---------------------------------------------------------------- upload

async function upload(files) {
  const status = $('upload-status');
  const error = $('upload-error');
  clearError(error);
  // The server sniffs the format from the bytes; the browser's type only keeps obvious non-images (a .txt) out.
  const images = files.filter((f) => f.type.startsWith('image/') || f.type === '');
  const skipped = files.length - images.length;
  const skippedNote = skipped ? ` ${skipped} ${skipped === 1 ? 'file is' : 'files are'} not an image and ${skipped === 1 ? 'was' : 'were'} left out.` : '';
  if (images.length === 0) {
    status.textContent = '';
    showError(error, new Error(`Nothing to add:${skippedNote}`));
    return;
  }
  const form = new FormData();
  for (const file of images) form.append('files', file, file.name);
  if (collection()) form.append('collection', collection());
  const tags = $('upload-tags').value.trim();
  if (tags) form.append('tags', tags);
  status.textContent = `Uploading ${count(images.length, 'image')} (${bytes(images.reduce((n, f) => n + f.size, 0))})…`;
  try {
    const answer = await apiJson('/v1/images', { method: 'POST', body: form });
    const created = answer.images.filter((i) => i.created).length;
    const known = answer.images.length - created;
    status.textContent = `Added ${count(created, 'image')}, indexing in the background.`
      + (known ? ` ${count(known, 'image')} ${known === 1 ? 'was' : 'were'} already in the library (same bytes, same id).` : '')
      + skippedNote;
    refreshProgress();
  } catch (e) {
    status.textContent = '';
    showError(error, e);
  }
}

const count = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;

// ---------------------------------------------------------------- indexing progress

/** The newest failed images listed under the counts (the count itself comes from the status). */
const FAILED_SHOWN = 20;

async function refreshProgress() {
  clearTimeout(progressTimer);
  progressTimer = null;
  const run = ++progressRun;
  const error = $('progress-error');
  let busy = false;
  try {
    // One grouped count on the server (GET /v1/library/status): zeros for a collection that holds no image yet.
    const params = new URLSearchParams();
    if (collection()) params.set('collection', collection());
    const status = await apiJson(`/v1/library/status?${params}`);
    // Only a collection with failed images is listed, so the listing never meets an empty (404) collection.
    const failed = status.failed > 0 ? await failedImages() : [];
    // A newer refresh (another collection typed, an upload) started meanwhile: it has the last word and the next poll.
    if (run !== progressRun) return;
    clearError(error);
    $('count-queued').textContent = String(status.queued);
    $('count-indexed').textContent = String(status.indexed);
    $('count-failed').textContent = String(status.failed);
    // Newly indexed photos may have brought new faces (indexing clusters them): the people row follows.
    if (status.indexed !== indexedSeen) {
      indexedSeen = status.indexed;
      loadPeople();
    }
    renderFailed(failed);
    const progress = $('index-progress');
    progress.max = Math.max(status.total, 1);
    progress.value = status.indexed + status.failed;
    busy = status.queued > 0 || status.reindex != null;
  } catch (e) {
    if (run !== progressRun) return;
    showError(error, e);
  }
  if (visible) progressTimer = setTimeout(refreshProgress, busy ? BUSY_POLL_MS : IDLE_POLL_MS);
}

async function failedImages() {
  const params = new URLSearchParams({ state: 'failed', limit: String(FAILED_SHOWN) });
  if (collection()) params.set('collection', collection());
  return (await apiJson(`/v1/images?${params}`)).images;
}

/** The images indexing refused, each with the reason, newest first; one opens like a hit. */
function renderFailed(images) {
  $('failed-section').hidden = images.length === 0;
  $('failed').replaceChildren(...images.map((image) => el('li', {},
    el('button', { type: 'button', className: 'link', textContent: image.file_name ?? image.image_id, onclick: () => openImage(image.image_id) }),
    `: ${image.error ?? 'no reason recorded'}`)));
}

// ---------------------------------------------------------------- people

/** The people row (GET /v1/people): each person's cover face cropped by the server, their name and photo count. */
async function loadPeople() {
  const run = ++peopleRun;
  const error = $('people-error');
  try {
    const { people } = await apiJson('/v1/people');
    if (run !== peopleRun) return;
    clearError(error);
    for (const url of peopleUrls) URL.revokeObjectURL(url);
    peopleUrls = [];
    $('people').replaceChildren(...(people.length
      ? people.map(personItem)
      : [el('li', { className: 'none', textContent: 'No people yet: they appear once photos with faces are indexed.' })]));
    if (person && !people.some((p) => p.person_id === person.id)) choosePerson(null);
  } catch (e) {
    if (run === peopleRun) showError(error, e);
  }
}

function personLabel(p) {
  return p.name ?? 'Unnamed';
}

function personItem(p) {
  const label = personLabel(p);
  const image = el('img', { alt: `${label}'s face`, width: 72, height: 72 });
  if (p.thumbnail) loadFace(image, p.thumbnail);
  const button = el('button', {
    type: 'button', className: 'person-open', onclick: () => choosePerson(person?.id === p.person_id ? null : p),
  },
  image,
  el('span', { className: 'person-name', textContent: label }),
  el('span', { className: 'person-count', textContent: count(p.image_count, 'photo') }));
  button.setAttribute('aria-pressed', String(person?.id === p.person_id));
  const item = el('li', { className: 'person' }, button);
  item.dataset.personId = p.person_id;
  return item;
}

async function loadFace(image, path) {
  try {
    const url = URL.createObjectURL(await (await api(`${path}?size=144`)).blob());
    peopleUrls.push(url);
    image.src = url;
  } catch (e) {
    image.alt = `${image.alt} (unavailable: ${e.message})`;
  }
}

/**
 * Limits every search to one person's photos (null: everyone). With a query in the box the search runs again there;
 * without one the grid lists the person's photos, newest first.
 */
function choosePerson(p) {
  person = p ? { id: p.person_id, label: personLabel(p), name: p.name } : null;
  for (const button of document.querySelectorAll('#people .person-open')) {
    button.setAttribute('aria-pressed', String(button.parentElement.dataset.personId === person?.id));
  }
  $('person-filter').hidden = !person;
  if (!person) {
    if ($('search-text').value.trim()) searchByText();
    return;
  }
  $('person-filter-text').textContent = `Only photos of ${person.label}.`;
  $('person-name').value = person.name ?? '';
  if ($('search-text').value.trim()) {
    searchByText();
    return;
  }
  const chosen = person;
  startSearch(`photos of ${chosen.label}`, async (params) => {
    const listing = new URLSearchParams({ person: chosen.id, limit: params.get('k') ?? '24' });
    if (params.get('cursor')) listing.set('cursor', params.get('cursor'));
    const { images, next_cursor } = await apiJson(`/v1/images?${listing}`);
    return { hits: images.map((i) => ({ image_id: i.image_id, score: null, matched: [], caption: i.index?.caption })), next_cursor, listing: true };
  });
}

async function renamePerson() {
  if (!person) return;
  const error = $('people-error');
  clearError(error);
  try {
    const renamed = await apiJson(`/v1/people/${encodeURIComponent(person.id)}`, {
      method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: $('person-name').value.trim() || null }),
    });
    person = { id: renamed.person_id, label: personLabel(renamed), name: renamed.name };
    $('person-filter-text').textContent = `Only photos of ${person.label}.`;
    await loadPeople();
  } catch (e) {
    showError(error, e);
  }
}

async function recluster() {
  const error = $('people-error');
  clearError(error);
  $('people-recluster').disabled = true;
  try {
    const result = await apiJson('/v1/library/people/recluster', { method: 'POST' });
    $('people-note').textContent = `${result.people} ${result.people === 1 ? 'person' : 'people'} found; ${count(result.unassigned, 'face')} not yet grouped (a person needs a few photos).`;
    await loadPeople();
  } catch (e) {
    showError(error, e);
  } finally {
    $('people-recluster').disabled = false;
  }
}
