// Runs `prisma generate` offline. The Prisma CLI insists on downloading a native schema engine
// before it generates, even though the `prisma-client` generator with a driver adapter never uses
// it; it only checks that PRISMA_SCHEMA_ENGINE_BINARY names an existing file. We point it at this
// script so generation works on machines without access to Prisma's binary host.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fileURLToPath(import.meta.url),
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const result = spawnSync('npx', ['prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
