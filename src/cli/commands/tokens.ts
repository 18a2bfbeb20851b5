/** `tokens create|revoke|list` (placeholder until the app's token functions land). */
import type { Command } from 'commander';
import type { RunAction } from '../program.js';

export function registerTokenCommands(_program: Command, _run: RunAction): void {}
