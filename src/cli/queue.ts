/**
 * Removing queued jobs from Redis after the catalog cancelled their runs. Best effort: the runs
 * are already CANCELLED in PostgreSQL and the worker skips cancelled runs, so a Redis that is
 * down only leaves jobs that will be dropped when picked up.
 */
import type { CliContext } from './context.js';

export async function removeQueuedJobs(ctx: CliContext, executionIds: string[]): Promise<void> {
  if (executionIds.length === 0) return;
  const rows = await ctx.prisma.workflowExecution.findMany({ where: { id: { in: executionIds } }, select: { id: true, attempt: true } });
  // Loaded only when needed: BullMQ is heavy and most commands never touch Redis.
  const { createWorkflowQueue } = await import('../worker/queue.js');
  const queue = createWorkflowQueue({ connection: ctx.config.REDIS_URL, prefix: ctx.config.QUEUE_PREFIX, logger: ctx.logger });
  try {
    for (const row of rows) {
      const job = await queue.getJob(row.id, row.attempt);
      await job?.remove().catch((error: unknown) => ctx.logger.warn({ executionId: row.id, err: String(error) }, 'could not remove queued job'));
    }
  } finally {
    await queue.close();
  }
}
