/**
 * A local Socket Mode endpoint: the WebSocket URL `apps.connections.open` hands out. It greets the
 * client with `hello` like Slack, lets a test push envelopes (`slash_commands`, `interactive`,
 * `events_api`) and resolves with the client's acknowledgement (`{ envelope_id, payload }`).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';

export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

export class FakeSlackSocket {
  private server: WebSocket.Server | null = null;
  private socket: WebSocket | null = null;
  private readonly waiting = new Map<string, (ack: SocketAck) => void>();
  readonly acks: SocketAck[] = [];
  url = '';
  connections = 0;

  async start(): Promise<this> {
    this.server = new WebSocket.Server({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => this.server!.once('listening', () => resolve()));
    this.url = `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/link`;
    this.server.on('connection', (socket: WebSocket) => {
      this.connections += 1;
      this.socket = socket;
      socket.on('message', (data: WebSocket.Data) => {
        const ack = JSON.parse(String(data)) as SocketAck;
        this.acks.push(ack);
        this.waiting.get(ack.envelope_id)?.(ack);
        this.waiting.delete(ack.envelope_id);
      });
      socket.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake', approximate_connection_time: 3600 }, connection_info: { app_id: 'A0001' } }));
    });
    return this;
  }

  /** Wait until a client is connected. */
  async connected(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.socket || this.socket.readyState !== this.socket.OPEN) {
      if (Date.now() > deadline) throw new Error('no Socket Mode client connected');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Push one envelope and resolve with its ack. */
  push(type: 'slash_commands' | 'interactive' | 'events_api', payload: Record<string, unknown>, extra: Record<string, unknown> = {}, envelopeId = randomUUID()): Promise<SocketAck> {
    if (!this.socket) throw new Error('no Socket Mode client connected');
    const acked = new Promise<SocketAck>((resolve) => this.waiting.set(envelopeId, resolve));
    this.socket.send(JSON.stringify({ envelope_id: envelopeId, payload, type, accepts_response_payload: type !== 'events_api', ...extra }));
    return acked;
  }

  async close(): Promise<void> {
    for (const client of this.server?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}
