/**
 * Envelope for action secrets: AES-256-GCM with a fresh 12-byte nonce per value, the key id stored
 * next to the ciphertext so keys can rotate, and the secret's name as additional authenticated
 * data, so a ciphertext copied onto another name's row fails to decrypt instead of leaking.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** One key: 32 bytes and its id. */
export interface SecretKey {
  id: string;
  key: Buffer;
}

/** The key new values are written with, plus older keys still accepted for reading. */
export interface Keyring {
  current: SecretKey;
  previous: SecretKey[];
}

/** What is stored for one secret. */
export interface EncryptedSecret {
  keyId: string;
  nonce: Buffer;
  ciphertext: Buffer;
  authTag: Buffer;
}

/** Start-up or decryption problem with the secrets key; the message names SECRETS_KEY. */
export class SecretsKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretsKeyError';
  }
}

/** A secret name that does not exist. */
export class SecretNotFoundError extends Error {
  constructor(readonly secretName: string) {
    super(`secret ${secretName} does not exist`);
    this.name = 'SecretNotFoundError';
  }
}

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;

function aad(name: string): Buffer {
  return Buffer.from(`incident-workflows/action-secret/v1/${name}`, 'utf8');
}

/** Parses a base64 32-byte key. */
export function parseKey(id: string, base64: string): SecretKey {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new SecretsKeyError(`SECRETS_KEY (key id ${id}): expected 32 bytes, base64-encoded (openssl rand -base64 32), got ${key.length}`);
  if (!id) throw new SecretsKeyError('SECRETS_KEY_ID must not be empty');
  return { id, key };
}

/** A new random key (for tests and `secrets rotate --generate`). */
export function generateKey(id: string): SecretKey {
  return { id, key: randomBytes(32) };
}

/**
 * The keyring from configuration: SECRETS_KEY / SECRETS_KEY_ID and SECRETS_OLD_KEYS
 * (`keyId:base64,keyId:base64`). Returns null when no key is configured.
 */
export function keyringFromConfig(config: { SECRETS_KEY?: string | undefined; SECRETS_KEY_ID?: string | undefined; SECRETS_OLD_KEYS?: string | undefined }): Keyring | null {
  if (!config.SECRETS_KEY) return null;
  const current = parseKey(config.SECRETS_KEY_ID ?? 'k1', config.SECRETS_KEY);
  const previous: SecretKey[] = [];
  for (const pair of (config.SECRETS_OLD_KEYS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = pair.indexOf(':');
    if (colon <= 0) throw new SecretsKeyError('SECRETS_OLD_KEYS: expected comma-separated keyId:base64key pairs');
    previous.push(parseKey(pair.slice(0, colon), pair.slice(colon + 1)));
  }
  return { current, previous };
}

/** Encrypts one value under `key`, bound to `name`. */
export function encryptSecret(name: string, plaintext: string, key: SecretKey): EncryptedSecret {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key.key, nonce);
  cipher.setAAD(aad(name));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId: key.id, nonce, ciphertext, authTag: cipher.getAuthTag() };
}

/** Finds the key a value was written with. */
export function keyFor(keyring: Keyring, keyId: string): SecretKey | undefined {
  if (keyring.current.id === keyId) return keyring.current;
  return keyring.previous.find((k) => k.id === keyId);
}

/**
 * Decrypts one value. Throws `SecretsKeyError` when the key id is unknown or the key does not
 * authenticate the value (wrong key, tampered row, or a row moved to another name).
 */
export function decryptSecret(name: string, stored: EncryptedSecret, keyring: Keyring): string {
  const key = keyFor(keyring, stored.keyId);
  if (!key) throw new SecretsKeyError(`secret ${name} is encrypted with key id ${stored.keyId}, which is not configured (SECRETS_KEY / SECRETS_OLD_KEYS)`);
  try {
    const decipher = createDecipheriv(ALGORITHM, key.key, stored.nonce);
    decipher.setAAD(aad(name));
    decipher.setAuthTag(stored.authTag);
    return Buffer.concat([decipher.update(stored.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretsKeyError(`secret ${name} cannot be decrypted with key id ${stored.keyId}: SECRETS_KEY is wrong or the row was tampered with`);
  }
}
