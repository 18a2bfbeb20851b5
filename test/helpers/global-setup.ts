import { dropStaleTestDatabases, ensureTemplate } from './db.js';

/**
 * Vitest global setup: builds the migrated template database once per run (the workers then
 * clone it in `createTestDatabase()`), and clears test databases left by crashed runs.
 */
export default async function setup(): Promise<void> {
  await ensureTemplate();
  await dropStaleTestDatabases();
}
