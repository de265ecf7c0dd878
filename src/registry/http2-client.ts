import { Client, type Dispatcher } from 'undici';

/** Requests at once on one HTTP/2 connection (undici's and most servers' default stream limit). */
const HTTP2_STREAMS = 100;

type Connector = (options: object, callback: (error: Error | null, socket: unknown) => void) => unknown;

/**
 * A Pool's client for an origin that may speak HTTP/2. undici sends one request at a time on a
 * connection unless told to pipeline, and pipelining applies to HTTP/1.1 as well (where a slow
 * answer holds up those behind it, and without it undici keeps no connection alive). So each
 * connection is set once its protocol is known: many requests at once over HTTP/2, one over
 * HTTP/1.1.
 */
export function multiplexingClient(origin: URL | string, options: object): Dispatcher {
  const connect = (options as { connect: Connector }).connect;
  const client: Client = new Client(origin, {
    ...options,
    connect: (connectOptions: object, callback: (error: Error | null, socket: unknown) => void) =>
      connect(connectOptions, (error, socket) => {
        if (error === null) {
          const h2 = (socket as { alpnProtocol?: string | false }).alpnProtocol === 'h2';
          client.pipelining = h2 ? HTTP2_STREAMS : 1;
        }
        callback(error, socket);
      }),
  } as ConstructorParameters<typeof Client>[1]);
  return client;
}
