/**
 * Spawns `worker-process.ts` as a child process (a real, separately killable worker). The entry
 * is bundled once with esbuild (dependencies stay external) because loading the TypeScript graph
 * through tsx takes seconds per child, and the crash tests start dozens of them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let bundled: Promise<string> | null = null;

/** Bundles the child entry into node_modules/.cache (so bare imports resolve), once per test process. */
function bundle(): Promise<string> {
  bundled ??= (async () => {
    const dir = `${ROOT}node_modules/.cache/worker-process`;
    await mkdir(dir, { recursive: true });
    const outfile = `${dir}/entry-${process.pid}-${randomBytes(3).toString('hex')}.mjs`;
    await build({ entryPoints: [ENTRY], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'error' });
    process.once('exit', () => rmSync(outfile, { force: true }));
    return outfile;
  })();
  return bundled;
}

export interface ChildWorker {
  child: ChildProcess;
  pid: number;
  /** stderr so far (the child logs warnings and errors there). */
  stderr(): string;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export interface ChildWorkerEnv {
  DATABASE_URL: string;
  REDIS_URL: string;
  QUEUE_PREFIX: string;
  WORKER_CONCURRENCY?: string;
  LOCK_MS?: string;
  MAX_CRASHES?: string;
  SHUTDOWN_MS?: string;
  LOG_LEVEL?: string;
}

/** Starts a worker child and waits until it prints `ready`. */
export async function spawnWorker(env: ChildWorkerEnv, timeoutMs = 30_000): Promise<ChildWorker> {
  let entry = await bundle();
  if (!existsSync(entry)) {
    // Something cleaned node_modules/.cache (an npm install, another run): bundle again.
    bundled = null;
    entry = await bundle();
  }
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker child not ready after ${timeoutMs}ms: ${err.slice(-2000)}`)), timeoutMs);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`worker child exited early (${code ?? signal}): ${err.slice(-2000)}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    stderr: () => err,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
