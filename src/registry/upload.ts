import { Readable } from 'node:stream';
import type { Descriptor } from '../oci/index.js';
import { statusError } from './body.js';
import { operationError, printable, type Operation } from './operation.js';
import { discard, header, type HttpRequest, type HttpResponse } from './transport.js';

/**
 * Blob upload sessions (distribution-spec "Pushing blobs"): after the POST that opened the
 * session, either one PUT `?digest=` with the whole content (monolithic) or PATCHes of
 * `chunkSize` bytes with `Content-Range: <start>-<end>` (inclusive), each answering the next
 * Location, closed by an empty PUT `?digest=`.
 */

export interface UploadOptions {
  /** Upload in chunks of this many bytes (PATCH per chunk). If unset, one PUT. */
  readonly chunkSize?: number;
}

type Send = (request: HttpRequest) => Promise<HttpResponse>;

/** Appends `digest=` without re-encoding the session state the registry put in the query. */
function withDigest(url: URL, digest: string): URL {
  const next = new URL(url);
  next.search = `${url.search === '' ? '?' : `${url.search}&`}digest=${encodeURIComponent(digest)}`;
  return next;
}

function nextLocation(op: Operation, response: HttpResponse, current: URL): URL {
  const location = header(response.headers, 'location');
  if (location === undefined || location === '') return current;
  try {
    return new URL(location, current);
  } catch (cause) {
    throw operationError(op, 'ERR_REGISTRY_RESPONSE', `upload Location "${printable(location)}" is not a URL`, cause);
  }
}

async function* rechunk(content: Uint8Array | AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  if (content instanceof Uint8Array) {
    for (let offset = 0; offset < content.length; offset += size) yield content.subarray(offset, offset + size);
    return;
  }
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of content) {
    let chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    while (pendingBytes + chunk.length >= size) {
      const take = size - pendingBytes;
      pending.push(chunk.subarray(0, take));
      yield new Uint8Array(Buffer.concat(pending, size));
      chunk = chunk.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (chunk.length > 0) {
      pending.push(Buffer.from(chunk));
      pendingBytes += chunk.length;
    }
  }
  if (pendingBytes > 0) yield new Uint8Array(Buffer.concat(pending, pendingBytes));
}

export async function uploadBlob(
  op: Operation,
  send: Send,
  location: URL,
  content: Uint8Array | AsyncIterable<Uint8Array>,
  descriptor: Descriptor,
  options: UploadOptions,
): Promise<void> {
  // An error of the content stream (too long, too short, bad digest of a source) is the one
  // to report, not the transport error it causes.
  let contentFailure: unknown;
  const guarded = async function* (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let total = 0;
    try {
      for await (const chunk of source) {
        total += chunk.length;
        if (total > descriptor.size)
          throw operationError(
            op,
            'ERR_DIGEST_MISMATCH',
            `the content to push is longer than the ${descriptor.size} bytes of ${descriptor.digest}`,
          );
        yield chunk;
      }
    } catch (error) {
      contentFailure = error;
      throw error;
    }
    if (total !== descriptor.size) {
      contentFailure = operationError(
        op,
        'ERR_DIGEST_MISMATCH',
        `the content to push is ${total} bytes, ${descriptor.digest} has ${descriptor.size}`,
      );
      throw contentFailure;
    }
  };
  const sendContent = async (request: HttpRequest): Promise<HttpResponse> => {
    try {
      return await send(request);
    } catch (error) {
      throw contentFailure ?? error;
    }
  };

  let url = location;
  const chunkSize = options.chunkSize;
  if (chunkSize === undefined) {
    const body = content instanceof Uint8Array ? content : Readable.from(guarded(content));
    const response = await sendContent({
      method: 'PUT',
      url: withDigest(url, descriptor.digest),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
      body,
    });
    if (response.status !== 201) throw await statusError(op, response);
    await discard(response);
    return;
  }
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0)
    throw operationError(op, 'ERR_INPUT_INVALID', `chunkSize must be a positive integer, got ${chunkSize}`);
  let offset = 0;
  const source = content instanceof Uint8Array ? content : guarded(content);
  try {
    for await (const chunk of rechunk(source, chunkSize)) {
      const response = await send({
        method: 'PATCH',
        url,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + chunk.length - 1}`,
          'content-length': String(chunk.length),
        },
        body: chunk,
      });
      if (response.status !== 202) throw await statusError(op, response);
      await discard(response);
      url = nextLocation(op, response, url);
      offset += chunk.length;
    }
  } catch (error) {
    throw contentFailure ?? error;
  }
  const response = await send({
    method: 'PUT',
    url: withDigest(url, descriptor.digest),
    headers: { 'content-length': '0' },
  });
  if (response.status !== 201) throw await statusError(op, response);
  await discard(response);
}
