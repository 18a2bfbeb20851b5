/**
 * SlackNotifier against a local Slack Web API and a real database: one message per run, edited in
 * place and coalesced (latest wins, final always delivered); a 429 with Retry-After pauses only that
 * channel and never holds the caller; posts are not retried on server errors (no duplicates);
 * failure alerts and chat.post messages go where they should.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/engine/errors.js';
import type { RunView } from '../../../src/engine/ports.js';
import { createSlackWebClient, SlackNotifier } from '../../../src/bot/slack/index.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { startFakeSlack, type FakeSlack } from '../../helpers/fake-slack.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { lineWorkflow, seedExecution, seedIncident, seedWorkflow, type Seeded } from '../../helpers/worker-process-fixtures.js';
import { buttonsOf, textOf } from './harness.js';

const CHANNEL_A = 'CROOMA001';
const CHANNEL_B = 'CROOMB001';
const ALERTS = 'CALERTS01';

describe('SlackNotifier', () => {
  let db: TestDatabase;
  let slack: FakeSlack;
  let logger: MemoryLogger;
  let notifier: SlackNotifier;
  let incidentA: Seeded;
  let incidentB: Seeded;
  let workflowId: string;
  const doc = lineWorkflow('notify', 'http://127.0.0.1:9', ['s1', 's2'], { trigger: { type: 'manual' } });

  const view = (executionId: string, incident: Seeded, revision: number, status: RunView['status'], extra: Partial<RunView> = {}): RunView => ({
    executionId,
    workflowId,
    workflowName: 'notify',
    workflowVersion: 1,
    incident: { id: incident.incidentId, number: 1, title: 'Database down' },
    trigger: { type: 'manual', by: 'Ana' },
    status,
    steps: [
      { nodeId: 's1', label: 's1', kind: 'action', state: revision > 1 ? 'completed' : 'running', durationMs: 120 },
      { nodeId: 's2', label: `s2 rev ${revision}`, kind: 'action', state: status === 'COMPLETED' ? 'completed' : status === 'FAILED' ? 'failed' : 'pending', ...(status === 'FAILED' ? { error: 'HTTP 500 <!channel>' } : {}) },
    ],
    actions: status === 'RUNNING' || status === 'PENDING' ? ['cancel'] : status === 'COMPLETED' ? [] : ['retry'],
    revision,
    ...extra,
  });

  const newExecution = (incident: Seeded) => seedExecution(db.prisma, workflowId, incident, doc);

  beforeAll(async () => {
    db = await createTestDatabase();
    slack = await startFakeSlack();
    incidentA = await seedIncident(db.prisma, { title: 'Database down' });
    incidentB = await seedIncident(db.prisma, { title: 'Queue stuck' });
    await db.prisma.team.update({ where: { id: incidentA.teamId }, data: { slackChannelId: ALERTS } });
    await db.prisma.incidentChannel.createMany({
      data: [
        { incidentId: incidentA.incidentId, platform: 'SLACK', channelId: CHANNEL_A },
        { incidentId: incidentB.incidentId, platform: 'SLACK', channelId: CHANNEL_B },
      ],
    });
    workflowId = await seedWorkflow(db.prisma, doc);
  }, 60_000);

  afterEach(async () => {
    await notifier?.flush();
  });

  afterAll(async () => {
    await slack?.close();
    await db?.drop();
  });

  const makeNotifier = (editIntervalMs = 200) => {
    logger = new MemoryLogger();
    notifier = new SlackNotifier({ client: createSlackWebClient(slack.token, slack.apiUrl, logger), prisma: db.prisma, logger, editIntervalMs });
    return notifier;
  };

  it('posts one message per run and coalesces a burst of edits; the final state always arrives', async () => {
    makeNotifier(200);
    const id = await newExecution(incidentA);
    const postsBefore = slack.ok('chat.postMessage', CHANNEL_A).length;
    const updatesBefore = slack.ok('chat.update', CHANNEL_A).length;
    for (let revision = 1; revision <= 30; revision++) await notifier.publishProgress(view(id, incidentA, revision, 'RUNNING'));
    await notifier.publishProgress(view(id, incidentA, 31, 'COMPLETED'));
    await notifier.flush();
    await slack.waitFor(() => textOf([...slack.messages.values()].find((m) => m.channel === CHANNEL_A && textOf(m as never).includes('s2 rev 31')) as never).includes('Completed'), 'the final state');

    const posts = slack.ok('chat.postMessage', CHANNEL_A).slice(postsBefore);
    expect(posts).toHaveLength(1);
    const updates = slack.ok('chat.update', CHANNEL_A).slice(updatesBefore);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(3);
    expect(textOf(updates.at(-1)!.args)).toContain('s2 rev 31');
    expect(buttonsOf(updates.at(-1)!.args as never)).toEqual([]);

    const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id }, select: { chatMessages: true } });
    expect(row.chatMessages).toEqual([{ platform: 'slack', channel: CHANNEL_A, ts: expect.stringMatching(/^\d+\.\d+$/), revision: 31 }]);
  });

  it('honours 429 Retry-After for one channel without blocking another channel or the caller', async () => {
    makeNotifier(50);
    const a = await newExecution(incidentA);
    const b = await newExecution(incidentB);
    await notifier.publishProgress(view(a, incidentA, 1, 'RUNNING'));
    await notifier.publishProgress(view(b, incidentB, 1, 'RUNNING'));
    await notifier.flush();

    slack.rateLimit({ method: 'chat.update', channel: CHANNEL_A, retryAfterSeconds: 1, times: 1 });
    const startedAt = Date.now();
    await notifier.publishProgress(view(a, incidentA, 2, 'COMPLETED'));
    // The caller (a worker) is not held: publishProgress returned while A's edit still waits for Retry-After.
    expect(slack.calls.filter((c) => c.method === 'chat.update' && c.args.channel === CHANNEL_A && c.status === 200 && c.at >= startedAt)).toHaveLength(0);
    await slack.waitFor(() => slack.calls.some((c) => c.method === 'chat.update' && c.args.channel === CHANNEL_A && c.status === 429 && c.at >= startedAt), 'the 429');
    await notifier.publishProgress(view(b, incidentB, 2, 'COMPLETED'));
    await notifier.flush();

    const after = slack.calls.filter((c) => c.method === 'chat.update' && c.at >= startedAt);
    const limited = after.find((c) => c.args.channel === CHANNEL_A && c.status === 429)!;
    const aDone = after.find((c) => c.args.channel === CHANNEL_A && c.status === 200)!;
    const bDone = after.find((c) => c.args.channel === CHANNEL_B && c.status === 200)!;
    expect(limited).toBeDefined();
    expect(aDone).toBeDefined();
    expect(bDone).toBeDefined();
    // B went through while A was paused; A waited out its Retry-After (1 s) and then got through once.
    expect(bDone.seq).toBeLessThan(aDone.seq);
    expect(aDone.at - limited.at).toBeGreaterThanOrEqual(900);
    expect(after.filter((c) => c.args.channel === CHANNEL_A && c.status === 200)).toHaveLength(1);
    expect(textOf(aDone.args)).toContain('Completed');
  });

  it('retries a rate-limited post (Slack did not post it) but never a post that failed otherwise', async () => {
    makeNotifier(50);
    const limitedRun = await newExecution(incidentB);
    slack.rateLimit({ method: 'chat.postMessage', channel: CHANNEL_B, retryAfterSeconds: 1 });
    await notifier.publishProgress(view(limitedRun, incidentB, 1, 'RUNNING'));
    await notifier.flush();
    const forLimited = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL_B);
    expect(forLimited.map((c) => c.status).slice(-2)).toEqual([429, 200]);
    const stored = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: limitedRun }, select: { chatMessages: true } });
    expect(stored.chatMessages).toEqual([expect.objectContaining({ channel: CHANNEL_B, revision: 1 })]);

    const failedRun = await newExecution(incidentB);
    const before = slack.calls.filter((c) => c.method === 'chat.postMessage').length;
    slack.fail({ method: 'chat.postMessage', status: 500 });
    await notifier.publishProgress(view(failedRun, incidentB, 1, 'RUNNING'));
    await notifier.flush();
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage').slice(before);
    expect(posts.map((c) => c.status)).toEqual([500]);
    expect(logger.entries.some((e) => e.level === 'warn' && e.msg === 'slack: run message not delivered')).toBe(true);
    const row = await db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: failedRun }, select: { chatMessages: true } });
    expect(row.chatMessages).toEqual([]);
  });

  it('alerts the team channel and DMs assignee and author, with Retry and no pings', async () => {
    makeNotifier();
    const ana = await db.prisma.user.create({ data: { name: 'Ana', slackUserId: 'UANA0001' } });
    const bob = await db.prisma.user.create({ data: { name: 'Bob', slackUserId: 'UBOB0001' } });
    const id = await newExecution(incidentA);
    slack.rateLimit({ method: 'conversations.open', retryAfterSeconds: 1 });
    const before = slack.calls.length;
    const alert = { run: view(id, incidentA, 3, 'FAILED', { finishedAt: new Date().toISOString() }), teamId: incidentA.teamId, assigneeId: ana.id, authorId: bob.id, failedStep: 's2', error: 'HTTP 500 <!channel>' };
    await notifier.notifyFailure(alert);
    // Reported twice (a redelivered job): alerted once.
    await notifier.notifyFailure(alert);
    const calls = slack.calls.slice(before).filter((c) => c.status === 200);
    const posts = calls.filter((c) => c.method === 'chat.postMessage');
    expect(posts.map((c) => c.args.channel).sort()).toEqual([ALERTS, 'DUANA0001', 'DUBOB0001']);
    expect(calls.filter((c) => c.method === 'conversations.open').map((c) => c.args.users).sort()).toEqual(['UANA0001', 'UBOB0001']);
    for (const post of posts) {
      expect(buttonsOf(post.args as never)).toEqual([{ action_id: 'run_retry', value: id, block_id: 'alert_actions' }]);
      const text = JSON.stringify(post.args);
      expect(text).toContain('Database down');
      expect(text).toContain('HTTP 500');
      expect(text).not.toContain('<!channel>');
    }
  });

  it('posts chat.post messages to the incident or team channel and refuses when none is bound', async () => {
    makeNotifier();
    const incident = await notifier.postMessage({ incidentId: incidentA.incidentId, teamId: incidentA.teamId, channel: 'incident' }, 'Hello @here <!everyone>');
    expect(incident.ref).toMatch(new RegExp(`^slack:${CHANNEL_A}:\\d+\\.\\d+$`));
    const team = await notifier.postMessage({ incidentId: incidentA.incidentId, teamId: incidentA.teamId, channel: 'team' }, 'To the team');
    expect(team.ref.startsWith(`slack:${ALERTS}:`)).toBe(true);
    const last = slack.ok('chat.postMessage', CHANNEL_A).at(-1)!;
    expect(JSON.stringify(last.args)).not.toMatch(/@here|<!everyone>/);
    const lonely = await seedIncident(db.prisma, { teamName: 'no-slack', title: 'Nowhere' });
    await expect(notifier.postMessage({ incidentId: lonely.incidentId, teamId: lonely.teamId, channel: 'team' }, 'x')).rejects.toBeInstanceOf(UserError);
    await expect(notifier.postMessage({ incidentId: lonely.incidentId, teamId: lonely.teamId, channel: 'incident' }, 'x')).rejects.toBeInstanceOf(UserError);
  });
});
