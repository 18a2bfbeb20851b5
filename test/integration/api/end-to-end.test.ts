/**
 * The whole path with the real worker in-process: an incident created through the HTTP API
 * triggers a workflow that runs to completion; its incident.update emits state_changed carrying
 * the execution chain, which starts a chained workflow; a loop of two workflows is stopped by
 * cycle detection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppActions } from '../../../src/app/actions/index.js';
import type { ChatNotifier, FailureAlert, RunView } from '../../../src/engine/ports.js';
import { ActionRegistry } from '../../../src/integrations/ActionRegistry.js';
import { PrismaExecutionStore } from '../../../src/store/PrismaExecutionStore.js';
import { startWorkflowWorker, stopWorkflowWorker, type WorkflowWorkerHandle } from '../../../src/worker/worker.js';
import { REDIS_URL } from '../../helpers/redis.js';
import { startApi, waitFor, workflowDoc, type ApiHarness } from './harness.js';

class RecordingNotifier implements ChatNotifier {
  readonly posts: Array<{ target: { incidentId: string; teamId: string; channel: string }; text: string }> = [];
  readonly views: RunView[] = [];
  readonly alerts: FailureAlert[] = [];
  async publishProgress(view: RunView): Promise<void> {
    this.views.push(view);
  }
  async notifyFailure(alert: FailureAlert): Promise<void> {
    this.alerts.push(alert);
  }
  async postMessage(target: { incidentId: string; teamId: string; channel: 'incident' | 'team' }, text: string): Promise<{ ref: string }> {
    this.posts.push({ target, text });
    return { ref: `msg-${this.posts.length}` };
  }
}

describe('API to worker, end to end', () => {
  let api: ApiHarness;
  let worker: WorkflowWorkerHandle;
  const notifier = new RecordingNotifier();

  beforeAll(async () => {
    api = await startApi();
    const actions = new ActionRegistry(createAppActions({ prisma: api.db.prisma, incidents: api.services.incidents, notifier }));
    worker = await startWorkflowWorker({
      connection: REDIS_URL,
      prefix: api.prefix,
      prisma: api.db.prisma,
      store: new PrismaExecutionStore(api.db.prisma),
      actions,
      notifier,
      logger: api.logger,
      reconcileIntervalMs: 0,
      progressIntervalMs: 50,
      lockDurationMs: 5000,
    });
    await worker.worker.waitUntilReady();
  });

  afterAll(async () => {
    if (worker) await stopWorkflowWorker(worker, 5000);
    await api?.close();
  });

  const finished = (incidentId: string, count: number) =>
    waitFor(`${count} finished runs`, async () => {
      const runs = await api.db.prisma.workflowExecution.findMany({ where: { incidentId }, include: { workflow: true }, orderBy: { createdAt: 'asc' } });
      const done = runs.filter((r) => r.status === 'COMPLETED' || r.status === 'FAILED' || r.status === 'CANCELLED');
      return done.length >= count && runs.length === done.length ? runs : undefined;
    });

  it('an incident created through the API triggers a matching workflow that runs to completion, and its change chains another', async () => {
    const apply = (doc: Record<string, unknown>) => api.call('POST', '/workflows', { body: { document: doc } });
    expect(
      (
        await apply(
          workflowDoc(
            'ack-on-create',
            { type: 'incident_created' },
            [
              { id: 'announce', action: 'chat.post', input: { channel: 'incident', text: 'Working on {{incident.title}}' } },
              { id: 'ack', action: 'incident.update', input: { status: 'acknowledged', priority: 'P2' } },
            ],
            { conditions: [{ field: 'metadata.source', value: 'e2e' }] },
          ),
        )
      ).status,
    ).toBe(201);
    expect(
      (await apply(workflowDoc('tell-team-on-ack', { type: 'state_changed', to: 'acknowledged' }, [{ id: 'tell', action: 'chat.post', input: { channel: 'team', text: 'Incident #{{incident.number}} acknowledged' } }]))).status,
    ).toBe(201);

    const created = await api.call('POST', '/incidents', { body: { title: 'Queue backlog', team: 'payments', priority: 'P1', metadata: { source: 'e2e' } }, headers: { 'idempotency-key': 'e2e-1' } });
    expect(created.status).toBe(201);
    const incident = created.body;

    const runs = await finished(incident.id, 2);
    expect(runs.map((r) => [r.workflow.name, r.status])).toEqual([
      ['ack-on-create', 'COMPLETED'],
      ['tell-team-on-ack', 'COMPLETED'],
    ]);
    const [first, second] = runs;
    expect(first!.completedNodes).toEqual(['start', 'announce', 'ack']);
    expect(second!.executionChain).toEqual([first!.workflowId, second!.workflowId]);
    expect(second!.triggerEvent).toMatchObject({ type: 'state_changed', previousState: 'open', newState: 'acknowledged', actor: { kind: 'workflow', id: first!.id } });

    const after = await api.call('GET', `/incidents/${incident.id}`);
    expect(after.body).toMatchObject({ status: 'acknowledged', priority: 'P2' });
    const execution = await api.call('GET', `/executions/${first!.id}`);
    expect(execution.body.status).toBe('COMPLETED');
    expect(execution.body.nodeResults.ack).toMatchObject({ status: 'completed', output: { status: 'acknowledged', priority: 'P2' } });
    expect(execution.body.nodeResults.announce.output).toMatchObject({ ref: expect.stringMatching(/^msg-/), channel: 'incident' });
    expect(execution.body.steps.map((s: { nodeId: string; state: string }) => [s.nodeId, s.state])).toEqual([
      ['announce', 'completed'],
      ['ack', 'completed'],
    ]);

    expect(notifier.posts.filter((p) => p.target.incidentId === incident.id).map((p) => [p.target.channel, p.text])).toEqual([
      ['incident', 'Working on Queue backlog'],
      ['team', `Incident #${incident.number} acknowledged`],
    ]);
    // The run's final state reached the live message.
    expect(notifier.views.some((v) => v.executionId === first!.id && v.status === 'COMPLETED')).toBe(true);
    const view = await api.services.runs.view(first!.id);
    expect(view?.steps.map((s) => [s.nodeId, s.state])).toEqual([
      ['announce', 'completed'],
      ['ack', 'completed'],
    ]);
  });

  it('stops a loop of two workflows that keep changing the status: the first is not started again', async () => {
    const apply = (doc: Record<string, unknown>) => api.call('POST', '/workflows', { body: { document: doc } });
    const loop = { conditions: [{ field: 'metadata.source', value: 'loop' }] };
    await apply(workflowDoc('loop-a', { type: 'state_changed', to: 'investigating' }, [{ id: 'set', action: 'incident.update', input: { status: 'mitigated' } }], loop));
    await apply(workflowDoc('loop-b', { type: 'state_changed', to: 'mitigated' }, [{ id: 'set', action: 'incident.update', input: { status: 'investigating' } }], loop));
    const incident = (await api.call('POST', '/incidents', { body: { title: 'Flapping', team: 'payments', metadata: { source: 'loop' } } })).body;

    expect((await api.call('PATCH', `/incidents/${incident.id}`, { body: { status: 'investigating' } })).status).toBe(200);
    const runs = await finished(incident.id, 2);
    // Let the last status change's dispatch settle, then check nothing more started.
    await waitFor('final status', async () => (await api.db.prisma.incident.findUniqueOrThrow({ where: { id: incident.id } })).status === 'investigating');
    const all = await api.db.prisma.workflowExecution.findMany({ where: { incidentId: incident.id }, include: { workflow: true }, orderBy: { createdAt: 'asc' } });
    expect(all.map((r) => [r.workflow.name, r.status])).toEqual([
      ['loop-a', 'COMPLETED'],
      ['loop-b', 'COMPLETED'],
    ]);
    expect(runs[1]!.executionChain).toEqual([runs[0]!.workflowId, runs[1]!.workflowId]);
    const rejection = api.logger.entries.find((e) => e.msg === 'workflow rejected by cycle detection' && e.fields.workflowName === 'loop-a');
    expect(rejection?.fields.executionChain).toEqual([runs[0]!.workflowId, runs[1]!.workflowId]);
  });
});
