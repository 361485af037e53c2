// A service nobody here wrote the stack of: Node's http module, with a
// fast handler (/fast) and a CPU-bound one (/slow?n=N, N iterations on the
// event loop). Usage: node node_server.js [PORT]; it prints
// "listening on http://127.0.0.1:PORT" and ends when its stdin closes.
const http = require('http');

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  let body;
  if (url.pathname === '/fast') {
    body = 'ok';
  } else if (url.pathname === '/slow') {
    const n = Number(url.searchParams.get('n') || 1000000);
    let x = 0;
    for (let i = 0; i < n; i++) x += i % 7;
    body = String(x);
  } else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) }).end(body);
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
