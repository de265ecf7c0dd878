import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import type { Issued, Pki } from './pki.js';

/**
 * Real OCSP and CRL issuance for tests, driven by the `openssl` CLI.
 *
 * CaDatabase is an OpenSSL CA database (index.txt) for one issuing CA: certificates are added as
 * valid, revoked with a reason (and optionally a compromise time, which becomes the CRL entry's
 * invalidity date), and CRLs are made with `openssl ca -gencrl`. OcspResponder is a small
 * node:http front on 127.0.0.1 (only loopback) that writes each request body to a file and runs
 * `openssl ocsp -index … -CA … -rsigner … -rkey … -reqin … -respout …` for it, with delay
 * injection and a "down" mode.
 */

type EntryState = { status: 'V' } | { status: 'R'; revokedAt: Date; reason?: string; compromiseTime?: Date };

interface DbEntry {
  readonly serial: string;
  readonly notAfter: Date;
  readonly subject: string;
  state: EntryState;
}

let counter = 0;

/** YYMMDDHHMMSSZ (UTCTime) as OpenSSL's index uses it. */
function utcTime(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .slice(2);
}

/** YYYYMMDDHHMMSSZ (GeneralizedTime). */
export function generalizedTime(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function run(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd }, (error, _stdout, stderr) =>
      error ? reject(new Error(`openssl ${args[0]}: ${stderr || error.message}`)) : resolve(),
    );
  });
}

export interface GenCrlOptions {
  /** nextUpdate = lastUpdate + hours (default 24). */
  readonly hours?: number;
  /** Explicit lastUpdate / nextUpdate (e.g. both in the past, for a stale CRL). */
  readonly lastUpdate?: Date;
  readonly nextUpdate?: Date;
  /** Extension lines for the CRL (`-crlexts`), e.g. `freshestCRL=URI:http://…`. */
  readonly extensions?: readonly string[];
  /** The CRL number to use (default: the next number of this database). */
  readonly crlNumber?: number;
  /** Signing digest (default sha256). */
  readonly digest?: string;
}

export class CaDatabase {
  readonly pki: Pki;
  readonly ca: Issued;
  readonly id: string;
  readonly #entries = new Map<string, DbEntry>();
  #crlNumber = 1;

  constructor(pki: Pki, ca: Issued) {
    this.pki = pki;
    this.ca = ca;
    this.id = `cadb${++counter}`;
    writeFileSync(this.file('ca.pem'), ca.certPem);
    writeFileSync(this.file('ca.key'), ca.keyPem);
    writeFileSync(this.file('index.txt.attr'), 'unique_subject = no\n');
    this.#writeIndex();
  }

  file(name: string): string {
    return this.pki.file(`${this.id}.${name}`);
  }

  get indexFile(): string {
    return this.file('index.txt');
  }

  /** Registers an issued certificate as valid. */
  add(cert: Issued): this {
    const x = new X509Certificate(cert.certDer);
    this.#entries.set(x.serialNumber.toUpperCase(), {
      serial: x.serialNumber.toUpperCase(),
      notAfter: new Date(x.validTo),
      subject: cert.subject,
      state: { status: 'V' },
    });
    this.#writeIndex();
    return this;
  }

  /**
   * Marks a certificate revoked (reason: an OpenSSL reason name, e.g. keyCompromise, certificateHold, removeFromCRL).
   */
  revoke(cert: Issued, opts: { at?: Date; reason?: string; compromiseTime?: Date } = {}): this {
    const serial = new X509Certificate(cert.certDer).serialNumber.toUpperCase();
    const entry = this.#entries.get(serial);
    if (entry === undefined) throw new Error(`serial ${serial} is not in the database`);
    entry.state = {
      status: 'R',
      revokedAt: opts.at ?? new Date(Date.now() - 60_000),
      ...(opts.reason === undefined ? {} : { reason: opts.reason }),
      ...(opts.compromiseTime === undefined ? {} : { compromiseTime: opts.compromiseTime }),
    };
    this.#writeIndex();
    return this;
  }

  /** Back to valid (un-revoked). */
  reinstate(cert: Issued): this {
    const serial = new X509Certificate(cert.certDer).serialNumber.toUpperCase();
    const entry = this.#entries.get(serial);
    if (entry !== undefined) entry.state = { status: 'V' };
    this.#writeIndex();
    return this;
  }

  #writeIndex(): void {
    const lines = [...this.#entries.values()].map((e) => {
      let rev = '';
      if (e.state.status === 'R') {
        rev = utcTime(e.state.revokedAt);
        if (e.state.compromiseTime !== undefined) rev += `,keyTime,${generalizedTime(e.state.compromiseTime)}`;
        else if (e.state.reason !== undefined) rev += `,${e.state.reason}`;
      }
      return [e.state.status, utcTime(e.notAfter), rev, e.serial, 'unknown', e.subject].join('\t');
    });
    writeFileSync(this.indexFile, lines.map((l) => `${l}\n`).join(''));
  }

  /** `openssl ca -gencrl` over the current index: returns the DER CRL. */
  async gencrl(opts: GenCrlOptions = {}): Promise<Uint8Array> {
    const n = opts.crlNumber ?? this.#crlNumber++;
    const tag = `crl${n}-${Math.random().toString(36).slice(2, 7)}`;
    const hexNumber = n.toString(16).toUpperCase();
    writeFileSync(this.file(`${tag}.number`), `${hexNumber.length % 2 === 0 ? hexNumber : `0${hexNumber}`}\n`);
    writeFileSync(
      this.file(`${tag}.cnf`),
      [
        '[ca]',
        'default_ca = d',
        '[d]',
        `database = ${this.indexFile}`,
        `crlnumber = ${this.file(`${tag}.number`)}`,
        `default_md = ${opts.digest ?? 'sha256'}`,
        `certificate = ${this.file('ca.pem')}`,
        `private_key = ${this.file('ca.key')}`,
        '[crlext]',
        'authorityKeyIdentifier=keyid',
        ...(opts.extensions ?? []),
        '',
      ].join('\n'),
    );
    const args = [
      'ca',
      '-gencrl',
      '-batch',
      '-config',
      this.file(`${tag}.cnf`),
      '-crlexts',
      'crlext',
      '-out',
      this.file(`${tag}.pem`),
    ];
    if (opts.lastUpdate !== undefined) args.push('-crl_lastupdate', generalizedTime(opts.lastUpdate));
    if (opts.nextUpdate !== undefined) args.push('-crl_nextupdate', generalizedTime(opts.nextUpdate));
    else args.push('-crlhours', String(opts.hours ?? 24));
    await run(args, this.pki.dir);
    await run(
      ['crl', '-in', this.file(`${tag}.pem`), '-outform', 'DER', '-out', this.file(`${tag}.der`)],
      this.pki.dir,
    );
    return new Uint8Array(await readFile(this.file(`${tag}.der`)));
  }
}

/**
 * An OCSP response for `cert` made ahead of time, as an operator would fetch or make one for an
 * air-gapped machine: `openssl ocsp -reqout` then `openssl ocsp -index … -respout`, signed by the
 * database's CA; nextUpdate = now + ndays (default 1; 0 omits it), or nmin minutes.
 */
export async function ocspResponseFor(
  db: CaDatabase,
  cert: Issued,
  opts: { ndays?: number; nmin?: number } = {},
): Promise<Uint8Array> {
  const n = `${db.id}.pre${++counter}`;
  writeFileSync(db.pki.file(`${n}.cert.pem`), cert.certPem);
  await run(
    ['ocsp', '-issuer', db.file('ca.pem'), '-cert', `${n}.cert.pem`, '-no_nonce', '-reqout', `${n}.req`],
    db.pki.dir,
  );
  const args = [
    'ocsp',
    '-index',
    db.indexFile,
    '-CA',
    db.file('ca.pem'),
    '-rsigner',
    db.file('ca.pem'),
    '-rkey',
    db.file('ca.key'),
    '-reqin',
    `${n}.req`,
    '-respout',
    `${n}.resp`,
  ];
  if (opts.nmin !== undefined) args.push('-nmin', String(opts.nmin));
  else if ((opts.ndays ?? 1) > 0) args.push('-ndays', String(opts.ndays ?? 1)); // 0: no nextUpdate
  await run(args, db.pki.dir);
  return new Uint8Array(await readFile(db.pki.file(`${n}.resp`)));
}

export interface OcspResponderOptions {
  /** The responder certificate and key: the CA itself (default) or a delegated responder it issued. */
  readonly signer?: Issued;
  /** nextUpdate = now + ndays (default 1); `nmin` wins when given; `ndays: 0` with no nmin omits nextUpdate. */
  readonly ndays?: number;
  readonly nmin?: number;
}

export class OcspResponder {
  readonly db: CaDatabase;
  readonly #signer: Issued;
  readonly #server: Server;
  readonly #id: string;
  #n = 0;
  ndays: number;
  nmin: number | undefined;
  /** Milliseconds to wait before answering. */
  delayMs = 0;
  /** 'up' answers; 'down' drops each connection; 'error' answers HTTP 500. */
  mode: 'up' | 'down' | 'error' = 'up';
  /** Requests received (including those dropped in down mode). */
  requests = 0;
  /** Request bodies received, in order. */
  readonly bodies: Uint8Array[] = [];

  private constructor(db: CaDatabase, opts: OcspResponderOptions) {
    this.db = db;
    this.#signer = opts.signer ?? db.ca;
    this.ndays = opts.ndays ?? 1;
    this.nmin = opts.nmin;
    this.#id = `ocsp${++counter}`;
    writeFileSync(db.file(`${this.#id}.rsigner.pem`), this.#signer.certPem);
    writeFileSync(db.file(`${this.#id}.rsigner.key`), this.#signer.keyPem);
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  /** Starts a responder for the database's CA on 127.0.0.1 (an OS-chosen port). */
  static async start(db: CaDatabase, opts: OcspResponderOptions = {}): Promise<OcspResponder> {
    const responder = new OcspResponder(db, opts);
    await new Promise<void>((resolve) => responder.#server.listen(0, '127.0.0.1', resolve));
    return responder;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++;
    if (this.mode === 'down') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = new Uint8Array(Buffer.concat(chunks));
    this.bodies.push(body);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.mode === 'error') {
        res.writeHead(500).end();
        return;
      }
      const n = `${this.db.id}.${this.#id}.${++this.#n}`;
      await writeFile(this.db.pki.file(`${n}.req`), body);
      const args = [
        'ocsp',
        '-index',
        this.db.indexFile,
        '-CA',
        this.db.file('ca.pem'),
        '-rsigner',
        this.db.file(`${this.#id}.rsigner.pem`),
        '-rkey',
        this.db.file(`${this.#id}.rsigner.key`),
        '-reqin',
        `${n}.req`,
        '-respout',
        `${n}.resp`,
      ];
      if (this.nmin !== undefined) args.push('-nmin', String(this.nmin));
      else if (this.ndays > 0) args.push('-ndays', String(this.ndays));
      await run(args, this.db.pki.dir);
      const der = await readFile(this.db.pki.file(`${n}.resp`));
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': der.length }).end(der);
    } catch (error) {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end(String(error));
    }
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
