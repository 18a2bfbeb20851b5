/** Name-based UUIDs (RFC 9562 version 5: SHA-1 of namespace + name). */
import { createHash } from 'node:crypto';

/** Namespace for issue ids derived from idempotency keys (a fixed random UUID of this product). */
export const IDEMPOTENCY_NAMESPACE = '3f0c6a52-8d1e-4b7a-9c5d-2e6f1a4b8c90';

export function uuidV5(name: string, namespace = IDEMPOTENCY_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
