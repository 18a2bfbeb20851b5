/** `secrets`, `tokens`, `migrate` and the bin entry, through the real CLI process. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { authenticateApiToken, hashApiToken } from '../../../src/http/api/tokens.js';
import { keyringFromConfig } from '../../../src/secrets/crypto.js';
import { SecretStore } from '../../../src/secrets/SecretStore.js';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { runCli } from './run-cli.js';

// Every CLI call is a fresh Node process compiling TypeScript; on a loaded machine that takes seconds.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 120_000 });

const KEY = randomBytes(32).toString('base64');
const CANARY = `canary-${randomBytes(12).toString('hex')}`;

let db: TestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url, SECRETS_KEY: KEY, SECRETS_KEY_ID: 'k1' };
});
afterAll(async () => {
  await db?.drop();
});

describe('secrets', () => {
  it('sets from stdin, lists names only, never prints the value, deletes', async () => {
    const set = await runCli(['secrets', 'set', 'JIRA_TOKEN'], env, { stdin: `${CANARY}\n` });
    expect(set.code).toBe(0);
    expect(set.stdout.trim()).toBe('secret JIRA_TOKEN created');
    const stored = await new SecretStore(db.prisma, keyringFromConfig({ SECRETS_KEY: KEY, SECRETS_KEY_ID: 'k1' })).get('JIRA_TOKEN');
    expect(stored).toBe(CANARY);
    const row = await db.prisma.actionSecret.findUniqueOrThrow({ where: { name: 'JIRA_TOKEN' } });
    expect(Buffer.from(row.ciphertext).toString('utf8')).not.toContain(CANARY);

    const list = await runCli(['secrets', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+KEY ID\s+UPDATED\nJIRA_TOKEN\s+k1\s+\S+\n$/);

    const replaced = await runCli(['secrets', 'set', 'JIRA_TOKEN', '--value', `${CANARY}-2`], env);
    expect(replaced.stdout.trim()).toBe('secret JIRA_TOKEN replaced');

    for (const output of [set, list, replaced]) {
      expect(output.stdout).not.toContain(CANARY);
      expect(output.stderr).not.toContain(CANARY);
    }

    const del = await runCli(['secrets', 'delete', 'JIRA_TOKEN'], env);
    expect(del.code).toBe(0);
    expect(await db.prisma.actionSecret.count()).toBe(0);
    const again = await runCli(['secrets', 'delete', 'JIRA_TOKEN'], env);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('error: no secret named "JIRA_TOKEN"');
  });

  it('refuses an empty value, a bad name and a missing key', async () => {
    const empty = await runCli(['secrets', 'set', 'EMPTY'], env, { stdin: '' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('empty');
    const badName = await runCli(['secrets', 'set', 'bad-name', '--value', 'x'], env);
    expect(badName.code).toBe(1);
    expect(badName.stderr.trim()).toMatch(/^error: invalid secret name "bad-name"/);
    const noKey = await runCli(['secrets', 'set', 'X', '--value', 'y'], { DATABASE_URL: db.url });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('SECRETS_KEY');
    expect(await db.prisma.actionSecret.count()).toBe(0);
  });

  it('rotates every secret to a new key read from the named variable, without printing it', async () => {
    await runCli(['secrets', 'set', 'A'], env, { stdin: CANARY });
    const newKey = randomBytes(32).toString('base64');
    const rotate = await runCli(['secrets', 'rotate', '--new-key-env', 'NEW_SECRETS_KEY', '--new-key-id', 'k2'], { ...env, NEW_SECRETS_KEY: newKey });
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toContain('rotated 1 secret(s) to key id k2');
    expect(rotate.stdout + rotate.stderr).not.toContain(newKey);
    expect(rotate.stdout + rotate.stderr).not.toContain(KEY);
    expect((await db.prisma.actionSecret.findUniqueOrThrow({ where: { name: 'A' } })).keyId).toBe('k2');
    const rotated = new SecretStore(db.prisma, keyringFromConfig({ SECRETS_KEY: newKey, SECRETS_KEY_ID: 'k2' }));
    expect(await rotated.get('A')).toBe(CANARY);

    const missing = await runCli(['secrets', 'rotate', '--new-key-env', 'UNSET_VAR'], { ...env, SECRETS_KEY: newKey, SECRETS_KEY_ID: 'k2' });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('error: UNSET_VAR is not set (it must hold the new key, base64-encoded)');
  });
});

describe('tokens', () => {
  it('creates a token shown once (only its hash stored), lists without values, revokes', async () => {
    const created = await runCli(['tokens', 'create', 'alertmanager', '--scope', 'incidents:write', '--scope', 'incidents:read', '--json'], env);
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as { id: string; name: string; scopes: string[]; token: string };
    expect(token).toMatchObject({ name: 'alertmanager', scopes: ['incidents:write', 'incidents:read'] });
    const row = await db.prisma.apiToken.findUniqueOrThrow({ where: { id: token.id } });
    expect(row.tokenHash).toBe(hashApiToken(token.token));
    expect(JSON.stringify(row)).not.toContain(token.token);
    expect(await authenticateApiToken(db.prisma, token.token)).toMatchObject({ tokenId: token.id });

    const list = await runCli(['tokens', 'list'], env);
    expect(list.stdout).toContain(token.id);
    expect(list.stdout).toContain('alertmanager');
    expect(list.stdout).not.toContain(token.token);
    expect(list.stdout).not.toContain(row.tokenHash);

    const revoke = await runCli(['tokens', 'revoke', token.id], env);
    expect(revoke.code).toBe(0);
    expect(await authenticateApiToken(db.prisma, token.token)).toBeNull();
    const again = await runCli(['tokens', 'revoke', token.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`error: no active token with id ${token.id}`);
    expect((await runCli(['tokens', 'list'], env)).stdout.trim()).toBe('no tokens');
  });

  it('prints the token for a person and refuses unknown scopes', async () => {
    const human = await runCli(['tokens', 'create', 'ci', '--scope', 'workflows:read,workflows:write'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^token: {2}iwt_\S+$/m);
    expect(human.stdout).toContain('scopes: workflows:read, workflows:write');
    const bad = await runCli(['tokens', 'create', 'x', '--scope', 'everything'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('unknown scope(s): everything');
  });
});

describe('migrate and the bin entry', () => {
  it('migrates an empty database, and is a no-op the second time', async () => {
    const empty = await createEmptyDatabase();
    try {
      const first = await runCli(['migrate'], { DATABASE_URL: empty.url });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^applied \d+ migration\(s\): /);
      const second = await runCli(['migrate'], { DATABASE_URL: empty.url });
      expect(second.code).toBe(0);
      expect(second.stdout.trim()).toBe('database is up to date');
    } finally {
      await empty.drop();
    }
  });

  it('bin/incident-workflows.js runs the CLI (help, exit codes)', async () => {
    const help = await runCli(['--help'], {}, { entry: ['bin/incident-workflows.js'] });
    expect(help.code).toBe(0);
    for (const command of ['workflows', 'secrets', 'tokens', 'migrate']) expect(help.stdout).toContain(command);
    const bad = await runCli(['workflows', 'validate', 'test/fixtures/workflows/broken', '--offline'], {}, { entry: ['bin/incident-workflows.js'] });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('b-dangling-edge.yml:17 edges[1].to:');
  });
});
