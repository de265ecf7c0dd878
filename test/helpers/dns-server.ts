import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

/**
 * A tiny DNS server over UDP on 127.0.0.1 for tests: no test may depend on the machine's name
 * servers (there is no internet here). Each question (A or AAAA of a name) goes to `answer`,
 * which says what to reply: addresses with a TTL, NXDOMAIN, SERVFAIL, nothing at all (`drop`:
 * a server that never answers, the worst case for a resolver), optionally after a delay. Every
 * question is recorded, so a test can count what reached the server.
 */

export type DnsType = 'A' | 'AAAA' | 'OTHER';

export type DnsAnswer =
  | { readonly addresses: readonly string[]; readonly ttl?: number; readonly delayMs?: number }
  | { readonly rcode: 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED'; readonly delayMs?: number }
  | { readonly drop: true };

export interface DnsQuestion {
  readonly name: string;
  readonly type: DnsType;
  readonly at: number;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  for (let guard = 0; guard < 128; guard++) {
    const len = msg[at];
    if (len === undefined) throw new Error('truncated name');
    if (len === 0) return { name: labels.join('.'), end: at + 1 };
    if ((len & 0xc0) !== 0) throw new Error('compressed question names are not expected');
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('latin1'));
    at += 1 + len;
  }
  throw new Error('name too long');
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const left = (head as string) === '' ? [] : (head as string).split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function encode(query: Buffer, questionEnd: number, type: number, answer: Exclude<DnsAnswer, { drop: true }>): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const rd = (query[2] as number) & 0x01;
  const rcode = 'rcode' in answer ? RCODE[answer.rcode] : RCODE.NOERROR;
  header[2] = 0x80 | 0x04 | rd; // QR, AA, RD as asked
  header[3] = 0x80 | rcode; // RA
  header.writeUInt16BE(1, 4); // QDCOUNT
  const records: Buffer[] = [];
  if ('addresses' in answer) {
    for (const address of answer.addresses) {
      const fam = isIP(address);
      if ((fam === 4 && type !== TYPE_A) || (fam === 6 && type !== TYPE_AAAA)) continue;
      const data = fam === 4 ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
      rr.writeUInt16BE(type, 2);
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(answer.ttl ?? 60, 6);
      rr.writeUInt16BE(data.length, 10);
      records.push(rr, data);
    }
  }
  header.writeUInt16BE(records.length / 2, 6); // ANCOUNT
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}

export class TestDnsServer {
  readonly questions: DnsQuestion[] = [];
  readonly #socket: Socket;
  readonly #timers = new Set<NodeJS.Timeout>();
  answer: (name: string, type: DnsType) => DnsAnswer;

  private constructor(socket: Socket, answer: (name: string, type: DnsType) => DnsAnswer) {
    this.#socket = socket;
    this.answer = answer;
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
  }

  /** Starts on 127.0.0.1 and an ephemeral port. */
  static async start(
    answer: (name: string, type: DnsType) => DnsAnswer = () => ({ rcode: 'NXDOMAIN' }),
  ): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new TestDnsServer(socket, answer);
  }

  /** `127.0.0.1:<port>`, as `Resolver.setServers` and HostResolver's `servers` take it. */
  get server(): string {
    return `127.0.0.1:${this.#socket.address().port}`;
  }

  /** Questions for a name (any type). */
  count(name: string): number {
    return this.questions.filter((q) => q.name === name).length;
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    let name: string;
    let end: number;
    try {
      if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return;
      ({ name, end } = readName(msg, 12));
    } catch {
      return;
    }
    const typeCode = msg.readUInt16BE(end);
    const type: DnsType = typeCode === TYPE_A ? 'A' : typeCode === TYPE_AAAA ? 'AAAA' : 'OTHER';
    this.questions.push({ name: name.toLowerCase(), type, at: Date.now() });
    const answer = this.answer(name.toLowerCase(), type);
    if ('drop' in answer) return;
    const reply = encode(msg, end + 4, typeCode, answer);
    const send = (): void => {
      this.#socket.send(reply, rinfo.port, rinfo.address, () => undefined);
    };
    if (answer.delayMs === undefined || answer.delayMs <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      send();
    }, answer.delayMs);
    this.#timers.add(timer);
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
