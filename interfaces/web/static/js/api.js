// Calls to the care-journey HTTP API with the user's API key, and the key form.
//
// The key is kept in sessionStorage (this tab only, gone when it closes; never in the
// address or a cookie) and sent as the X-API-Key header. With JOURNEY_AUTH=false no key
// is needed: the calls go through without one.

const STORAGE = "journey.apiKey";

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function apiKey() {
  return sessionStorage.getItem(STORAGE) || "";
}

export async function getJson(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(url, { headers, cache: "no-store", credentials: "omit" });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function describe(error) {
  if (!(error instanceof ApiError)) return `Could not reach the API: ${error.message}`;
  if (error.status === 401) return "This server needs an API key: enter yours in the key form above.";
  if (error.status === 403) return `Your key's role may not read this (${error.message}).`;
  if (error.status === 404) return `Not found: ${error.message}`;
  if (error.status === 422) return `Invalid filter: ${error.message}`;
  return `The API answered ${error.status}: ${error.message}`;
}

export function showError(error) {
  const box = document.getElementById("alert");
  box.textContent = describe(error);
  box.hidden = false;
  if (error instanceof ApiError && error.status === 401) document.getElementById("api-key").focus();
}

export function clearError() {
  const box = document.getElementById("alert");
  box.hidden = true;
  box.textContent = "";
}

function showKeyStatus() {
  const status = document.getElementById("key-status");
  status.textContent = apiKey() ? "Key set for this tab" : "No key set";
}

// Wires the key form; `reload` runs after the key changes.
export function setupKeyForm(reload) {
  const form = document.getElementById("key-form");
  const input = document.getElementById("api-key");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) sessionStorage.setItem(STORAGE, input.value.trim());
    input.value = "";
    showKeyStatus();
    reload();
  });
  document.getElementById("key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(STORAGE);
    showKeyStatus();
    reload();
  });
  showKeyStatus();
}

// The "open a patient" form in the header.
export function setupPatientForm() {
  const form = document.getElementById("patient-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = document.getElementById("patient-id").value.trim();
    if (/^[A-Za-z0-9._-]{1,64}$/.test(id)) window.location.assign(`/patients/${id}`);
  });
}

// Query-string state of a page, so a filtered view can be bookmarked or shared.
export function readQuery() {
  return Object.fromEntries(new URLSearchParams(window.location.search));
}

export function writeQuery(state) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(state)) if (value) params.set(name, value);
  const query = params.toString();
  window.history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
}
