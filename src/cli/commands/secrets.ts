/**
 * `secrets set|list|delete|rotate`: action secrets, encrypted with SECRETS_KEY. Values are read
 * from stdin (or `--value`) and never printed; `list` shows names only.
 */
import type { Command } from 'commander';
import { parseKey, keyringFromConfig, SecretsKeyError } from '../../secrets/crypto.js';
import { SecretStore } from '../../secrets/SecretStore.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT_CONFIG } from '../errors.js';
import { table } from '../format.js';
import type { RunAction } from '../program.js';
import { readHidden } from '../prompt.js';
import { readNamedVariable } from '../../config.js';

function storeFor(ctx: CliContext): SecretStore {
  try {
    return new SecretStore(ctx.prisma, keyringFromConfig(ctx.config));
  } catch (error) {
    if (error instanceof SecretsKeyError) throw new CliError(error.message, EXIT_CONFIG);
    throw error;
  }
}

/** Secret-store errors become one line; a key problem is a configuration problem (exit 2). */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof SecretsKeyError) throw new CliError(error.message, EXIT_CONFIG);
    if (error instanceof Error && /invalid secret name/.test(error.message)) throw new CliError(error.message);
    throw error;
  }
}

export function registerSecretCommands(program: Command, run: RunAction): void {
  const secrets = program.command('secrets').description('action secrets (encrypted with SECRETS_KEY; values are never shown)');

  secrets
    .command('set')
    .description('create or replace a secret; the value is read from stdin (hidden prompt on a terminal)')
    .argument('<name>', 'letters, digits and underscores, as used in {{secrets.NAME}}')
    .option('--value <value>', 'the value (visible in shell history and process lists: prefer stdin)')
    .action(
      run(async (ctx, name: string, opts: { value?: string }) => {
        let value = opts.value;
        if (value === undefined) {
          value = ctx.io.stdinIsTty ? await readHidden(`Value for ${name}: `) : (await ctx.io.readStdin()).replace(/\r?\n$/, '');
        }
        if (!value) throw new CliError('the secret value is empty (pipe it on stdin or pass --value)');
        const store = storeFor(ctx);
        const existed = (await store.list()).some((s) => s.name === name);
        await guarded(() => store.set(name, value));
        ctx.io.out(`secret ${name} ${existed ? 'replaced' : 'created'}`);
      }),
    );

  secrets
    .command('list')
    .description('list secret names (never values)')
    .action(
      run(async (ctx) => {
        const rows = await storeFor(ctx).list();
        if (rows.length === 0) {
          ctx.io.out('no secrets');
          return;
        }
        for (const line of table(['NAME', 'KEY ID', 'UPDATED'], rows.map((r) => [r.name, r.keyId, r.updatedAt.toISOString()]))) ctx.io.out(line);
      }),
    );

  secrets
    .command('delete')
    .description('delete a secret')
    .argument('<name>')
    .action(
      run(async (ctx, name: string) => {
        if (!(await storeFor(ctx).delete(name))) throw new CliError(`no secret named "${name}"`);
        ctx.io.out(`secret ${name} deleted`);
      }),
    );

  secrets
    .command('rotate')
    .description('re-encrypt every secret under a new key (safe while the service runs)')
    .requiredOption('--new-key-env <VAR>', 'environment variable holding the new key (32 bytes, base64: openssl rand -base64 32)')
    .option('--new-key-id <id>', 'id of the new key (default: k<date-time>)')
    .action(
      run(async (ctx, opts: { newKeyEnv: string; newKeyId?: string }) => {
        const raw = readNamedVariable(opts.newKeyEnv);
        if (!raw) throw new CliError(`${opts.newKeyEnv} is not set (it must hold the new key, base64-encoded)`, EXIT_CONFIG);
        const store = storeFor(ctx);
        const current = ctx.config.SECRETS_KEY_ID;
        const id = opts.newKeyId ?? `k${new Date().toISOString().replace(/\D/g, '').slice(0, 12)}`;
        if (id === current) throw new CliError(`the new key id must differ from the current SECRETS_KEY_ID (${current})`);
        let key;
        try {
          key = parseKey(id, raw);
        } catch (error) {
          throw new CliError(error instanceof Error ? error.message.replace('SECRETS_KEY', opts.newKeyEnv) : String(error), EXIT_CONFIG);
        }
        const result = await guarded(() => store.rotate(key));
        ctx.io.out(`rotated ${result.rotated} secret(s) to key id ${result.keyId} (${result.alreadyCurrent} already on it, ${result.skipped} changed meanwhile)`);
        ctx.io.out(`next: set SECRETS_KEY to the value of ${opts.newKeyEnv} and SECRETS_KEY_ID=${result.keyId}, and keep the old key in SECRETS_OLD_KEYS (${current}:<old key>) until every process has restarted`);
      }),
    );
}
