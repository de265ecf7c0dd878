import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { MemoryStore, StoreError, isDigest, type StoredManifest } from './memory-store.js';
import { serverTls, type ServerTls } from './tls.js';

/**
 * Our own in-memory OCI distribution registry that DOES implement the OCI 1.1 Referrers API, for
 * the Referrers-API path and for failures a real registry cannot be made to produce (fault rules).
 * Responses mimic distribution: error JSON `{"errors":[{code,message,detail}]}`,
 * `Docker-Distribution-API-Version`, `Docker-Content-Digest`, relative Location/Link headers.
 * Unlike distribution 2.8 it ignores Accept on manifest GETs and supports single-request
 * `POST ?digest=` uploads and DELETE by tag.
 */

export interface ReferrersRegistryOptions {
  tls?: boolean;
  /** Default true; false → /referrers/ answers 404 (tag-schema mode) and no OCI-Subject header. */
  referrersApi?: boolean;
  /** Referrers page size (default 100); more results → `Link: <…?n=…&last=…>; rel="next"`. */
  pageSize?: number;
  /** Default true: filter ?artifactType= and set `OCI-Filters-Applied`; false: ignore it. */
  applyArtifactTypeFilter?: boolean;
  /** When set, every /v2 request needs Basic auth (the /blobdata/ redirect target does not). */
  basicAuth?: Record<string, string>;
}

export interface FaultRule {
  /** Which requests; default every request. */
  match?: (method: string, path: string) => boolean;
  /** Answer with this status instead of handling the request. 3xx sets Location (see `location`). */
  status?: number;
  retryAfter?: string;
  /** How many requests it applies to; default until clearFaults(). */
  times?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Serve these bytes instead of the real content (or as the body of a `status` answer). */
  body?: Uint8Array;
  /** Location for a 3xx status; default `<url>/blobdata/<digest in the path>`. (Addition to the brief.) */
  location?: string;
}

export interface LogEntry {
  method: string;
  path: string;
  query: string;
  /** 0 until the answer is sent. */
  status: number;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: Uint8Array;
}

const INDEX = 'application/vnd.oci.image.index.v1+json';
const NAME = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*';
const REF = '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}|[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+';
const ROUTES = {
  uploads: new RegExp(`^/v2/(${NAME})/blobs/uploads/?$`),
  upload: new RegExp(`^/v2/(${NAME})/blobs/uploads/([A-Za-z0-9-]+)$`),
  blob: new RegExp(`^/v2/(${NAME})/blobs/([a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)$`),
  manifest: new RegExp(`^/v2/(${NAME})/manifests/(${REF})$`),
  tags: new RegExp(`^/v2/(${NAME})/tags/list$`),
  referrers: new RegExp(`^/v2/(${NAME})/referrers/([a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)$`),
  blobdata: /^\/blobdata\/([a-z0-9]+:[a-f0-9]+)$/,
};
const STATUS_CODES: Record<number, string> = {
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  404: 'NOT_FOUND',
  429: 'TOOMANYREQUESTS',
};

export class ReferrersRegistry {
  readonly host: string;
  readonly url: string;
  readonly caPem: string | undefined;
  readonly caFile: string | undefined;
  readonly log: LogEntry[] = [];
  readonly #server: Server;
  readonly #tls: ServerTls | undefined;
  readonly #store = new MemoryStore();
  readonly #options: Required<Omit<ReferrersRegistryOptions, 'basicAuth' | 'tls'>> & {
    basicAuth: Record<string, string> | undefined;
  };
  readonly #faults: FaultRule[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(server: Server, tls: ServerTls | undefined, options: ReferrersRegistryOptions) {
    this.#server = server;
    this.#tls = tls;
    this.#options = {
      referrersApi: options.referrersApi ?? true,
      pageSize: options.pageSize ?? 100,
      applyArtifactTypeFilter: options.applyArtifactTypeFilter ?? true,
      basicAuth: options.basicAuth,
    };
    this.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.url = `${tls === undefined ? 'http' : 'https'}://${this.host}`;
    this.caPem = tls?.caPem;
    this.caFile = tls?.caFile;
  }

  /** The content, for seeding many objects without HTTP (benchmarks). */
  get store(): MemoryStore {
    return this.#store;
  }

  static async start(options: ReferrersRegistryOptions = {}): Promise<ReferrersRegistry> {
    const tls = options.tls === true ? serverTls('referrers-registry') : undefined;
    // The handler needs the instance, which needs the bound port: fill it in after listen().
    const ref: { self?: ReferrersRegistry } = {};
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      if (ref.self !== undefined) ref.self.#handle(req, res);
    };
    const server =
      tls === undefined
        ? createHttpServer(handler)
        : createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    } catch (err) {
      tls?.pki.cleanup();
      throw err;
    }
    ref.self = new ReferrersRegistry(server, tls, options);
    return ref.self;
  }

  resetLog(): void {
    this.log.length = 0;
  }

  /**
   * Rules are tried in the order added; the first that matches (with `times` left) applies alone.
   * Faults act before Basic auth, like a proxy in front of the registry; a rule without `match`
   * also hits /blobdata/ (the redirect target).
   */
  fail(rule: FaultRule): void {
    this.#faults.push({ ...rule });
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    this.#tls?.pki.cleanup();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://registry');
    const method = req.method ?? 'GET';
    const entry: LogEntry = { method, path: url.pathname, query: url.search.replace(/^\?/, ''), status: 0 };
    this.log.push(entry);
    const fault = this.#takeFault(method, url.pathname);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const respond = (): void => {
        let reply: Reply;
        try {
          reply =
            fault?.status !== undefined
              ? this.#faultReply(fault, url.pathname)
              : this.#route(method, url, req, Buffer.concat(chunks));
        } catch (err) {
          reply =
            err instanceof StoreError
              ? errorReply(err.status, err.code, err.message, err.detail)
              : errorReply(500, 'UNKNOWN', String(err));
        }
        if (fault?.body !== undefined && fault.status === undefined) reply.body = fault.body;
        entry.status = reply.status;
        send(res, reply);
      };
      if (fault?.delayMs === undefined) {
        respond();
        return;
      }
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        respond();
      }, fault.delayMs);
      this.#timers.add(timer);
    });
  }

  #takeFault(method: string, path: string): FaultRule | undefined {
    const index = this.#faults.findIndex(
      (r) => (r.times === undefined || r.times > 0) && (r.match === undefined || r.match(method, path)),
    );
    if (index < 0) return undefined;
    const rule = this.#faults[index]!;
    if (rule.times !== undefined && --rule.times === 0) this.#faults.splice(index, 1);
    return rule;
  }

  #faultReply(rule: FaultRule, path: string): Reply {
    const status = rule.status!;
    const reply: Reply =
      rule.body !== undefined
        ? { status, headers: { 'Content-Type': 'application/octet-stream' }, body: rule.body }
        : status >= 300 && status < 400
          ? { status, headers: {} }
          : errorReply(
              status,
              STATUS_CODES[status] ?? (status >= 500 ? 'UNAVAILABLE' : 'UNKNOWN'),
              `injected fault ${status}`,
            );
    if (rule.retryAfter !== undefined) reply.headers['Retry-After'] = rule.retryAfter;
    if (status >= 300 && status < 400) {
      const digest = /(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})/.exec(path)?.[1];
      const location = rule.location ?? (digest === undefined ? undefined : `${this.url}/blobdata/${digest}`);
      if (location !== undefined) reply.headers.Location = location;
    }
    return reply;
  }

  #authorized(req: IncomingMessage): boolean {
    const users = this.#options.basicAuth;
    if (users === undefined) return true;
    const header = req.headers.authorization ?? '';
    if (!/^basic /i.test(header)) return false;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    return colon > 0 && Object.hasOwn(users, user) && users[user] === decoded.slice(colon + 1);
  }

  #route(method: string, url: URL, req: IncomingMessage, body: Buffer): Reply {
    const path = url.pathname;
    const q = url.searchParams;
    let m: RegExpExecArray | null;
    // The redirect target stands in for a storage backend: no registry auth, like a presigned URL.
    if ((m = ROUTES.blobdata.exec(path)) !== null && (method === 'GET' || method === 'HEAD')) {
      const bytes = this.#store.findBlob(m[1]!);
      return bytes === undefined
        ? errorReply(404, 'BLOB_UNKNOWN', 'blob unknown to registry', m[1])
        : blobReply(m[1]!, bytes);
    }
    if (!this.#authorized(req)) {
      const reply = errorReply(401, 'UNAUTHORIZED', 'authentication required');
      reply.headers['WWW-Authenticate'] = 'Basic realm="portcullis-referrers-registry"';
      return reply;
    }
    if (path === '/v2/' || path === '/v2')
      return method === 'GET' || method === 'HEAD' ? jsonReply(200, {}) : notFound();

    if ((m = ROUTES.uploads.exec(path)) !== null && method === 'POST') return this.#startUpload(m[1]!, q, body);
    if ((m = ROUTES.upload.exec(path)) !== null) return this.#upload(method, m[1]!, m[2]!, q, req, body);
    if ((m = ROUTES.blob.exec(path)) !== null) {
      const [, name, digest] = m as unknown as [string, string, string];
      if (method === 'DELETE')
        return this.#store.deleteBlob(name, digest)
          ? { status: 202, headers: {} }
          : errorReply(404, 'BLOB_UNKNOWN', 'blob unknown to registry', digest);
      if (method !== 'GET' && method !== 'HEAD') return notFound();
      const bytes = this.#store.repo(name)?.blobs.get(digest);
      return bytes === undefined
        ? errorReply(404, 'BLOB_UNKNOWN', 'blob unknown to registry', digest)
        : blobReply(digest, bytes);
    }
    if ((m = ROUTES.manifest.exec(path)) !== null) return this.#manifest(method, m[1]!, m[2]!, req, body);
    if ((m = ROUTES.tags.exec(path)) !== null && method === 'GET') return this.#tags(m[1]!, q);
    if ((m = ROUTES.referrers.exec(path)) !== null && method === 'GET' && this.#options.referrersApi)
      return this.#referrers(m[1]!, m[2]!, q);
    return notFound();
  }

  #startUpload(name: string, q: URLSearchParams, body: Buffer): Reply {
    const mount = q.get('mount');
    const from = q.get('from');
    if (mount !== null && from !== null && isDigest(mount) && this.#store.mount(name, mount, from))
      return createdBlob(name, mount);
    const digest = q.get('digest');
    if (digest !== null) return createdBlob(name, this.#store.putBlob(name, digest, body));
    const id = this.#store.startUpload(name);
    return uploadReply(202, name, id, 0);
  }

  #upload(method: string, name: string, id: string, q: URLSearchParams, req: IncomingMessage, body: Buffer): Reply {
    switch (method) {
      case 'GET':
        return uploadReply(204, name, id, this.#store.upload(name, id).size);
      case 'PATCH': {
        const upload = this.#store.appendUpload(name, id, body, headerValue(req, 'content-range'));
        return uploadReply(202, name, id, upload.size);
      }
      case 'PUT':
        return createdBlob(name, this.#store.finishUpload(name, id, body, q.get('digest')));
      case 'DELETE':
        this.#store.cancelUpload(name, id);
        return { status: 204, headers: {} };
      default:
        return notFound();
    }
  }

  #manifest(method: string, name: string, reference: string, req: IncomingMessage, body: Buffer): Reply {
    if (method === 'GET' || method === 'HEAD') {
      const stored = this.#store.resolve(name, reference);
      if (stored === undefined) return errorReply(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { reference });
      return {
        status: 200,
        headers: { 'Content-Type': stored.mediaType, 'Docker-Content-Digest': stored.digest },
        body: stored.bytes,
      };
    }
    if (method === 'PUT') {
      const contentType = headerValue(req, 'content-type')?.split(';')[0]?.trim();
      const stored = this.#store.putManifest(name, reference, contentType === '' ? undefined : contentType, body);
      const headers: Record<string, string> = {
        Location: `/v2/${name}/manifests/${stored.digest}`,
        'Docker-Content-Digest': stored.digest,
      };
      if (stored.subject !== undefined && this.#options.referrersApi) headers['OCI-Subject'] = stored.subject;
      return { status: 201, headers };
    }
    if (method === 'DELETE') {
      return this.#store.deleteManifest(name, reference)
        ? { status: 202, headers: {} }
        : errorReply(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { reference });
    }
    return notFound();
  }

  #tags(name: string, q: URLSearchParams): Reply {
    const repo = this.#store.repo(name);
    if (repo === undefined) return errorReply(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name });
    const last = q.get('last');
    let tags = [...repo.tags.keys()].sort().filter((t) => last === null || t > last);
    const n = q.get('n');
    const headers: Record<string, string> = {};
    if (n !== null && /^\d+$/.test(n) && Number(n) < tags.length) {
      tags = tags.slice(0, Number(n));
      if (tags.length > 0)
        headers.Link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(tags.at(-1)!)}>; rel="next"`;
    }
    return jsonReply(200, { name, tags }, headers);
  }

  #referrers(name: string, subject: string, q: URLSearchParams): Reply {
    const artifactType = q.get('artifactType');
    const filter = artifactType !== null && this.#options.applyArtifactTypeFilter;
    let all: StoredManifest[] = this.#store.referrers(name, subject);
    if (filter) all = all.filter((r) => r.artifactType === artifactType);
    const last = q.get('last');
    const start = last === null ? 0 : all.findIndex((r) => r.digest === last) + 1;
    const n = Number(q.get('n'));
    const size = Number.isInteger(n) && n > 0 ? Math.min(n, this.#options.pageSize) : this.#options.pageSize;
    // An unknown `last` gives an empty page rather than restarting (which could loop a client).
    const page = last !== null && start === 0 ? [] : all.slice(start, start + size);
    const headers: Record<string, string> = {};
    if (filter) headers['OCI-Filters-Applied'] = 'artifactType';
    if (start + size < all.length && page.length > 0) {
      const next = new URLSearchParams({ n: String(size), last: page.at(-1)!.digest });
      if (artifactType !== null) next.set('artifactType', artifactType);
      headers.Link = `</v2/${name}/referrers/${subject}?${next.toString()}>; rel="next"`;
    }
    const manifests = page.map((r) => ({
      mediaType: r.mediaType,
      digest: r.digest,
      size: r.bytes.length,
      ...(r.artifactType === undefined ? {} : { artifactType: r.artifactType }),
      ...(r.annotations === undefined ? {} : { annotations: r.annotations }),
    }));
    return jsonReply(200, { schemaVersion: 2, mediaType: INDEX, manifests }, { ...headers, 'Content-Type': INDEX });
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(value)),
  };
}

function errorReply(status: number, code: string, message: string, detail?: unknown): Reply {
  return jsonReply(status, { errors: [{ code, message, ...(detail === undefined ? {} : { detail }) }] });
}

/** Unknown routes answer like distribution's router: plain-text 404. */
function notFound(): Reply {
  return {
    status: 404,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    body: Buffer.from('404 page not found\n'),
  };
}

function blobReply(digest: string, bytes: Uint8Array): Reply {
  return {
    status: 200,
    headers: { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest },
    body: bytes,
  };
}

function createdBlob(name: string, digest: string): Reply {
  return { status: 201, headers: { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest } };
}

function uploadReply(status: number, name: string, id: string, size: number): Reply {
  return {
    status,
    headers: {
      Location: `/v2/${name}/blobs/uploads/${id}`,
      Range: `0-${Math.max(0, size - 1)}`,
      'Docker-Upload-UUID': id,
    },
  };
}

function send(res: ServerResponse, reply: Reply): void {
  const body = reply.body ?? new Uint8Array(0);
  // Content-Length is the real size even for HEAD (node drops the body itself).
  res.writeHead(reply.status, {
    'Docker-Distribution-API-Version': 'registry/2.0',
    ...reply.headers,
    ...(reply.status === 204 ? {} : { 'Content-Length': String(body.length) }), // 204 must not carry one
  });
  res.end(body);
}
