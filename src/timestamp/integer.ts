/**
 * Conversions between DER INTEGER content octets (two's complement, big-endian; X.690 §8.3) and
 * bigint, for serial numbers and nonces (RFC 3161 says users must cope with 160-bit integers).
 */

export function bigintFromInteger(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  // A set top bit means a negative number in two's complement.
  if ((bytes[0] as number) & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

/** Minimal DER content octets of a non-negative integer. */
export function integerFromBigint(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('only non-negative integers are encoded');
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  // A leading 0x00 keeps the value positive when the top bit is set.
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Lower-case hex of an INTEGER's value with redundant leading zero octets removed. */
export function normalizedIntegerHex(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString('hex');
}
