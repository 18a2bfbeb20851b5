#!/usr/bin/env node
/**
 * The `incident-workflows` admin CLI.
 *
 * Runs the compiled CLI (dist/cli/main.js, made by `npm run build`) when it exists; otherwise it
 * loads the TypeScript source in this same process through tsx's ESM loader (a dev dependency),
 * so a checkout works without a build. In-process (no child process) keeps stdin, signals and
 * the exit code exactly those of the CLI. After changing the source, rebuild or delete dist/, or
 * the compiled copy keeps running.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('error: dist/cli/main.js is missing and tsx is not installed; run `npm run build` (or `npm install` for development)\n');
    process.exit(1);
  }
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
