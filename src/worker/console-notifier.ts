/**
 * A `ChatNotifier` that writes to the log. Used when no chat platform is configured, so the
 * product runs end to end (and shows what it would have said) without Slack or Teams credentials.
 */
import { randomUUID } from 'node:crypto';
import type { ChatNotifier, FailureAlert, Logger, RunView } from '../engine/ports.js';

/** One line summary of a run: `deploy-rollback #12 RUNNING [ticket: completed, page: running]`. */
export function describeRun(view: RunView): string {
  const steps = view.steps.map((s) => `${s.label}: ${s.state}`).join(', ');
  return `${view.workflowName} on incident ${view.incident.number !== undefined ? `#${view.incident.number}` : view.incident.id} ${view.status}${steps ? ` [${steps}]` : ''}`;
}

export class ConsoleNotifier implements ChatNotifier {
  constructor(private readonly logger: Logger) {}

  async publishProgress(view: RunView): Promise<void> {
    this.logger.info(
      { executionId: view.executionId, workflowId: view.workflowId, status: view.status, revision: view.revision },
      `workflow run: ${describeRun(view)}`,
    );
  }

  async notifyFailure(alert: FailureAlert): Promise<void> {
    this.logger.warn(
      {
        executionId: alert.run.executionId,
        workflowId: alert.run.workflowId,
        teamId: alert.teamId,
        assigneeId: alert.assigneeId,
        authorId: alert.authorId,
        failedStep: alert.failedStep,
      },
      `workflow failed: ${alert.run.workflowName}${alert.failedStep ? ` at step "${alert.failedStep}"` : ''}: ${alert.error} (retry with /workflow retry ${alert.run.executionId})`,
    );
  }

  async postMessage(target: { incidentId: string; teamId: string; channel: 'incident' | 'team' }, text: string): Promise<{ ref: string }> {
    const ref = `console:${randomUUID()}`;
    this.logger.info({ incidentId: target.incidentId, teamId: target.teamId, channel: target.channel, ref }, `chat message: ${text}`);
    return { ref };
  }
}
