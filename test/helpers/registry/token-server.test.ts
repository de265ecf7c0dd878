import { X509Certificate, verify } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { freePort } from './free-port.js';
import { TokenServer } from './token-server.js';

describe('TokenServer', () => {
  let ts: TokenServer;
  beforeAll(async () => {
    ts = await TokenServer.start({
      users: { alice: 'wonderland' },
      service: 'svc',
      issuer: 'iss',
      permissions: (user, repo) => (user === 'alice' ? ['pull', 'push'] : repo === 'public' ? ['pull'] : []),
    });
  });
  afterAll(async () => {
    await ts?.stop();
  });

  const auth = { Authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` };

  it('issues an ES256 JWT with x5c that verifies against the rootcertbundle certificate', async () => {
    const res = await fetch(
      `${ts.realm}?service=svc&scope=repository:a/b:pull,push,delete&scope=repository:public:pull`,
      { headers: auth },
    );
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const [h, p, s] = token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; typ: string; x5c: string[] };
    expect(header.alg).toBe('ES256');
    const cert = new X509Certificate(Buffer.from(header.x5c[0]!, 'base64'));
    expect(cert.toString()).toBe(new X509Certificate(ts.certPem).toString());
    expect(
      verify(
        'sha256',
        Buffer.from(`${h}.${p}`),
        { key: cert.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s, 'base64url'),
      ),
    ).toBe(true);
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown> & {
      exp: number;
      nbf: number;
      iat: number;
    };
    expect(claims).toMatchObject({
      iss: 'iss',
      sub: 'alice',
      aud: 'svc',
      access: [
        { type: 'repository', name: 'a/b', actions: ['pull', 'push', 'delete'] },
        { type: 'repository', name: 'public', actions: ['pull'] },
      ],
    });
    expect(claims.nbf).toBeLessThanOrEqual(claims.iat);
    expect(claims.exp).toBeGreaterThan(claims.iat);
    expect(typeof claims.jti).toBe('string');
  });

  it('answers the OAuth2 password grant (POST) and counts requests', async () => {
    const before = ts.requests;
    const res = await fetch(ts.realm, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'alice',
        password: 'wonderland',
        service: 'svc',
        scope: 'repository:x:pull',
      }).toString(),
    });
    expect(res.status).toBe(200);
    expect(ts.requests).toBe(before + 1);
    const bad = await fetch(ts.realm, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'alice',
        password: 'x',
        service: 'svc',
      }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(bad.status).toBe(401);
  });
});

describe('freePort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
