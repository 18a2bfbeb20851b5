/**
 * Action secrets on the ActionSecret table. Values are encrypted with the keyring's current key;
 * only names (with key id and timestamps) are ever listed, and only the names an action asks
 * for are decrypted.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import { SECRET_NAME_PATTERN } from '../engine/action-inputs.js';
import { decryptSecret, encryptSecret, keyFor, SecretNotFoundError, SecretsKeyError, type Keyring, type SecretKey } from './crypto.js';

/** What `list` shows: never a value. */
export interface SecretListing {
  name: string;
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Result of a rotation. */
export interface RotationResult {
  keyId: string;
  rotated: number;
  alreadyCurrent: number;
  /** Rows changed concurrently by `set` (written under the new key already, or retried). */
  skipped: number;
}

function checkName(name: string): void {
  if (!SECRET_NAME_PATTERN.test(name)) throw new Error(`invalid secret name "${name}": use letters, digits and underscores, not starting with a digit`);
}

export class SecretStore {
  constructor(
    private readonly prisma: PrismaClient,
    private keyring: Keyring | null,
  ) {}

  private requireKeyring(): Keyring {
    if (!this.keyring) throw new SecretsKeyError('SECRETS_KEY is not set: secrets cannot be stored or read without it');
    return this.keyring;
  }

  /** Creates or replaces a secret. */
  async set(name: string, value: string): Promise<void> {
    checkName(name);
    const enc = encryptSecret(name, value, this.requireKeyring().current);
    const data = { keyId: enc.keyId, nonce: new Uint8Array(enc.nonce), ciphertext: new Uint8Array(enc.ciphertext), authTag: new Uint8Array(enc.authTag) };
    await this.prisma.actionSecret.upsert({ where: { name }, create: { name, ...data }, update: data });
  }

  /** Names only, sorted. */
  async list(): Promise<SecretListing[]> {
    return this.prisma.actionSecret.findMany({ select: { name: true, keyId: true, createdAt: true, updatedAt: true }, orderBy: { name: 'asc' } });
  }

  /** Deletes a secret; false when it did not exist. */
  async delete(name: string): Promise<boolean> {
    const { count } = await this.prisma.actionSecret.deleteMany({ where: { name } });
    return count > 0;
  }

  /** Decrypts only the requested names; names that do not exist are absent from the map. */
  async loadNames(names: Iterable<string>): Promise<Map<string, string>> {
    const wanted = [...new Set(names)];
    const out = new Map<string, string>();
    if (wanted.length === 0) return out;
    const keyring = this.requireKeyring();
    const rows = await this.prisma.actionSecret.findMany({ where: { name: { in: wanted } } });
    for (const row of rows) out.set(row.name, decryptSecret(row.name, { keyId: row.keyId, nonce: Buffer.from(row.nonce), ciphertext: Buffer.from(row.ciphertext), authTag: Buffer.from(row.authTag) }, keyring));
    return out;
  }

  /** Decrypts one secret or throws `SecretNotFoundError`. */
  async get(name: string): Promise<string> {
    const value = (await this.loadNames([name])).get(name);
    if (value === undefined) throw new SecretNotFoundError(name);
    return value;
  }

  /** Decrypts every secret (tools only; the worker uses `loadNames`). */
  async loadAll(): Promise<Map<string, string>> {
    const rows = await this.prisma.actionSecret.findMany({ select: { name: true } });
    return this.loadNames(rows.map((r) => r.name));
  }

  /**
   * Start-up check: when secrets are stored, a key must be configured and must decrypt one row of
   * every key id in use. Throws `SecretsKeyError` naming SECRETS_KEY otherwise.
   */
  async verifyKey(): Promise<{ secrets: number; keyIds: string[] }> {
    const count = await this.prisma.actionSecret.count();
    if (count === 0) return { secrets: 0, keyIds: [] };
    if (!this.keyring) throw new SecretsKeyError(`${count} stored secret(s) exist but SECRETS_KEY is not set: refusing to start`);
    const groups = await this.prisma.actionSecret.groupBy({ by: ['keyId'] });
    const keyIds = groups.map((g) => g.keyId).sort();
    for (const keyId of keyIds) {
      if (!keyFor(this.keyring, keyId)) {
        throw new SecretsKeyError(`stored secrets use key id ${keyId}, but SECRETS_KEY has id ${this.keyring.current.id} and SECRETS_OLD_KEYS does not list it: refusing to start`);
      }
      const row = await this.prisma.actionSecret.findFirstOrThrow({ where: { keyId } });
      try {
        decryptSecret(row.name, { keyId: row.keyId, nonce: Buffer.from(row.nonce), ciphertext: Buffer.from(row.ciphertext), authTag: Buffer.from(row.authTag) }, this.keyring);
      } catch {
        throw new SecretsKeyError(`SECRETS_KEY${keyId === this.keyring.current.id ? '' : ' (or SECRETS_OLD_KEYS)'} is wrong: it does not decrypt the stored secrets of key id ${keyId}: refusing to start`);
      }
    }
    return { secrets: count, keyIds };
  }

  /**
   * Re-encrypts every secret under `newKey` (default: the keyring's current key) in one transaction,
   * decrypting with any key the keyring knows. Safe while the service runs: each row is updated only
   * if it has not changed since it was read, so a concurrent `set` is never overwritten. Afterwards
   * this store writes with `newKey` and still reads the old ones.
   */
  async rotate(newKey?: SecretKey): Promise<RotationResult> {
    const keyring = this.requireKeyring();
    const target = newKey ?? keyring.current;
    const readKeyring: Keyring = { current: target, previous: [keyring.current, ...keyring.previous].filter((k) => k.id !== target.id) };
    const result = await this.prisma.$transaction(async (tx) => {
      const rows = await tx.actionSecret.findMany();
      let rotated = 0;
      let alreadyCurrent = 0;
      let skipped = 0;
      for (const row of rows) {
        if (row.keyId === target.id) {
          alreadyCurrent++;
          continue;
        }
        const value = decryptSecret(row.name, { keyId: row.keyId, nonce: Buffer.from(row.nonce), ciphertext: Buffer.from(row.ciphertext), authTag: Buffer.from(row.authTag) }, readKeyring);
        const enc = encryptSecret(row.name, value, target);
        const { count } = await tx.actionSecret.updateMany({
          where: { id: row.id, keyId: row.keyId, updatedAt: row.updatedAt },
          data: { keyId: enc.keyId, nonce: new Uint8Array(enc.nonce), ciphertext: new Uint8Array(enc.ciphertext), authTag: new Uint8Array(enc.authTag) },
        });
        if (count === 1) rotated++;
        else skipped++;
      }
      return { keyId: target.id, rotated, alreadyCurrent, skipped };
    });
    this.keyring = readKeyring;
    return result;
  }
}
