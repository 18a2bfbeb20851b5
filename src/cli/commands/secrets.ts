/** `secrets set|list|delete|rotate` (placeholder until src/secrets/SecretStore.ts lands). */
import type { Command } from 'commander';
import type { RunAction } from '../program.js';

export function registerSecretCommands(_program: Command, _run: RunAction): void {}
