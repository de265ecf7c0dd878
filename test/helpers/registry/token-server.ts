import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { Pki } from '../pki.js';

/**
 * A token server per the Docker registry token authentication spec
 * (https://distribution.github.io/distribution/spec/auth/token/), shaped the way distribution 2.8's
 * `auth: token:` verifies tokens: an ES256 JWS whose header carries `x5c` with the signing
 * certificate, and that certificate is the whole `rootcertbundle` (Go accepts a chain of one when
 * the leaf itself is a trusted root). Served over plain HTTP on 127.0.0.1.
 *
 * GET /token?service=…&scope=repository:<name>:<actions>[&scope=…] with optional Basic auth.
 * POST /token (OAuth2 password grant form, as `docker login` may use) is answered the same way.
 * Granted actions = requested ∩ permissions(user, name); 'push' also grants 'delete' and '*',
 * because distribution 2.8 asks for 'delete' on DELETE. Unknown user or wrong password → 401;
 * a missing or different `service` → 400 (clients must echo the challenge's service).
 */

export type RepositoryAction = 'pull' | 'push';
export type Permissions = (user: string | undefined, repository: string) => RepositoryAction[];

export interface TokenServerOptions {
  users: Record<string, string>;
  /** Default: authenticated users may pull+push everything, anonymous requests get nothing. */
  permissions?: Permissions;
  service: string;
  issuer: string;
}

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export const defaultPermissions: Permissions = (user) => (user === undefined ? [] : ['pull', 'push']);

const TOKEN_TTL_SECONDS = 300;

export class TokenServer {
  readonly realm: string;
  /** PEM bundle for distribution's `rootcertbundle`: the signing certificate. */
  readonly certFile: string;
  readonly certPem: string;
  readonly service: string;
  readonly issuer: string;
  /** Number of /token requests answered (any status). */
  requests = 0;
  readonly #server: Server;
  readonly #pki: Pki;

  private constructor(server: Server, pki: Pki, certFile: string, certPem: string, opts: TokenServerOptions) {
    this.#server = server;
    this.#pki = pki;
    this.certFile = certFile;
    this.certPem = certPem;
    this.service = opts.service;
    this.issuer = opts.issuer;
    this.realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  }

  static async start(opts: TokenServerOptions): Promise<TokenServer> {
    const pki = new Pki();
    const signer = pki.issue({
      subject: '/O=Portcullis Test/CN=Portcullis Test Token Signer',
      key: 'ec-256',
      extensions: [
        'basicConstraints=critical,CA:TRUE',
        'keyUsage=critical,digitalSignature,keyCertSign',
        'subjectKeyIdentifier=hash',
      ],
    });
    const certFile = pki.file('token-signer.pem');
    writeFileSync(certFile, signer.certPem);
    const key = createPrivateKey(signer.keyPem);
    const x5c = [Buffer.from(signer.certDer).toString('base64')];
    const permissions = opts.permissions ?? defaultPermissions;

    const ref: { self?: TokenServer } = {}; // filled in once the port is known
    const server = createServer((req, res) => {
      if (ref.self !== undefined) ref.self.requests++;
      readBody(req)
        .then((body) => answer(req, res, body, { ...opts, permissions, key, x5c }))
        .catch((err: unknown) => send(res, 500, { error: String(err) }));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    } catch (err) {
      pki.cleanup();
      throw err;
    }
    ref.self = new TokenServer(server, pki, certFile, signer.certPem, opts);
    return ref.self;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    this.#pki.cleanup();
  }
}

interface SigningContext extends TokenServerOptions {
  permissions: Permissions;
  key: ReturnType<typeof createPrivateKey>;
  x5c: string[];
}

function answer(req: IncomingMessage, res: ServerResponse, body: Buffer, ctx: SigningContext): void {
  const url = new URL(req.url ?? '/', 'http://token');
  if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'POST')) {
    send(res, 404, { error: 'not found' });
    return;
  }
  // POST is the OAuth2 form: credentials and scope come in the body.
  const params = req.method === 'POST' ? new URLSearchParams(body.toString('utf8')) : url.searchParams;
  let user: string | undefined;
  let password: string | undefined;
  const authz = req.headers.authorization;
  if (authz !== undefined && /^basic /i.test(authz)) {
    const decoded = Buffer.from(authz.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    user = colon < 0 ? decoded : decoded.slice(0, colon);
    password = colon < 0 ? '' : decoded.slice(colon + 1);
  } else if (req.method === 'POST' && params.get('grant_type') === 'password') {
    user = params.get('username') ?? '';
    password = params.get('password') ?? '';
  }
  if (user !== undefined && (!Object.hasOwn(ctx.users, user) || ctx.users[user] !== password)) {
    res.setHeader('WWW-Authenticate', 'Basic realm="portcullis-test-token"');
    send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] });
    return;
  }
  const service = params.get('service');
  if (service !== ctx.service) {
    send(res, 400, {
      errors: [{ code: 'INVALID_SERVICE', message: `service must be ${JSON.stringify(ctx.service)}` }],
    });
    return;
  }
  const access = params
    .getAll('scope')
    .flatMap((s) => s.split(' '))
    .filter((s) => s !== '')
    .flatMap((scope) => grant(scope, user, ctx.permissions));
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: ctx.issuer,
    sub: user ?? '',
    aud: ctx.service,
    exp: now + TOKEN_TTL_SECONDS,
    nbf: now - 10, // small allowance for clock differences
    iat: now,
    jti: randomBytes(16).toString('hex'),
    access,
  };
  const token = signJwt({ typ: 'JWT', alg: 'ES256', x5c: ctx.x5c }, claims, ctx.key);
  send(res, 200, {
    token,
    access_token: token,
    expires_in: TOKEN_TTL_SECONDS,
    issued_at: new Date(now * 1000).toISOString(),
  });
}

/** `type:name:actions`; the name may itself contain ':' (host:port/repo), so split at the ends. */
function grant(scope: string, user: string | undefined, permissions: Permissions): AccessEntry[] {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return [];
  const type = scope.slice(0, first).replace(/\(.*\)$/, ''); // drop a resource class, e.g. repository(plugin)
  const name = scope.slice(first + 1, last);
  const requested = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  let allowed: Set<string>;
  if (type === 'repository') {
    const perms = permissions(user, name);
    allowed = new Set<string>(perms);
    if (perms.includes('push')) {
      allowed.add('delete');
      allowed.add('*');
    }
  } else if (type === 'registry' && name === 'catalog') {
    allowed = new Set(user === undefined ? [] : ['*']);
  } else {
    allowed = new Set();
  }
  return [{ type, name, actions: requested.filter((a) => allowed.has(a)) }];
}

export function signJwt(header: object, claims: object, key: ReturnType<typeof createPrivateKey>): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  // JWS ES256 wants raw r||s, not DER.
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: object): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
  res.end(bytes);
}
