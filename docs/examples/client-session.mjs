// A client session as the desktop client opens one (docs/client-sessions.md):
//   node docs/examples/client-session.mjs URL USER TOKEN [--kind desktop|app|tapi|console] [--stay SECONDS]
// Prints every frame pbxd sends and how the socket closed. Run it from a
// checkout: it uses the checkout's `ws` package.
import WebSocket from 'ws';

const [url, user, token, ...rest] = process.argv.slice(2);
if (!url || !user || !token) {
  console.error('usage: client-session.mjs URL USER TOKEN [--kind KIND] [--stay SECONDS]');
  process.exit(64);
}
const opt = (name, fallback) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : fallback);
const kind = opt('--kind', 'desktop');
const stay = Number(opt('--stay', '0'));

const ws = new WebSocket(url);
ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', kind, user, token })));
ws.on('message', (data) => {
  const msg = JSON.parse(String(data));
  console.log(`← ${msg.type}${msg.type === 'welcome' ? ` session ${msg.session.id} (${msg.session.kind} of ${msg.session.userName})` : msg.type === 'error' ? ` ${msg.error.code}: ${msg.error.text.en}` : ''}`);
  if (msg.type === 'welcome') {
    ws.send(JSON.stringify({ type: 'ping' }));
    setTimeout(() => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'bye' })), stay * 1000);
  }
});
ws.on('close', (code, reason) => {
  console.log(`closed ${code}${reason.length ? ` ${reason}` : ''}`);
  process.exitCode = code === 1000 ? 0 : 1;
});
ws.on('error', (e) => {
  console.error(`error: ${e.message}`);
  process.exitCode = 1;
});
