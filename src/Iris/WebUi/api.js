// API access for every view: the stored API key on each call, problem+json answers turned into readable errors.

export const KEY_STORAGE = 'iris.apiKey';
const $ = (id) => document.getElementById(id);

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
  }
}

/**
 * fetch() with the stored API key. A 401 shows the banner asking for a key (the server's own reason beside it);
 * any other error answer becomes an ApiError carrying the problem's `detail`, which callers show, never swallow.
 */
export async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  const key = localStorage.getItem(KEY_STORAGE);
  if (key) headers.set('X-Api-Key', key);
  const response = await fetch(path, { ...init, headers });
  if (response.ok) {
    if (response.status !== 304) hideAuthMessage();
    return response;
  }
  const problem = await readProblem(response);
  if (response.status === 401) {
    showAuthMessage(key
      ? `The server refused the API key (${problem.detail || problem.title}). Enter an API key that this server accepts.`
      : 'This server needs an API key: enter an API key above and save it.');
  }
  throw new ApiError(response.status, problem.title, problem.detail);
}

async function readProblem(response) {
  const text = await response.text();
  try {
    const json = JSON.parse(text);
    return { title: json.title ?? response.statusText, detail: json.detail ?? '' };
  } catch {
    // Not problem+json (a proxy's HTML page, say): show the status and the start of the body.
    return { title: `${response.status} ${response.statusText}`, detail: text.slice(0, 200) };
  }
}

export async function apiJson(path, init) {
  return (await api(path, init)).json();
}

function showAuthMessage(text) {
  const banner = $('auth-message');
  // Focus the key field only when the banner appears, so a repeated 401 does not keep pulling focus away.
  if (banner.hidden) $('api-key').focus();
  banner.textContent = text;
  banner.hidden = false;
}

export function hideAuthMessage() {
  $('auth-message').hidden = true;
}

/** Shows an error in a view's alert region; a 401 already has the banner, so the view only points at it. */
export function showError(element, error) {
  element.textContent = error instanceof ApiError && error.status === 401
    ? 'Not authorized: enter an API key above.'
    : (error instanceof ApiError && error.title ? `${error.title}: ${error.message}` : String(error.message ?? error));
  element.hidden = false;
}

export function clearError(element) {
  element.hidden = true;
  element.textContent = '';
}
