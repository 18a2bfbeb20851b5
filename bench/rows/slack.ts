/**
 * Rows 5 and 6: `/workflow run` acknowledgement under 200 commands in flight against the product's
 * Slack receiver (signed requests; the run is recorded and enqueued before the ack), versus a Bolt
 * app that only acknowledges; and the Slack Web API calls a 20-step run makes against a local
 * Slack that enforces the per-channel limits, versus one edit per step.
 */
import { randomBytes } from 'node:crypto';
import { trackCompletions } from '../completion.js';
import type { BenchEnv } from '../env.js';
import { applyWorkflows, createdEvent, seedIncident, seedTeam, webhookLine } from '../fixtures.js';
import { startHttpTarget } from '../http-target.js';
import { startProduct } from '../product.js';
import { startLimitedSlackApi } from '../slack-api.js';
import { measureAcks, startAckOnlyBolt } from '../slack-load.js';
import { quantile, type BenchRow } from '../stats.js';

const SECRET = 'bench-signing-secret-0123456789abcdef';
const USER = 'UBENCH0001';
const ACK_CHANNEL = 'CBENCHACK1';
const RUN_CHANNEL = 'CBENCHRUN1';

export interface SlackSizes {
  inFlight: number;
  /** Rounds of `inFlight` commands, alternating baseline and product. */
  rounds: number;
  /** 20-step runs, one after another. */
  chatRuns: number;
  chatSteps: number;
  /** How long each step's webhook takes to answer. */
  stepMs: number;
}

function commandFields(i: number, workflow: string): Record<string, string> {
  return {
    token: 'deprecated-verification-token',
    team_id: 'T0BENCH',
    team_domain: 'bench',
    channel_id: ACK_CHANNEL,
    channel_name: 'incident-bench',
    user_id: USER,
    user_name: 'bench',
    command: '/workflow',
    text: `run ${workflow}`,
    api_app_id: 'A0BENCH',
    is_enterprise_install: 'false',
    response_url: `http://127.0.0.1:9/response/${i}`,
    trigger_id: `${Date.now()}.${i}.${randomBytes(8).toString('hex')}`,
  };
}

export async function slackRows(env: BenchEnv, sizes: SlackSizes, log: (msg: string) => void): Promise<{ rows: BenchRow[] }> {
  const rows: BenchRow[] = [];
  const teamId = await seedTeam(env.prisma);
  const user = await env.prisma.user.create({ data: { name: 'Bench', slackUserId: USER } });
  await env.prisma.teamMember.create({ data: { teamId, userId: user.id } });
  const ackIncident = await seedIncident(env.prisma, teamId, 'ack', ACK_CHANNEL);
  const runIncident = await seedIncident(env.prisma, teamId, 'chat', RUN_CHANNEL);
  const fast = await startHttpTarget();
  const slow = await startHttpTarget({ delayMs: sizes.stepMs });
  await applyWorkflows(env.prisma, [
    webhookLine('bench-manual', 'ack', fast.url, 1, { type: 'manual' }),
    webhookLine('bench-twenty-steps', 'chat', slow.url, sizes.chatSteps),
  ]);
  const slack = await startLimitedSlackApi();

  // Row 5: web role only (no worker), so the acks measure the request path and nothing else.
  {
    const prefix = env.subPrefix('ack');
    const product = await startProduct(env, { prefix, slack: { apiUrl: slack.apiUrl, token: slack.token, signingSecret: SECRET } });
    const bolt = await startAckOnlyBolt(SECRET);
    try {
      const started = /Starting `bench-manual`/;
      let n = 0;
      // Warm-up round each.
      await measureAcks(bolt.url, SECRET, (i) => commandFields(n + i, 'bench-manual'), sizes.inFlight, 1);
      const warm = await measureAcks(product.slackEventsUrl!, SECRET, (i) => commandFields(n + i, 'bench-manual'), sizes.inFlight, 1, started);
      n += sizes.inFlight * 2;
      const base: number[] = [];
      const prod: number[] = [];
      let errors = warm.errors;
      let firstError: string | undefined = warm.firstError;
      for (let r = 0; r < sizes.rounds; r++) {
        log(`row 5: round ${r + 1}/${sizes.rounds}, ${sizes.inFlight} commands in flight each`);
        const b = await measureAcks(bolt.url, SECRET, (i) => commandFields(n + i, 'bench-manual'), sizes.inFlight, 1);
        n += sizes.inFlight;
        const p = await measureAcks(product.slackEventsUrl!, SECRET, (i) => commandFields(n + i, 'bench-manual'), sizes.inFlight, 1, started);
        n += sizes.inFlight;
        base.push(...b.latencies);
        prod.push(...p.latencies);
        errors += p.errors + b.errors;
        firstError ??= p.firstError ?? b.firstError;
      }
      const commands = sizes.inFlight * (sizes.rounds + 1);
      // A command answered "taking longer" finishes its work after the ack: give those a moment.
      let recorded = 0;
      let queued = 0;
      for (let waited = 0; waited < 15_000; waited += 250) {
        recorded = await env.prisma.workflowExecution.count({ where: { incidentId: ackIncident.id } });
        const counts = await product.queue.queue.getJobCounts('waiting', 'prioritized', 'delayed');
        queued = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
        if (recorded === commands && queued === commands) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      if (recorded !== commands || queued !== commands) errors += commands - Math.min(recorded, queued);
      // These runs were only for the acks: remove them, or the next worker's reconciler would
      // enqueue and run them (they have no job on its prefix) while row 6 is being measured.
      await env.prisma.workflowExecution.deleteMany({ where: { incidentId: ackIncident.id } });
      const p50 = quantile(prod, 0.5);
      const p99 = quantile(prod, 0.99);
      const b50 = quantile(base, 0.5);
      const b99 = quantile(base, 0.99);
      const note = `${commands} /workflow run commands, ${commands} runs recorded and ${queued} jobs queued; ${errors} answers were not "Starting ..." or not recorded${firstError ? ` (first: ${firstError})` : ''}`;
      rows.push(
        { metric: `5 /workflow run ack p50 (${sizes.inFlight} in flight)`, value: p50, baseline: b50, unit: 'ms', ratio: p50 / b50, target: 'info', met: errors === 0 },
        {
          metric: `5 /workflow run ack p99 (${sizes.inFlight} in flight)`,
          value: p99,
          baseline: b99,
          unit: 'ms',
          ratio: p99 / b99,
          target: '<= 1.5x and < 50 ms',
          met: errors === 0 && p99 <= 1.5 * b99 && p99 < 50,
          note,
        },
      );
    } finally {
      await bolt.close();
      await product.close();
    }
  }

  // Row 6: the worker publishes through the Slack notifier, with the product's default pacing.
  {
    const prefix = env.subPrefix('chat');
    log(`row 6: ${sizes.chatRuns} runs of ${sizes.chatSteps} steps (${sizes.stepMs} ms each) against a rate-limited Slack`);
    const product = await startProduct(env, { prefix, worker: { concurrency: 5 }, slack: { apiUrl: slack.apiUrl, token: slack.token, signingSecret: SECRET } });
    const tracker = await trackCompletions(env.redisUrl, prefix);
    try {
      const perRun: number[] = [];
      let limited = 0;
      let undelivered = 0;
      for (let r = 0; r < sizes.chatRuns; r++) {
        const before = slack.calls.length;
        const [id] = await product.services.dispatcher.emit(createdEvent(runIncident));
        await tracker.wait(id!);
        // The final state goes out after the run ends (coalesced, paced): wait until Slack shows it.
        const shownFinal = async () => {
          const row = await env.prisma.workflowExecution.findUniqueOrThrow({ where: { id: id! }, select: { chatMessages: true } });
          const stored = (row.chatMessages as Array<{ platform: string; channel: string; ts: string }>).find((m) => m.platform === 'slack');
          return stored ? (slack.messages.get(`${stored.channel}:${stored.ts}`) ?? '') : '';
        };
        for (let waited = 0; waited < 15_000 && !(await shownFinal()).startsWith('Completed:'); waited += 100) await new Promise((r) => setTimeout(r, 100));
        // Anything still on its way (there should be nothing) is counted too.
        await new Promise((r) => setTimeout(r, 1500));
        const calls = slack.calls.slice(before).filter((c) => c.channel === RUN_CHANNEL && (c.method === 'chat.postMessage' || c.method === 'chat.update'));
        perRun.push(calls.filter((c) => c.status === 200).length);
        limited += calls.filter((c) => c.status === 429).length;
        const row = await env.prisma.workflowExecution.findUniqueOrThrow({ where: { id: id! }, select: { chatMessages: true, status: true } });
        const stored = (row.chatMessages as Array<{ platform: string; channel: string; ts: string }>).find((m) => m.platform === 'slack');
        const shown = stored ? slack.messages.get(`${stored.channel}:${stored.ts}`) : undefined;
        if (row.status !== 'COMPLETED' || !shown?.startsWith('Completed: bench-twenty-steps')) undelivered++;
        log(`row 6: run ${r + 1} done, ${perRun[perRun.length - 1]} calls`);
      }
      const mean = perRun.reduce((a, b) => a + b, 0) / perRun.length;
      const ratio = mean / sizes.chatSteps;
      rows.push({
        metric: `6 Slack calls per ${sizes.chatSteps}-step run`,
        value: mean,
        baseline: sizes.chatSteps,
        unit: 'calls',
        ratio,
        target: '<= 0.2x, final shown, 0 x 429',
        met: ratio <= 0.2 && limited === 0 && undelivered === 0,
        note: `${sizes.chatRuns} runs, steps answering in ${sizes.stepMs} ms; calls per run ${perRun.join(', ')}; ${limited} answers were 429; ${undelivered} runs without their final state shown`,
      });
    } finally {
      await tracker.stop();
      await product.close();
    }
  }
  await slack.close();
  await fast.close();
  await slow.close();
  return { rows };
}
