import { PortcullisError } from '../errors/index.js';
import { isNameServer } from './name-servers.js';

/** How each value of the serve configuration is checked (serve-config.ts has the shape and the defaults). */

export type Shape = Record<
  string,
  'number' | 'boolean' | 'string' | readonly string[] | 'hosts' | 'servers' | 'names' | 'objectRefs'
>;

const OBJECT_REF = /^(ConfigMap|Secret)\/[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function invalid(path: string, message: string): PortcullisError {
  return new PortcullisError('ERR_CONFIG_INVALID', `configuration ${path}: ${message}`);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkValue(path: string, kind: Shape[string], value: unknown): unknown {
  if (kind === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw invalid(path, 'must be a non-negative number');
    return value;
  }
  if (kind === 'boolean') {
    if (typeof value !== 'boolean') throw invalid(path, 'must be true or false');
    return value;
  }
  if (kind === 'string') {
    if (typeof value !== 'string') throw invalid(path, 'must be a string');
    return value;
  }
  if (kind === 'names') {
    if (!Array.isArray(value)) throw invalid(path, 'must be a list of environment variable names');
    return value.map((name: unknown, i) => {
      if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw invalid(`${path}[${i}]`, 'must be an environment variable name');
      return name;
    });
  }
  if (kind === 'objectRefs') {
    if (!Array.isArray(value))
      throw invalid(path, 'must be a list of ConfigMap/<namespace>/<name> or Secret/<namespace>/<name>');
    return value.map((ref: unknown, i) => {
      if (typeof ref !== 'string' || !OBJECT_REF.test(ref))
        throw invalid(`${path}[${i}]`, 'must be ConfigMap/<namespace>/<name> or Secret/<namespace>/<name>');
      return ref;
    });
  }
  if (kind === 'servers') {
    if (!Array.isArray(value)) throw invalid(path, 'must be a list of name servers');
    return value.map((server: unknown, i) => {
      if (!isNameServer(server)) throw invalid(`${path}[${i}]`, 'must be an IP address, ipv4:port or [ipv6]:port');
      return server;
    });
  }
  if (kind === 'hosts') {
    if (!isRecord(value)) throw invalid(path, 'must map registry hosts to settings');
    const out: Record<string, { plainHttp: boolean; caFile: string | undefined }> = {};
    for (const [host, settings] of Object.entries(value)) {
      if (!/^[a-zA-Z0-9.-]+(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/.test(host))
        throw invalid(`${path}.${host}`, 'is not a registry host[:port]');
      if (!isRecord(settings)) throw invalid(`${path}.${host}`, 'must be an object');
      for (const key of Object.keys(settings))
        if (key !== 'plainHttp' && key !== 'caFile')
          throw invalid(`${path}.${host}.${key}`, 'is not a known setting (plainHttp, caFile)');
      out[host] = {
        plainHttp:
          settings.plainHttp === undefined
            ? false
            : (checkValue(`${path}.${host}.plainHttp`, 'boolean', settings.plainHttp) as boolean),
        caFile:
          settings.caFile === undefined
            ? undefined
            : (checkValue(`${path}.${host}.caFile`, 'string', settings.caFile) as string),
      };
    }
    return out;
  }
  if (typeof value !== 'string' || !kind.includes(value)) throw invalid(path, `must be one of ${kind.join(', ')}`);
  return value;
}
