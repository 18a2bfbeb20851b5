/** `workflows validate|diff|apply|list|export|test`: workflows as code. */
import { mkdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { formatIssue } from '../../catalog/errors.js';
import { WorkflowCatalog, type LoadResult } from '../../catalog/WorkflowCatalog.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { formatChange, summarize, table } from '../format.js';
import type { RunAction } from '../program.js';
import { removeQueuedJobs } from '../queue.js';
import { dryRunCommand } from './dry-run.js';

function defaultAuthor(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}

/** Prints every issue as `file:line path: message` and fails. */
function failOnIssues(ctx: CliContext, loaded: LoadResult, what: string): void {
  if (loaded.issues.length === 0) return;
  for (const issue of loaded.issues) ctx.io.out(formatIssue(issue));
  const bad = new Set(loaded.issues.map((i) => i.file)).size;
  throw new CliError(`${loaded.issues.length} problem${loaded.issues.length === 1 ? '' : 's'} in ${bad} file${bad === 1 ? '' : 's'}; ${what}`);
}

function catalogFor(ctx: CliContext): WorkflowCatalog {
  return new WorkflowCatalog({
    logger: ctx.logger,
    onWorkflowsDisabled: (_workflowIds, executionIds) => removeQueuedJobs(ctx, executionIds),
  });
}

export function registerWorkflowCommands(program: Command, run: RunAction): void {
  const workflows = program.command('workflows').description('author workflows as code: validate, diff and apply a folder of workflow files');

  workflows
    .command('validate')
    .description('check every workflow file under <path>; prints file:line path: message per problem')
    .argument('<path>', 'folder (searched recursively for *.yml, *.yaml, *.json) or one file')
    .option('--offline', 'do not connect to the database (team names are not checked)')
    .action(
      run(async (ctx, dir: string, opts: { offline?: boolean }) => {
        const loaded = await new WorkflowCatalog().loadFolder(dir, opts.offline ? {} : { prisma: ctx.prisma }).catch((error: unknown) => {
          if (error instanceof Error && /ECONNREFUSED|Can't reach database server/.test(error.message))
            throw new CliError('cannot connect to the database to check team names (check DATABASE_URL, or pass --offline to skip that check)');
          throw error;
        });
        failOnIssues(ctx, loaded, 'see above');
        ctx.io.out(`ok: ${loaded.documents.length} workflow${loaded.documents.length === 1 ? '' : 's'} valid${opts.offline ? ' (team names not checked)' : ''}`);
      }),
    );

  workflows
    .command('diff')
    .description('show what `apply` would change in the database')
    .argument('<path>', 'folder or file')
    .option('--prune', 'also show workflows that apply --prune would delete')
    .action(
      run(async (ctx, dir: string, opts: { prune?: boolean }) => {
        const catalog = catalogFor(ctx);
        const loaded = await catalog.loadFolder(dir, { prisma: ctx.prisma });
        failOnIssues(ctx, loaded, 'nothing compared');
        const changes = await catalog.diff(ctx.prisma, loaded.documents, { prune: Boolean(opts.prune) });
        for (const change of changes) ctx.io.out(formatChange(change, 'plan'));
        ctx.io.out(summarize(changes, 'plan'));
      }),
    );

  workflows
    .command('apply')
    .description('create or update every workflow under <path> in one transaction (all or nothing)')
    .argument('<path>', 'folder or file')
    .option('--author <name>', 'who applies (a user name or e-mail links the versions to that user)', defaultAuthor())
    .option('--prune', 'delete workflows that are in the database but in no file (their queued runs are cancelled)')
    .action(
      run(async (ctx, dir: string, opts: { author: string; prune?: boolean }) => {
        const catalog = catalogFor(ctx);
        const loaded = await catalog.loadFolder(dir, { prisma: ctx.prisma });
        failOnIssues(ctx, loaded, 'nothing applied');
        const result = await catalog.apply(ctx.prisma, loaded.documents, { author: opts.author, prune: Boolean(opts.prune) });
        for (const change of result.changes) ctx.io.out(formatChange(change, 'done'));
        if (result.cancelledExecutionIds.length > 0) ctx.io.out(`cancelled ${result.cancelledExecutionIds.length} queued run(s) of disabled or deleted workflows`);
        const wrote = result.created + result.updated + result.deleted;
        ctx.io.out(wrote === 0 ? `nothing to do: ${summarize(result.changes, 'done')}` : `applied by ${opts.author}: ${summarize(result.changes, 'done')}`);
      }),
    );

  workflows
    .command('list')
    .description('list the workflows in the database')
    .action(
      run(async (ctx) => {
        const rows = await ctx.prisma.workflow.findMany({
          where: { deletedAt: null },
          orderBy: { name: 'asc' },
          select: { id: true, name: true, enabled: true, triggerType: true, version: true, team: { select: { name: true } } },
        });
        const lastRuns = await ctx.prisma.$queryRaw<Array<{ workflowId: string; status: string; createdAt: Date }>>`
          SELECT DISTINCT ON ("workflowId") "workflowId", "status"::text AS "status", "createdAt"
          FROM "WorkflowExecution" ORDER BY "workflowId", "createdAt" DESC`;
        const last = new Map(lastRuns.map((r) => [r.workflowId, r]));
        if (rows.length === 0) {
          ctx.io.out('no workflows (apply a folder with `workflows apply <path>`)');
          return;
        }
        const lines = table(
          ['NAME', 'SCOPE', 'TRIGGER', 'ENABLED', 'VERSION', 'LAST RUN'],
          rows.map((r) => {
            const run = last.get(r.id);
            return [r.name, r.team?.name ?? 'global', r.triggerType, r.enabled ? 'yes' : 'no', `v${r.version}`, run ? `${run.status} ${run.createdAt.toISOString()}` : '-'];
          }),
        );
        for (const line of lines) ctx.io.out(line);
      }),
    );

  workflows
    .command('export')
    .description('write the stored workflows as YAML files into [dir] (or to stdout)')
    .argument('[dir]', 'folder to write <name>.yml files into; stdout when omitted')
    .action(
      run(async (ctx, dir: string | undefined) => {
        const exported = await new WorkflowCatalog().export(ctx.prisma);
        if (!dir) {
          ctx.io.out(exported.map((e) => e.yaml.trimEnd()).join('\n---\n'));
          return;
        }
        await mkdir(dir, { recursive: true });
        for (const e of exported) {
          const file = path.join(dir, e.fileName);
          await writeFile(file, e.yaml, 'utf8');
          ctx.io.out(`wrote ${file}`);
        }
        ctx.io.out(`exported ${exported.length} workflow${exported.length === 1 ? '' : 's'}`);
      }),
    );

  workflows
    .command('test')
    .description('dry run: would <name> match this incident, and what would each action receive (no side effects)')
    .argument('<name>', 'workflow name')
    .requiredOption('--incident <id|number>', 'incident id (uuid) or number')
    .option('--json', 'print the result as JSON')
    .action(run(dryRunCommand));
}
