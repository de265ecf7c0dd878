import { isIP } from 'node:net';

/** `10.96.0.10`, `::1`, `127.0.0.1:5353`, `[::1]:5353`: what c-ares' setServers takes. */
export function isNameServer(server: unknown): server is string {
  if (typeof server !== 'string') return false;
  if (isIP(server) !== 0) return true;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(server);
  if (m === null || Number(m[3]) > 65535) return false;
  return m[1] !== undefined ? isIP(m[1]) === 6 : isIP(m[2] as string) === 4;
}
