import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Several servers behind one address, as a Kubernetes Service puts a Deployment's replicas: a TCP
 * proxy on 127.0.0.1 that hands each new connection to the next backend in turn (TLS passes
 * through untouched). `connections[i]` counts what backend i was given.
 */
export class RoundRobinProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly connections: number[];
  readonly port: number;

  private constructor(server: Server, backends: number) {
    this.#server = server;
    this.connections = new Array<number>(backends).fill(0);
    this.port = (server.address() as AddressInfo).port;
  }

  static async start(backendPorts: readonly number[]): Promise<RoundRobinProxy> {
    let next = 0;
    const holder: { proxy?: RoundRobinProxy } = {};
    const server = createServer((client) => {
      const index = next;
      next = (next + 1) % backendPorts.length;
      const self = holder.proxy as RoundRobinProxy;
      self.connections[index] = (self.connections[index] ?? 0) + 1;
      const backend = connect({ host: '127.0.0.1', port: backendPorts[index] as number });
      for (const socket of [client, backend]) {
        self.#sockets.add(socket);
        socket.once('close', () => self.#sockets.delete(socket));
      }
      client.pipe(backend).on('error', () => client.destroy());
      backend.pipe(client).on('error', () => backend.destroy());
      client.on('error', () => backend.destroy());
      backend.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    holder.proxy = new RoundRobinProxy(server, backendPorts.length);
    return holder.proxy;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
