// The Iris web UI: plain ES modules, no framework and no build step, so it ships embedded in iris.dll and works offline.
// Every API call goes through api() (api.js), which adds the API key and turns problem+json answers into readable errors.
import { KEY_STORAGE, ApiError, api, apiJson, hideAuthMessage, showError, clearError } from './api.js';
import { $, el, pairs, percent, bytes, drawBoxes } from './dom.js';
import { setupSearch, showSearch } from './search.js';

/** The image the user picked or dropped; every view but Search works on this one file. */
let chosen = null;
let chosenUrl = null;

// ---------------------------------------------------------------- API key

function setupKey() {
  const input = $('api-key');
  input.value = localStorage.getItem(KEY_STORAGE) ?? '';
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
    hideAuthMessage();
    refreshActiveView();
  });
  $('key-clear').addEventListener('click', () => {
    localStorage.removeItem(KEY_STORAGE);
    input.value = '';
  });
}

// ---------------------------------------------------------------- image picker (file input and drag-and-drop)

function setupPicker() {
  const zone = $('drop-zone');
  $('file').addEventListener('change', (event) => choose(event.target.files[0]));
  // dragover must be cancelled, or the browser opens the dropped file instead of handing it to us.
  zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    choose(event.dataTransfer.files[0]);
  });
}

function choose(file) {
  if (!file) return;
  chosen = file;
  if (chosenUrl) URL.revokeObjectURL(chosenUrl);
  chosenUrl = URL.createObjectURL(file);
  $('file-name').textContent = `${file.name} (${bytes(file.size)})`;
  // A new image invalidates the previous analysis: its boxes belong to another picture.
  $('stage').hidden = true;
  for (const id of ['objects', 'faces', 'classes', 'moderate', 'ocr', 'info', 'timings']) $(`${id}-section`).hidden = true;
  $('caption').hidden = true;
  $('caption-model').hidden = true;
}

function requireImage(errorElement) {
  if (chosen) return true;
  showError(errorElement, new Error('Choose an image first (drop it on the box above or click it).'));
  return false;
}

function imageForm(extra = {}) {
  const form = new FormData();
  form.append('image', chosen, chosen.name);
  for (const [name, value] of Object.entries(extra)) form.append(name, value);
  return form;
}

// ---------------------------------------------------------------- Analyze

function setupAnalyze() {
  $('analyze-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = $('analyze-error');
    clearError(error);
    if (!requireImage(error)) return;
    const tasks = [...document.querySelectorAll('input[name=task]:checked')].map((box) => box.value);
    if (tasks.length === 0) { showError(error, new Error('Pick at least one task.')); return; }
    const status = $('analyze-status');
    const button = $('analyze-run');
    button.disabled = true;
    status.textContent = `Running ${tasks.join(', ')}…`;
    try {
      const result = await apiJson(`/v1/analyze?tasks=${encodeURIComponent(tasks.join(','))}`, { method: 'POST', body: imageForm() });
      await renderAnalysis(result);
      status.textContent = `Done in ${result.timings_ms?.total ?? '?'} ms.`;
    } catch (e) {
      status.textContent = '';
      showError(error, e);
    } finally {
      button.disabled = false;
    }
  });
}

async function renderAnalysis(result) {
  const image = $('analyze-image');
  image.src = chosenUrl;
  await image.decode().catch(() => {}); // a format the browser cannot show (TIFF, say) still gets its results listed
  $('stage').hidden = false;

  const objects = result.detect?.objects ?? [];
  const faces = result.faces?.faces ?? [];
  drawBoxes($('overlay'), result.width, result.height, objects, faces);

  list('objects', result.detect && objects.map((o) => `${o.label} ${percent(o.confidence)}`));
  list('faces', result.faces && faces.map((f, i) => `face ${i + 1} ${percent(f.confidence)}`));
  list('classes', result.classify && (result.classify.predictions ?? result.classify.labels ?? [])
    .map((p) => `${p.label} ${percent(p.confidence ?? p.score)}`));
  list('ocr', result.ocr && result.ocr.lines.map((line) => `${line.text} (${percent(line.confidence)})`), 'ocr-lines');
  list('moderate', result.moderate && Object.entries(result.moderate.scores).map(([label, p]) => `${label} ${percent(p)}`));
  if (result.moderate) {
    $('moderate-verdict').textContent = result.moderate.safe ? 'Safe' : `Unsafe: ${result.moderate.flagged.join(', ')}`;
    $('moderate-verdict').className = result.moderate.safe ? 'verdict safe' : 'verdict unsafe';
  }

  const caption = $('caption');
  caption.hidden = !result.describe;
  caption.textContent = result.describe ? `“${result.describe.description}”` : '';
  $('caption-model').hidden = !result.describe;

  // Which model answered each section, and a warning when it is one of the small demonstration models.
  const catalog = await modelCatalog();
  for (const [task, note] of [['detect', 'objects-model'], ['faces', 'faces-model'], ['classify', 'classes-model'],
    ['moderate', 'moderate-model'], ['ocr', 'ocr-model'], ['describe', 'caption-model']]) {
    if (result[task]) credit($(note), result[task].model, catalog);
  }

  renderInfo(result);
  $('timings-section').hidden = false;
  pairs($('timings'), Object.entries(result.timings_ms ?? {}));
}

/** Model name → catalog entry (from /v1/models, fetched once); empty when the catalog cannot be read. */
let catalogPromise = null;
function modelCatalog() {
  catalogPromise ??= apiJson('/v1/models')
    .then((models) => new Map(models.map((m) => [m.name, m])))
    .catch(() => { catalogPromise = null; return new Map(); });
  return catalogPromise;
}

/**
 * A model trained for one narrow domain answers every image as if it were from that domain (the flower captioner
 * calls a photo of doctors a flower); its catalog entry says so ("synthetic" data), and the page says so too.
 */
function isDemonstrationModel(model) {
  return /synthetic/i.test(`${model?.description ?? ''} ${model?.license ?? ''}`);
}

function credit(element, name, catalog) {
  element.replaceChildren(document.createTextNode('by '), el('code', { textContent: name ?? 'unknown model' }));
  element.classList.toggle('domain-specific', isDemonstrationModel(catalog.get(name)));
  if (isDemonstrationModel(catalog.get(name))) {
    element.append(el('span', { className: 'warning', textContent: ' — domain-specific: trained on synthetic flowers, not a general-purpose model' }));
  }
}

/** Fills one result list; `items` undefined means the task did not run, so its section stays hidden. */
function list(section, items, listId = section) {
  $(`${section}-section`).hidden = !items;
  if (!items) return;
  $(listId).replaceChildren(...(items.length
    ? items.map((text) => el('li', { textContent: text }))
    : [el('li', { className: 'none', textContent: 'none found' })]));
}

function renderInfo(result) {
  const info = result.info;
  const entries = [['Size', `${result.width} × ${result.height}`], ['Format', result.format]];
  if (info) {
    entries.push(['Type', info.media_type], ['File', bytes(info.file_bytes)], ['Colour space', info.color_space],
      ['Channels', `${info.channels}${info.has_alpha ? ' (alpha)' : ''}`], ['Brightness', info.brightness?.toFixed?.(2) ?? info.brightness]);
  }
  $('info-section').hidden = false;
  pairs($('info'), entries);
  $('colors').replaceChildren(...(info?.dominant_colors ?? []).map((color) => {
    const swatch = el('span', { className: 'swatch', title: `${color.hex} (${percent(color.share)})` }, el('span', { textContent: color.hex }));
    // Set through the CSSOM, which the page's Content-Security-Policy allows (inline style attributes it would not).
    swatch.style.backgroundColor = color.hex;
    swatch.style.color = (color.r * 299 + color.g * 587 + color.b * 114) / 1000 > 140 ? '#000' : '#fff';
    return swatch;
  }));
}

// ---------------------------------------------------------------- Transform

function setupTransform() {
  let resultUrl = null;
  $('transform-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = $('transform-error');
    clearError(error);
    if (!requireImage(error)) return;
    const status = $('transform-status');
    status.textContent = 'Transforming…';
    try {
      const response = await api('/v1/transform', { method: 'POST', body: imageForm({ ops: $('ops').value.trim() }) });
      const blob = await response.blob();
      if (resultUrl) URL.revokeObjectURL(resultUrl);
      resultUrl = URL.createObjectURL(blob);
      const image = $('transform-image');
      image.src = resultUrl;
      await image.decode().catch(() => {}); // a format this browser cannot display still reports its size and type
      const size = image.naturalWidth ? `${image.naturalWidth} × ${image.naturalHeight}, ` : '';
      $('transform-meta').textContent = `${size}${blob.type || response.headers.get('content-type')}, ${bytes(blob.size)}`;
      $('transform-result').hidden = false;
      status.textContent = '';
    } catch (e) {
      status.textContent = '';
      $('transform-result').hidden = true;
      showError(error, e);
    }
  });
}

// ---------------------------------------------------------------- Jobs

let jobsTimer = null;

function setupJobs() {
  $('jobs-refresh').addEventListener('click', loadJobs);
  $('jobs-auto').addEventListener('change', scheduleJobs);
  $('job-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = $('jobs-error');
    clearError(error);
    if (!requireImage(error)) return;
    try {
      const submitted = await apiJson('/v1/jobs', { method: 'POST', body: imageForm({ tasks: $('job-tasks').value.trim() }) });
      $('jobs-message').textContent = `Submitted job ${submitted.id} (${submitted.status}).`;
      await loadJobs();
    } catch (e) {
      showError(error, e);
    }
  });
}

async function loadJobs() {
  const error = $('jobs-error');
  try {
    const page = await apiJson('/v1/jobs?limit=25');
    clearError(error);
    $('jobs').replaceChildren(...page.jobs.map(jobRow));
    if (page.jobs.length === 0) $('jobs').append(el('tr', {}, el('td', { colSpan: 6, textContent: 'No jobs yet.' })));
  } catch (e) {
    showError(error, e);
    // Polling cannot succeed without a key; saving one restarts it (refreshActiveView).
    if (e instanceof ApiError && e.status === 401) { clearInterval(jobsTimer); jobsTimer = null; }
  }
}

function jobRow(job) {
  const result = el('td');
  if (job.status === 'done') {
    result.append(el('button', { type: 'button', className: 'link', textContent: 'show', onclick: () => showJobResult(job.id) }));
  } else if (job.error) {
    result.textContent = job.error;
  }
  return el('tr', { className: `job-${job.status}` },
    el('td', {}, el('code', { textContent: job.id })),
    el('td', {}, el('span', { className: `status status-${job.status}`, textContent: job.status })),
    el('td', { textContent: job.tasks.join(', ') }),
    el('td', { textContent: job.input_name ?? '' }),
    el('td', { textContent: new Date(job.created_at).toLocaleString() }),
    result);
}

async function showJobResult(id) {
  const pre = $('job-result');
  try {
    pre.textContent = JSON.stringify(await apiJson(`/v1/jobs/${encodeURIComponent(id)}/result`), null, 2);
    pre.hidden = false;
  } catch (e) {
    showError($('jobs-error'), e);
  }
}

/** Polls only while the Jobs view is showing, so an idle tab in the background costs the server nothing. */
function scheduleJobs() {
  clearInterval(jobsTimer);
  jobsTimer = null;
  if (activeView === 'jobs' && $('jobs-auto').checked) jobsTimer = setInterval(loadJobs, 3000);
}

// ---------------------------------------------------------------- Models

function setupModels() {
  $('models-refresh').addEventListener('click', loadModels);
}

async function loadModels() {
  const error = $('models-error');
  try {
    const models = await apiJson('/v1/models');
    clearError(error);
    $('models').replaceChildren(...models.map((m) => el('tr', {},
      el('td', {}, el('code', { textContent: m.name })),
      el('td', { textContent: m.task }),
      el('td', { textContent: m.version }),
      // A model not yet pulled is "not installed" whatever its load state: that is what the operator needs to know.
      el('td', { title: m.error ?? '' }, el('span', { className: `status state-${m.installed ? m.state : 'absent'}`,
        textContent: m.installed ? m.state.replaceAll('_', ' ') : 'not installed' })),
      el('td', { className: 'wide-only', textContent: m.bytes ? bytes(m.bytes) : '' }),
      el('td', { className: 'wide-only', textContent: m.description ?? '' }))));
  } catch (e) {
    showError(error, e);
  }
}

// ---------------------------------------------------------------- tabs (WAI-ARIA tabs pattern: arrows move, one tab stop)

let activeView = 'analyze';
const views = ['analyze', 'search', 'transform', 'jobs', 'models'];

function setupTabs() {
  for (const view of views) $(`tab-${view}`).addEventListener('click', () => show(view));
  document.querySelector('[role=tablist]').addEventListener('keydown', (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = views[(views.indexOf(activeView) + step + views.length) % views.length];
    show(next);
    $(`tab-${next}`).focus();
  });
}

function show(view) {
  activeView = view;
  for (const v of views) {
    const selected = v === view;
    $(`tab-${v}`).setAttribute('aria-selected', String(selected));
    $(`tab-${v}`).tabIndex = selected ? 0 : -1;
    $(`panel-${v}`).hidden = !selected;
  }
  // Search has its own uploads (many files, into the library); the one-image picker belongs to the other views.
  $('picker').hidden = view === 'search';
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
  refreshActiveView();
}

function refreshActiveView() {
  if (activeView === 'jobs') loadJobs();
  if (activeView === 'models') loadModels();
  scheduleJobs();
  showSearch(activeView === 'search');
}

// ---------------------------------------------------------------- start

setupKey();
setupPicker();
setupAnalyze();
setupTransform();
setupJobs();
setupModels();
setupSearch();
setupTabs();
show(views.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'analyze');
