/**
 * src/engine is pure (DESIGN.md): no Slack, Teams, BullMQ, Redis, Prisma, axios, Jira or Linear
 * module may be imported from it, statically, dynamically or through require.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const engineDir = fileURLToPath(new URL('../../src/engine/', import.meta.url));
const FORBIDDEN = [/^@slack\//, /^botbuilder/, /^bullmq$/, /^ioredis$/, /^@prisma\//, /^axios$/, /^jira\.js$/, /^@linear\/sdk$/, /^pg$/, /^express$/, /^pino$/];
const INTERNAL_FORBIDDEN = /(^|\/)(generated\/prisma|bot|worker|store|integrations)(\/|$)/;

/** Every module specifier in a source file: import/export from, import(), require(). */
function moduleSpecifiers(source: string): string[] {
  const patterns = [
    /\bimport\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?[^'";]*?\s+from\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  return patterns.flatMap((re) => [...source.matchAll(re)].map((m) => m[1] as string));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(c|m)?[jt]sx?$/.test(name) ? [path] : [];
  });
}

function violations(source: string): string[] {
  return moduleSpecifiers(source).filter((spec) => FORBIDDEN.some((re) => re.test(spec)) || (spec.startsWith('.') && INTERNAL_FORBIDDEN.test(spec.replace(/^(\.\.?\/)+/, ''))));
}

describe('engine boundary', () => {
  it('finds every kind of import the scan must catch', () => {
    const sample = [
      "import { App } from '@slack/bolt';",
      "import type { Job } from 'bullmq';",
      "import Redis from 'ioredis';",
      "export { PrismaClient } from '@prisma/client';",
      "const axios = await import('axios');",
      "const j = require('jira.js');",
      "import {\n  LinearClient,\n} from '@linear/sdk';",
      "import 'botbuilder';",
      "import { x } from '../generated/prisma/client.js';",
    ].join('\n');
    expect(violations(sample).sort()).toEqual(['../generated/prisma/client.js', '@linear/sdk', '@prisma/client', '@slack/bolt', 'axios', 'botbuilder', 'bullmq', 'ioredis', 'jira.js'].sort());
    expect(violations("import { z } from 'zod';\nimport { parse } from 'yaml';\nimport { x } from './graph.js';")).toEqual([]);
  });

  const files = filesUnder(engineDir);

  it('scans the engine sources', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files.map((f) => relative(engineDir, f)))('src/engine/%s imports nothing outside the boundary', (file) => {
    expect(violations(readFileSync(join(engineDir, file), 'utf8'))).toEqual([]);
  });
});
