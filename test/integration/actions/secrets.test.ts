/** SecretStore and PrismaIntentStore against a real PostgreSQL database. */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrismaIntentStore } from '../../../src/integrations/PrismaIntentStore.js';
import { generateKey, keyringFromConfig, SecretsKeyError, type Keyring } from '../../../src/secrets/crypto.js';
import { SecretStore } from '../../../src/secrets/SecretStore.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

let db: TestDatabase;
const k1 = generateKey('k1');
const k2 = generateKey('k2');
const ring1: Keyring = { current: k1, previous: [] };

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());
beforeEach(async () => {
  await db.prisma.actionSecret.deleteMany();
});

async function rawRows(): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query('SELECT * FROM "ActionSecret" ORDER BY name')).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

describe('SecretStore', () => {
  it('stores values encrypted (fresh nonce each time), lists names only, loads only what is asked', async () => {
    const store = new SecretStore(db.prisma, ring1);
    await store.set('JIRA_API_TOKEN', 'canary-jira-value-123');
    await store.set('HOOK_KEY', 'canary-jira-value-123');
    const rows = await rawRows();
    expect(rows).toHaveLength(2);
    const dump = JSON.stringify(rows) + rows.map((r) => Buffer.from(r.ciphertext as Buffer).toString('utf8')).join('');
    expect(dump).not.toContain('canary-jira-value-123');
    expect(Buffer.from(rows[0]!.nonce as Buffer)).toHaveLength(12);
    expect(Buffer.from(rows[0]!.nonce as Buffer).equals(Buffer.from(rows[1]!.nonce as Buffer))).toBe(false);
    expect(rows.map((r) => r.keyId)).toEqual(['k1', 'k1']);

    const listing = await store.list();
    expect(listing.map((l) => l.name)).toEqual(['HOOK_KEY', 'JIRA_API_TOKEN']);
    expect(Object.keys(listing[0]!).sort()).toEqual(['createdAt', 'keyId', 'name', 'updatedAt']);

    expect(await store.loadNames(['JIRA_API_TOKEN', 'MISSING'])).toEqual(new Map([['JIRA_API_TOKEN', 'canary-jira-value-123']]));
    expect((await store.loadAll()).size).toBe(2);
    await store.set('HOOK_KEY', 'replaced');
    expect(await store.get('HOOK_KEY')).toBe('replaced');
    expect(await store.delete('HOOK_KEY')).toBe(true);
    expect(await store.delete('HOOK_KEY')).toBe(false);
    await expect(store.set('bad name', 'x')).rejects.toThrow(/invalid secret name/);
  });

  it('a ciphertext moved to another name does not decrypt (name is authenticated)', async () => {
    const store = new SecretStore(db.prisma, ring1);
    await store.set('A_SECRET', 'value-a');
    await store.set('B_SECRET', 'value-b');
    const a = await db.prisma.actionSecret.findUniqueOrThrow({ where: { name: 'A_SECRET' } });
    await db.prisma.actionSecret.update({ where: { name: 'B_SECRET' }, data: { nonce: a.nonce, ciphertext: a.ciphertext, authTag: a.authTag } });
    await expect(store.loadNames(['B_SECRET'])).rejects.toBeInstanceOf(SecretsKeyError);
  });

  it('verifyKey refuses to start with stored secrets and a missing or wrong key, naming SECRETS_KEY', async () => {
    expect(await new SecretStore(db.prisma, null).verifyKey()).toEqual({ secrets: 0, keyIds: [] });
    await new SecretStore(db.prisma, ring1).set('X_TOKEN', 'v');
    await expect(new SecretStore(db.prisma, null).verifyKey()).rejects.toThrow(/SECRETS_KEY is not set: refusing to start/);
    await expect(new SecretStore(db.prisma, { current: generateKey('k1'), previous: [] }).verifyKey()).rejects.toThrow(/SECRETS_KEY is wrong/);
    await expect(new SecretStore(db.prisma, { current: k2, previous: [] }).verifyKey()).rejects.toThrow(/key id k1, but SECRETS_KEY has id k2/);
    expect(await new SecretStore(db.prisma, ring1).verifyKey()).toEqual({ secrets: 1, keyIds: ['k1'] });
  });

  it('rotate re-encrypts every row under the new key while an old-key reader keeps working until it reloads', async () => {
    const store = new SecretStore(db.prisma, ring1);
    for (let i = 0; i < 5; i++) await store.set(`S_${i}`, `value-${i}`);
    // The running service after the new key was deployed: new key current, old key still accepted.
    const service = new SecretStore(db.prisma, { current: k2, previous: [k1] });
    expect(await service.get('S_0')).toBe('value-0');
    const result = await service.rotate();
    expect(result).toEqual({ keyId: 'k2', rotated: 5, alreadyCurrent: 0, skipped: 0 });
    expect((await rawRows()).map((r) => r.keyId)).toEqual(Array(5).fill('k2'));
    expect(await service.get('S_4')).toBe('value-4');
    expect(await new SecretStore(db.prisma, { current: k2, previous: [] }).verifyKey()).toEqual({ secrets: 5, keyIds: ['k2'] });
    await expect(new SecretStore(db.prisma, ring1).verifyKey()).rejects.toBeInstanceOf(SecretsKeyError);
    // Rotating again is a no-op.
    expect((await service.rotate()).alreadyCurrent).toBe(5);
  });

  it('rotate(newKey) from a store that only knows the old key', async () => {
    const store = new SecretStore(db.prisma, ring1);
    await store.set('ONLY', 'v1');
    expect((await store.rotate(k2)).rotated).toBe(1);
    expect(await store.get('ONLY')).toBe('v1');
    await store.set('NEXT', 'v2');
    expect((await rawRows()).map((r) => r.keyId)).toEqual(['k2', 'k2']);
  });

  it('keyringFromConfig reads SECRETS_KEY, SECRETS_KEY_ID and SECRETS_OLD_KEYS', () => {
    const b1 = k1.key.toString('base64');
    const b2 = k2.key.toString('base64');
    const ring = keyringFromConfig({ SECRETS_KEY: b2, SECRETS_KEY_ID: 'k2', SECRETS_OLD_KEYS: `k1:${b1}` });
    expect(ring?.current.id).toBe('k2');
    expect(ring?.previous.map((k) => k.id)).toEqual(['k1']);
    expect(keyringFromConfig({})).toBeNull();
    expect(() => keyringFromConfig({ SECRETS_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/SECRETS_KEY.*expected 32 bytes/);
  });
});

describe('PrismaIntentStore', () => {
  it('begin creates once, complete stores the result', async () => {
    const store = new PrismaIntentStore(db.prisma);
    const first = await store.begin('e:n', 'jira.create_issue');
    expect(first).toEqual({ created: true, record: { key: 'e:n', kind: 'jira.create_issue', state: 'pending', result: null } });
    const concurrent = await Promise.all([store.begin('e:m', 'k'), store.begin('e:m', 'k'), store.begin('e:m', 'k')]);
    expect(concurrent.filter((c) => c.created)).toHaveLength(1);
    expect((await store.begin('e:n', 'jira.create_issue')).created).toBe(false);
    await store.complete('e:n', { key: 'OPS-1' });
    expect(await store.get('e:n')).toEqual({ key: 'e:n', kind: 'jira.create_issue', state: 'done', result: { key: 'OPS-1' } });
    expect(await store.get('nope')).toBeNull();
  });
});
