// TCP front of the sandbox operator (node stdlib only): a byte-transparent relay from the public
// sandbox ports to Dovecot's internal listeners, announcing each client with a PROXY v1 header.
//
// Why: Dovecot 2.3 treats a connection whose remote IP equals its local IP (127.0.0.1 ->
// 127.0.0.1) as already secure, so `disable_plaintext_auth = yes` would not force STARTTLS for
// a client on the same machine. Behind this relay a loopback client is announced as coming from
// 127.1.<hi>.<lo>, made of its source port, so Dovecot requires TLS exactly as an MSSanté
// operator does. One address per connection also keeps Dovecot's per-IP auth penalty (up to 15 s
// after failed logins) from slowing down the next test. TLS itself (STARTTLS or implicit) passes
// through untouched, end to end between client and Dovecot.
//
//   127.0.0.1:10143 -> 11143  IMAP STARTTLS       127.0.0.2:10143 -> 11143 (Dovecot's `local 127.0.0.2`:
//   127.0.0.1:10993 -> 11993  IMAPS               127.0.0.2:10993 -> 11993  no CONDSTORE/QRESYNC)
//   127.0.0.1:10587 -> 11587  submission STARTTLS
import net from 'node:net';

const ROUTES = [
  ['127.0.0.1', 10143, 11143], ['127.0.0.1', 10993, 11993], ['127.0.0.1', 10587, 11587],
  ['127.0.0.2', 10143, 11143], ['127.0.0.2', 10993, 11993],
];

for (const [addr, port, backend] of ROUTES) {
  const server = net.createServer((client) => {
    client.pause();
    const up = net.connect(backend, '127.0.0.1');
    const src = client.remoteAddress.replace(/^::ffff:/, '');
    const dst = client.localAddress.replace(/^::ffff:/, '');
    const p = client.remotePort;
    const shown = src.startsWith('127.') ? `127.1.${p >> 8}.${p & 255}` : src;
    const close = () => { client.destroy(); up.destroy(); };
    up.on('connect', () => {
      up.write(`PROXY TCP4 ${shown} ${dst} ${client.remotePort} ${port}\r\n`);
      client.pipe(up);
      up.pipe(client);
      client.resume();
    });
    up.setNoDelay(true);
    client.setNoDelay(true);
    up.on('error', close);
    client.on('error', close);
    up.on('close', close);
    client.on('close', close);
  });
  server.on('error', (e) => { console.error(`front ${addr}:${port}: ${e.message}`); process.exit(1); });
  server.listen(port, addr, () => console.log(`front ${addr}:${port} -> 127.0.0.1:${backend}`));
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
