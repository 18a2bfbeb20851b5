/**
 * Rows 5 and 6: `/workflow run` acknowledgement under 200 commands in flight against the product's
 * Slack receiver (signed requests, sent from a child process playing Slack), versus a Bolt app that
 * only acknowledges, measured through the same client; and the Slack Web API calls a 20-step run
 * makes against a local Slack that enforces the per-channel limits, versus one edit per step.
 *
 * The product acknowledges a command at once and does the work after the ack, answering through
 * the command's `response_url`. So row 5 also proves the work was done: every command's
 * response_url (a server in the load child) must receive "Starting `bench-manual`", every run must
 * be recorded and queued, and the note gives the p50/p99 of the time until that answer arrived.
 */
import { randomBytes } from 'node:crypto';
import { trackCompletions } from '../completion.js';
import type { BenchEnv } from '../env.js';
import { applyWorkflows, createdEvent, seedIncident, seedTeam, webhookLine } from '../fixtures.js';
import { startHttpTarget } from '../http-target.js';
import { startProduct } from '../product.js';
import { startLimitedSlackApi } from '../slack-api.js';
import { p50p99, startAckOnlyBolt, startLoadClient, type RoundResult } from '../slack-load.js';
import type { BenchRow } from '../stats.js';

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

function commandFields(i: number, workflow: string, responseUrl: string): Record<string, string> {
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
    response_url: responseUrl,
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

  // Row 5: web role only (no worker): the acks, then the post-ack work (claim, run recorded and
  // enqueued, response_url answer), and nothing else.
  {
    const prefix = env.subPrefix('ack');
    const product = await startProduct(env, { prefix, slack: { apiUrl: slack.apiUrl, token: slack.token, signingSecret: SECRET } });
    const bolt = await startAckOnlyBolt(SECRET);
    // BENCH_SLACK_LOAD=inprocess runs Slack's side in this process instead (to see what it costs).
    const load = await startLoadClient({ inProcess: process.env.BENCH_SLACK_LOAD === 'inprocess' });
    try {
      let n = 0;
      const commands = () => Array.from({ length: sizes.inFlight }, () => {
        const i = n++;
        return commandFields(i, 'bench-manual', load.responseUrl(`c${i}`));
      });
      const baselineRound = () => load.round({ url: bolt.url, secret: SECRET, commands: commands() });
      // Each product round waits for every answer, so no post-ack work spills into the next round.
      const productRound = () =>
        load.round({ url: product.slackEventsUrl!, secret: SECRET, commands: commands(), expectResponse: 'Starting `bench-manual`', responseTimeoutMs: 60_000 });
      // Warm-up round each (not counted in the latencies; its runs are checked like the others).
      await baselineRound();
      const checked: RoundResult[] = [await productRound()];
      const base: number[] = [];
      const prod: number[] = [];
      const answered: number[] = [];
      let baseErrors = 0;
      for (let r = 0; r < sizes.rounds; r++) {
        log(`row 5: round ${r + 1}/${sizes.rounds}, ${sizes.inFlight} commands in flight each`);
        const b = await baselineRound();
        const p = await productRound();
        base.push(...b.acks);
        prod.push(...p.acks);
        answered.push(...p.responses);
        baseErrors += b.ackErrors;
        checked.push(p);
      }
      const commandCount = sizes.inFlight * (sizes.rounds + 1);
      const ackErrors = checked.reduce((a, p) => a + p.ackErrors, 0) + baseErrors;
      const missing = checked.reduce((a, p) => a + p.missingResponses, 0);
      const wrong = checked.reduce((a, p) => a + p.wrongResponses, 0);
      const firstProblem = checked.map((p) => p.firstAckError ?? (p.firstWrongResponse ? `answer: ${p.firstWrongResponse}` : undefined)).find(Boolean);
      // "Starting ..." goes out after the run's transaction committed and its job was added, so by now
      // both counts are final (the loop only tolerates a slow count); a run without its job is an error.
      let recorded = 0;
      let queued = 0;
      for (let waited = 0; waited < 5_000; waited += 250) {
        recorded = await env.prisma.workflowExecution.count({ where: { incidentId: ackIncident.id } });
        const counts = await product.queue.queue.getJobCounts('waiting', 'prioritized', 'delayed');
        queued = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
        if (recorded === commandCount && queued === commandCount) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const notRun = commandCount - Math.min(recorded, queued);
      const errors = ackErrors + missing + wrong + Math.max(0, notRun);
      // These runs were only for the acks: remove them, or the next worker's reconciler would
      // enqueue and run them (they have no job on its prefix) while row 6 is being measured.
      await env.prisma.workflowExecution.deleteMany({ where: { incidentId: ackIncident.id } });
      const { p50, p99 } = p50p99(prod);
      const { p50: b50, p99: b99 } = p50p99(base);
      const answer = p50p99(answered);
      const problems = [
        ackErrors ? `${ackErrors} acks not 200` : '',
        missing ? `${missing} commands got no response_url answer` : '',
        wrong ? `${wrong} answers were not "Starting \`bench-manual\`"` : '',
        recorded !== commandCount ? `${commandCount - recorded} runs not recorded` : '',
        queued !== commandCount ? `${commandCount - queued} runs not queued` : '',
      ].filter(Boolean);
      const note =
        `${commandCount} /workflow run commands (${sizes.inFlight} at once, one warm-up round each side), sent from a child process playing Slack; ` +
        `acked at once, answered through response_url: "Starting \`bench-manual\`" arrived for ${commandCount - missing - wrong}, ` +
        `${recorded} runs recorded, ${queued} jobs queued; time until that answer p50 ${answer.p50.toFixed(0)} ms, p99 ${answer.p99.toFixed(0)} ms` +
        (problems.length ? `; ERRORS: ${problems.join(', ')}${firstProblem ? ` (first: ${firstProblem})` : ''}` : '; 0 errors');
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
      await load.close();
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
