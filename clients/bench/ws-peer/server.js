// The peer relais-bench --compare-raw measures Relais against: a plain
// WebSocket broadcast server on npm's ws package. Every text frame received
// is sent to every connected client, the sender included; nothing is stored.
//   node server.js [PORT]    prints "listening on ws://127.0.0.1:PORT" (0: any free port)
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 0);
const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });

server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    for (const client of server.clients) {
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    }
  });
});
server.on('listening', () => console.log(`listening on ws://127.0.0.1:${server.address().port}`));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
