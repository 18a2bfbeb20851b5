/**
 * `workflows test <name> --incident <id|number>`: the dry run of the application's
 * `RunService.dryRun` (the same one `/workflow run <name> --dry-run` uses in chat), printed for a
 * person or as JSON. Nothing is written or enqueued; the queue connection exists only because the
 * run service is wired with one.
 */
import { userInfo } from 'node:os';
import type { Actor } from '../../app/services.js';
import type { CliContext } from '../context.js';

function cliActor(): Actor {
  let name = 'cli';
  try {
    name = userInfo().username;
  } catch {
    // keep the default
  }
  return { userId: null, name, role: 'SYSTEM', platform: 'cli', teamIds: [] };
}

export async function dryRunCommand(ctx: CliContext, name: string, opts: { incident: string; json?: boolean }): Promise<void> {
  // Loaded here: the run service pulls in BullMQ, which the other commands do not need.
  const [{ createAppServices }, { createWorkflowQueue }, { WorkflowJobScheduler }, { PrismaWorkflowRepository }] = await Promise.all([
    import('../../app/create-app-services.js'),
    import('../../worker/queue.js'),
    import('../../worker/job-scheduler.js'),
    import('../../store/PrismaWorkflowRepository.js'),
  ]);
  const queue = createWorkflowQueue({ connection: ctx.config.REDIS_URL, prefix: ctx.config.QUEUE_PREFIX, logger: ctx.logger });
  ctx.onClose(() => queue.close());
  const services = createAppServices({
    prisma: ctx.prisma,
    scheduler: new WorkflowJobScheduler(queue, ctx.prisma, ctx.logger),
    repository: new PrismaWorkflowRepository(ctx.prisma),
    logger: ctx.logger,
  });
  const result = await services.runs.dryRun(cliActor(), opts.incident, name);
  if (opts.json) {
    ctx.io.out(JSON.stringify(result, null, 2));
    return;
  }
  ctx.io.out(`dry run of ${name} against incident ${opts.incident} (nothing is sent)`);
  if (result.matches) ctx.io.out('trigger and conditions: match');
  else {
    ctx.io.out('trigger and conditions: no match');
    for (const reason of result.reasons) ctx.io.out(`  - ${reason}`);
  }
  ctx.io.out(result.actions.length === 0 ? 'actions: none' : 'actions, in order:');
  for (const action of result.actions) {
    ctx.io.out(`  ${action.nodeId} (${action.action})`);
    for (const line of JSON.stringify(action.input, null, 2).split('\n')) ctx.io.out(`    ${line}`);
  }
}
