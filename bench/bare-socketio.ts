/**
 * The fan-out bench's reference: a bare socket.io server in a process of its
 * own (as the daemon is), broadcasting whatever payload its parent sends.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

const server = http.createServer();
const io = new Server(server);
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', (m: { event: string; payload: unknown }) => io.emit(m.event, m.payload));
process.on('disconnect', () => process.exit(0));
