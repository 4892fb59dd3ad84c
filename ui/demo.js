// The demo page (served at /): the bell for the user of the token in the URL's fragment
// (#token=pgi_...&user=demo-user; a fragment never reaches a server or a log), and a form that
// sends that user a notification through the REST API, so the round trip shows at once.
import { InboxClient } from '/ui/pg-inbox.js';

const fragment = new URLSearchParams(location.hash.slice(1));
const token = fragment.get('token') ?? sessionStorage.getItem('pg-inbox-demo-token');
const inbox = document.getElementById('inbox');
const result = document.getElementById('result');

if (!token) {
  document.getElementById('no-token').hidden = false;
  document.getElementById('send-section').hidden = true;
} else {
  sessionStorage.setItem('pg-inbox-demo-token', token);
  inbox.token = token;
  if (fragment.get('user')) document.getElementById('user').value = fragment.get('user');
}

document.getElementById('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  location.hash = `token=${encodeURIComponent(document.getElementById('token-input').value.trim())}`;
  location.reload();
});

const client = new InboxClient({ token: () => token });
const field = (id) => document.getElementById(id).value;

async function send(count) {
  result.textContent = 'Sending…';
  const one = (i) => ({
    userId: field('user'),
    type: field('type'),
    title: count > 1 ? `${field('title')} #${i + 1}` : field('title'),
    body: field('body') || undefined,
  });
  try {
    // One request for many: the API takes an array.
    const body = count > 1 ? Array.from({ length: count }, (_, i) => one(i)) : one(0);
    const created = await client.send(body);
    const n = Array.isArray(created) ? created.length : 1;
    result.textContent = `Sent ${n} notification${n > 1 ? 's' : ''} to ${field('user')}.`;
  } catch (e) {
    result.textContent = `Not sent: ${e.message} (${e.code})`;
  }
}

document.getElementById('send-form').addEventListener('submit', (e) => {
  e.preventDefault();
  send(1);
});
document.getElementById('send-many').addEventListener('click', () => send(30));
