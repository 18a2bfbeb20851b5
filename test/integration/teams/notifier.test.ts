/**
 * The Teams notifier against the fake Bot Connector: one card per run updated in place, latest
 * revision wins, Teams' throttling answered with bounded retries (Retry-After honoured), a deleted
 * card re-posted, removed bots and missing conversations recorded without throwing, the per
 * conversation pace, and `chat.post` messages.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunView } from '../../../src/engine/ports.js';
import { lineWorkflow, seedExecution, seedWorkflow } from '../../helpers/worker-process-fixtures.js';
import { Activities, cardOf, startTeamsHarness, textOf, type TeamsHarness } from './harness.js';

const ROOM = '19:notifier-room@thread.tacv2';
const ALERTS = '19:notifier-alerts@thread.tacv2';

describe('TeamsNotifier', () => {
  let h: TeamsHarness;
  let room: Activities;
  let incidentId: string;
  let teamId: string;
  let workflowId: string;
  let revision = 1000;

  const view = (executionId: string, overrides: Partial<RunView> = {}): RunView => ({
    executionId,
    workflowId,
    workflowName: 'page-oncall',
    workflowVersion: 1,
    incident: { id: incidentId, number: 7, title: 'Queue backlog' },
    trigger: { type: 'manual', by: 'Ana' },
    status: 'RUNNING',
    steps: [{ nodeId: 'a1', label: 'Page on-call', kind: 'action', state: 'running' }],
    actions: ['cancel'],
    revision: ++revision,
    ...overrides,
  });

  const newExecution = async () =>
    seedExecution(h.db.prisma, workflowId, { teamId, incidentId, incidentCreatedAt: new Date().toISOString() }, lineWorkflow('page-oncall', 'http://127.0.0.1:9', ['a1']));

  const chatMessages = async (executionId: string) =>
    (await h.db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: executionId }, select: { chatMessages: true } })).chatMessages as Array<Record<string, unknown>>;

  const conversation = (conversationId: string) =>
    h.db.prisma.chatConversation.findUniqueOrThrow({ where: { platform_conversationId: { platform: 'TEAMS', conversationId } } });

  beforeAll(async () => {
    h = await startTeamsHarness();
    room = new Activities(h, ROOM);
    const team = await h.db.prisma.team.create({ data: { name: 'notifier-team', teamsConversationId: ALERTS } });
    teamId = team.id;
    const incident = await h.db.prisma.incident.create({
      data: { title: 'Queue backlog', teamId, channels: { create: { platform: 'TEAMS', channelId: ROOM } } },
    });
    incidentId = incident.id;
    workflowId = await seedWorkflow(h.db.prisma, lineWorkflow('page-oncall', 'http://127.0.0.1:9', ['a1'], { trigger: { type: 'manual' } }));
  }, 60_000);

  beforeEach(async () => {
    // Both conversations known and usable before each test.
    h.connector.removed.clear();
    h.connector.missing.clear();
    expect((await h.post(room.conversationUpdate('added'))).status).toBe(200);
    expect((await h.post(new Activities(h, ALERTS).conversationUpdate('added'))).status).toBe(200);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('posts one card per run, then updates it in place; older revisions are ignored; other platforms’ entries are kept', async () => {
    const executionId = await newExecution();
    await h.db.prisma.workflowExecution.update({ where: { id: executionId }, data: { chatMessages: [{ platform: 'slack', channel: 'C1', ts: '1.2' }] } });
    const first = view(executionId);
    await h.teams.notifier.publishProgress(first);
    const posts = h.connector.ok('send', ROOM).filter((c) => textOf(cardOf(c.body)).includes(executionId) || JSON.stringify(c.body).includes(executionId));
    expect(posts).toHaveLength(1);
    const stored = (await chatMessages(executionId)).find((m) => m.platform === 'teams')!;
    expect(stored).toMatchObject({ conversationId: ROOM, revision: first.revision });
    expect((await chatMessages(executionId)).some((m) => m.platform === 'slack')).toBe(true);

    const done = view(executionId, { status: 'COMPLETED', actions: [], steps: [{ nodeId: 'a1', label: 'Page on-call', kind: 'action', state: 'completed', durationMs: 1500 }] });
    await h.teams.notifier.publishProgress(done);
    const updates = h.connector.ok('update').filter((c) => c.activityId === stored.activityId);
    expect(updates).toHaveLength(1);
    expect(textOf(cardOf(updates[0]!.body))).toContain('Completed');

    const callsBefore = h.connector.calls.length;
    await h.teams.notifier.publishProgress({ ...first, revision: first.revision });
    expect(h.connector.calls.length).toBe(callsBefore);
    expect(h.connector.ok('send', ROOM).filter((c) => JSON.stringify(c.body).includes(executionId))).toHaveLength(1);
  });

  it('backs off on 429 (honouring Retry-After), 412, 502 and 504 and still delivers', async () => {
    const executionId = await newExecution();
    await h.teams.notifier.publishProgress(view(executionId));
    const { activityId } = (await chatMessages(executionId)).find((m) => m.platform === 'teams') as { activityId: string };
    const isMine = (c: { kind: string; activityId?: string }) => c.kind === 'update' && c.activityId === activityId;
    h.connector.failNext({ match: isMine, status: 429, headers: { 'retry-after': '1' } });
    h.connector.failNext({ match: isMine, status: 412 });
    h.connector.failNext({ match: isMine, status: 502 });
    await h.teams.notifier.publishProgress(view(executionId, { status: 'COMPLETED', actions: [] }));
    const attempts = h.connector.calls.filter(isMine).map((c) => c.status);
    expect(attempts).toEqual([429, 412, 502, 200]);
    const afterThrottle = h.connector.calls.filter(isMine);
    // Retry-After: 1 means the next attempt came at least about a second later.
    expect(afterThrottle[1]!.at - afterThrottle[0]!.at).toBeGreaterThanOrEqual(900);
    expect(h.logger.entries.some((e) => e.msg === 'teams: throttled or unavailable, retrying' && e.fields.status === 429)).toBe(true);

    // Bounded: a conversation that keeps answering 504 is given up on, without throwing.
    h.connector.failNext({ match: isMine, status: 504, times: 10 });
    await expect(h.teams.notifier.publishProgress(view(executionId, { status: 'COMPLETED', actions: [] }))).resolves.toBeUndefined();
    expect(h.connector.calls.filter((c) => isMine(c) && c.status === 504)).toHaveLength(4);
    expect((await conversation(ROOM)).lastError).toContain('504');
    expect((await conversation(ROOM)).removedAt).toBeNull();
  });

  it('re-posts the card when someone deleted it', async () => {
    const executionId = await newExecution();
    await h.teams.notifier.publishProgress(view(executionId));
    const before = (await chatMessages(executionId)).find((m) => m.platform === 'teams') as { activityId: string };
    h.connector.failNext({ match: (c) => c.kind === 'update' && c.activityId === before.activityId, status: 404, body: { error: { code: 'ActivityNotFound' } } });
    await h.teams.notifier.publishProgress(view(executionId, { status: 'FAILED', actions: ['retry'], error: 'boom' }));
    const after = (await chatMessages(executionId)).find((m) => m.platform === 'teams') as { activityId: string };
    expect(after.activityId).not.toBe(before.activityId);
    expect((await conversation(ROOM)).removedAt).toBeNull();
  });

  it('records a bot removed from the conversation (403) and never throws into the run', async () => {
    const executionId = await newExecution();
    h.connector.removed.add(ROOM);
    await expect(h.teams.notifier.publishProgress(view(executionId))).resolves.toBeUndefined();
    const row = await conversation(ROOM);
    expect(row.removedAt).toBeInstanceOf(Date);
    expect(row.lastError).toContain('403');
    // Not tried again while removed.
    const before = h.connector.calls.length;
    await h.teams.notifier.publishProgress(view(executionId));
    expect(h.connector.calls.length).toBe(before);
  });

  it('records a missing team channel (404) when alerting, without throwing', async () => {
    const executionId = await newExecution();
    h.connector.missing.add(ALERTS);
    const run = view(executionId, { status: 'FAILED', actions: ['retry'] });
    await expect(h.teams.notifier.notifyFailure({ run, teamId, assigneeId: null, authorId: null, error: 'HTTP 500' })).resolves.toBeUndefined();
    const row = await conversation(ALERTS);
    expect(row.removedAt).toBeInstanceOf(Date);
    expect(row.lastError).toContain('404');
  });

  it('records a send that fails at the network level (service URL gone) without marking the conversation removed', async () => {
    const executionId = await newExecution();
    const dead = 'http://127.0.0.1:9/';
    await h.db.prisma.chatConversation.update({
      where: { platform_conversationId: { platform: 'TEAMS', conversationId: ROOM } },
      data: { serviceUrl: dead },
    });
    await expect(h.teams.notifier.publishProgress(view(executionId))).resolves.toBeUndefined();
    const row = await conversation(ROOM);
    expect(row.lastError).toBeTruthy();
    expect(row.removedAt).toBeNull();
  });

  it('keeps to about 7 messages per second per conversation', async () => {
    const start = h.connector.calls.length;
    const refs = await Promise.all(
      Array.from({ length: 16 }, (_, i) => h.teams.notifier.postMessage({ incidentId, teamId, channel: 'incident' }, `message ${i}`)),
    );
    expect(new Set(refs.map((r) => r.ref)).size).toBe(16);
    const sent = h.connector.calls.slice(start).filter((c) => c.kind === 'send' && c.conversationId === ROOM);
    expect(sent).toHaveLength(16);
    // The feature is a rate bound: no one-second window holds more than 7 sends (+1 for timer jitter).
    for (const s of sent) expect(sent.filter((o) => o.at >= s.at && o.at < s.at + 1000).length).toBeLessThanOrEqual(8);
  });

  it('posts chat.post messages with mentions neutralised, to the incident or the team channel', async () => {
    const { ref } = await h.teams.notifier.postMessage({ incidentId, teamId, channel: 'team' }, 'Heads up @channel <at>Everyone</at>');
    const call = h.connector.ok('send', ALERTS).at(-1)!;
    expect(ref).toBe(call.responseId);
    expect(String(call.body.text)).not.toMatch(/@channel|<at>/);
    expect(String(call.body.text)).toContain('Heads up');
  });
});
