import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverTls, type ServerTls } from '../../test/helpers/registry/tls.js';
import { describeApiError } from './client.js';
import { KubeApiError, KubeRequester } from './requests.js';

// The kept-alive path to the API server, against a local HTTPS server standing in for it.

describe('KubeRequester', () => {
  let tls: ServerTls;
  let server: Server;
  let url: string;
  let connections = 0;
  const seen: { method: string; path: string; authorization: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    tls = serverTls('kube-requests');
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, body });
        if (req.url === '/fail') {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"kind":"Status","message":"etcd is down"}');
        } else if (req.url === '/big') {
          res.end('x'.repeat(2048));
        } else if (req.url === '/split') {
          // "é" is two bytes: the first chunk ends inside it.
          const bytes = Buffer.from('{"name":"café"}', 'utf8');
          res.write(bytes.subarray(0, 13));
          setTimeout(() => res.end(bytes.subarray(13)), 20);
        } else res.end('{"ok":true}');
      });
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    tls.pki.cleanup();
  });

  function requester(options: { maxResponseBytes?: number } = {}): KubeRequester {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: url, caData: Buffer.from(tls.caPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'u', token: 'secret-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    expect(KubeRequester.supports(kc)).toBe(true);
    return new KubeRequester(kc, { connections: 1, ...options });
  }

  it('sends the credentials and keeps one connection for many requests', async () => {
    const r = requester();
    const before = connections;
    for (let i = 0; i < 5; i++) expect(await r.send('GET', `/ok${i}`)).toBe('{"ok":true}');
    await r.send('PATCH', '/status', { status: { a: 1 } }, 'application/merge-patch+json');
    expect(connections - before).toBe(1);
    expect(seen.at(-1)).toEqual({
      method: 'PATCH',
      path: '/status',
      authorization: 'Bearer secret-token',
      body: '{"status":{"a":1}}',
    });
    expect(await r.send('GET', '/ok', undefined, undefined, { discard: true })).toBe('');
    await r.close();
  });

  it('throws KubeApiError (code and body) for an error answer, described without the body', async () => {
    const r = requester();
    const error = await r.send('GET', '/fail').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).code).toBe(500);
    expect(describeApiError(error)).toBe('HTTP 500: etcd is down');
    await r.close();
  });

  it('caps the answer, and decodes a character split between chunks whole', async () => {
    const r = requester({ maxResponseBytes: 1024 });
    await expect(r.send('GET', '/big')).rejects.toMatchObject({ code: 'ERR_SIZE_LIMIT' });
    expect(JSON.parse(await r.send('GET', '/split'))).toEqual({ name: 'café' });
    await r.close();
  });
});
