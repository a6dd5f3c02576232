// The login page: posts the credentials as JSON to /api/login, then opens the dashboard.

const form = document.getElementById('login-form');
const username = document.getElementById('username');
const password = document.getElementById('password');
const button = document.getElementById('login-button');
const errorBox = document.getElementById('login-error');
let countdown = null;

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = false;
}

function clearError() {
  errorBox.textContent = '';
  errorBox.hidden = true;
}

/** Where to go after logging in: the page that sent us here (a dashboard hash route), else Threat Hunting. */
function target() {
  const next = new URLSearchParams(location.search).get('next');
  return next && /^#\/[\w-]*/.test(next) ? '/' + next : '/#/hunting';
}

/** Retry-After is either seconds or an HTTP date. */
function retryAfterSeconds(header) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(1, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(1, Math.ceil((date - Date.now()) / 1000));
}

function waitOut(seconds) {
  clearInterval(countdown);
  let left = seconds;
  button.disabled = true;
  showError(`Too many attempts, wait ${left} s.`);
  countdown = setInterval(() => {
    left -= 1;
    if (left <= 0) {
      clearInterval(countdown);
      button.disabled = false;
      clearError();
      return;
    }
    showError(`Too many attempts, wait ${left} s.`);
  }, 1000);
}

async function problemDetail(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `The server answered ${response.status}.`;
  } catch {
    return `The server answered ${response.status}.`;
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearError();
  if (!username.value || !password.value) {
    showError('Enter the user name and the password.');
    return;
  }

  button.disabled = true;
  let response;
  try {
    response = await fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ username: username.value, password: password.value }),
      credentials: 'same-origin',
    });
  } catch {
    button.disabled = false;
    showError('The manager cannot be reached.');
    return;
  }

  if (response.ok) {
    try {
      const body = await response.json();
      sessionStorage.setItem('vigil.csrf', body.csrfToken || '');
    } catch {
      // The token is also in the vigil_csrf cookie and in /api/me.
    }
    location.assign(target());
    return;
  }

  if (response.status === 429) {
    const seconds = retryAfterSeconds(response.headers.get('Retry-After'));
    if (seconds) {
      waitOut(seconds);
    } else {
      button.disabled = false;
      showError('Too many attempts, wait a moment and try again.');
    }
    return;
  }

  button.disabled = false;
  password.value = '';
  password.focus();
  showError(response.status === 401 ? 'Wrong user name or password.' : await problemDetail(response));
});
