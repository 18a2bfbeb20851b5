import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken, revokeApiToken } from '../../../src/http/api/index.js';
import { ALL_SCOPES, startApi, workflowDoc, type ApiHarness } from './harness.js';

describe('HTTP API v1', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  const declare = (title: string, extra: Record<string, unknown> = {}) => api.call('POST', '/incidents', { body: { title, team: 'payments', ...extra } });

  describe('OpenAPI', () => {
    it('serves an OpenAPI 3.1 document generated from the request schemas, without a token', async () => {
      const res = await api.call('GET', '/openapi.json', { token: null });
      expect(res.status).toBe(200);
      expect(res.body.openapi).toBe('3.1.0');
      expect(Object.keys(res.body.paths).sort()).toEqual([
        '/executions',
        '/executions/{id}',
        '/executions/{id}/cancel',
        '/executions/{id}/retry',
        '/incidents',
        '/incidents/{id}',
        '/incidents/{id}/escalate',
        '/teams',
        '/teams/{name}',
        '/teams/{name}/members/{user}',
        '/users',
        '/users/{user}',
        '/workflows',
        '/workflows/{name}',
        '/workflows/{name}/disable',
        '/workflows/{name}/enable',
      ]);
      const create = res.body.paths['/incidents'].post.requestBody.content['application/json'].schema;
      expect(create.required).toEqual(['title', 'team']);
      expect(create.properties.priority.enum).toEqual(['P1', 'P2', 'P3', 'P4', 'P5']);
      expect(res.body.paths['/incidents'].post.responses['422'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    });
  });

  describe('authentication and scopes', () => {
    it('refuses a request without a token with 401 and a JSON error', async () => {
      const res = await api.call('GET', '/incidents', { token: null });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });

    it('refuses an unknown token and a revoked one with 401, and records lastUsedAt for a used one', async () => {
      expect((await api.call('GET', '/incidents', { token: 'iwt_not-a-real-token' })).status).toBe(401);
      const created = await createApiToken(api.db.prisma, { name: 'temp', scopes: ['incidents:read'] });
      expect((await api.call('GET', '/incidents', { token: created.token })).status).toBe(200);
      const used = await api.db.prisma.apiToken.findUniqueOrThrow({ where: { id: created.id } });
      expect(used.lastUsedAt).not.toBeNull();
      expect(used.tokenHash).not.toContain(created.token);
      expect(await revokeApiToken(api.db.prisma, created.id)).toBe(true);
      expect(await revokeApiToken(api.db.prisma, created.id)).toBe(false);
      const res = await api.call('GET', '/incidents', { token: created.token });
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/revoked/);
    });

    it('refuses a token without the needed scope with 403, for every kind of endpoint', async () => {
      const { token } = await createApiToken(api.db.prisma, { name: 'read-only', scopes: ['incidents:read'] });
      const cases: Array<[string, string, unknown?]> = [
        ['POST', '/incidents', { title: 'x', team: 'payments' }],
        ['PATCH', '/incidents/1', { status: 'resolved' }],
        ['POST', '/incidents/1/escalate'],
        ['GET', '/workflows'],
        ['GET', '/workflows/anything'],
        ['POST', '/workflows', { document: 'name: x' }],
        ['POST', '/workflows/anything/disable'],
        ['GET', '/executions'],
        ['GET', '/executions/00000000-0000-4000-8000-000000000000'],
        ['POST', '/executions/00000000-0000-4000-8000-000000000000/cancel'],
        ['POST', '/executions/00000000-0000-4000-8000-000000000000/retry'],
      ];
      for (const [method, path, body] of cases) {
        const res = await api.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
        expect({ method, path, status: res.status, code: res.body?.error?.code }).toEqual({ method, path, status: 403, code: 'forbidden' });
      }
      expect(await api.db.prisma.incident.count({ where: { title: 'x' } })).toBe(0);
    });

    it('refuses to create a token with an unknown scope', async () => {
      await expect(createApiToken(api.db.prisma, { name: 'bad', scopes: ['incidents:admin'] })).rejects.toThrow(/unknown scope/);
    });
  });

  describe('incidents', () => {
    it('declares an incident (201), audits it and emits incident_created to matching workflows', async () => {
      await api.services.workflows.apply(
        { userId: null, name: 'setup', role: 'SYSTEM', platform: 'cli', teamIds: [] },
        [{ file: 'w.json', text: JSON.stringify(workflowDoc('page-on-p1', { type: 'incident_created' }, [{ id: 'say', action: 'chat.post', input: { channel: 'team', text: 'P1: {{incident.title}}' } }], { conditions: [{ field: 'priority', value: 'P1' }] })) }],
      );
      const res = await declare('Database down', { priority: 'P1', metadata: { service: 'db' } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ title: 'Database down', priority: 'P1', status: 'open', teamName: 'payments', escalationLevel: 0, metadata: { service: 'db' } });
      expect(res.headers.get('location')).toBe(`/api/v1/incidents/${res.body.id}`);
      const runs = await api.db.prisma.workflowExecution.findMany({ where: { incidentId: res.body.id }, include: { workflow: true } });
      expect(runs.map((r) => [r.workflow.name, r.status, r.triggerType])).toEqual([['page-on-p1', 'PENDING', 'incident_created']]);
      expect(runs[0]!.executionChain).toEqual([runs[0]!.workflowId]);
      // The outbox row exists and its job was added to the queue.
      expect(await api.queue.getJob(runs[0]!.id)).toBeDefined();
      const audit = await api.db.prisma.auditLog.findMany({ where: { targetId: res.body.id } });
      expect(audit.map((a) => [a.action, a.actor])).toEqual([['incident.declare', 'api:alerting']]);

      // A P3 incident does not match the P1 condition.
      const p3 = await declare('Slow page');
      expect(p3.status).toBe(201);
      expect(p3.body.priority).toBe('P3');
      expect(await api.db.prisma.workflowExecution.count({ where: { incidentId: p3.body.id } })).toBe(0);
    });

    it('answers 422 naming the field for invalid bodies', async () => {
      const missing = await api.call('POST', '/incidents', { body: { team: 'payments' } });
      expect(missing.status).toBe(422);
      expect(missing.body.error).toMatchObject({ code: 'validation_failed', field: 'title' });
      const priority = await declare('x', { priority: 'P9' });
      expect(priority.status).toBe(422);
      expect(priority.body.error.field).toBe('priority');
      const team = await api.call('POST', '/incidents', { body: { title: 'x', team: 'nobody' } });
      expect(team.status).toBe(422);
      expect(team.body.error).toMatchObject({ field: 'team', message: expect.stringMatching(/No team nobody/) });
      const extra = await declare('x', { severity: 'high' });
      expect(extra.status).toBe(422);
      expect(await api.db.prisma.incident.count({ where: { title: 'x' } })).toBe(0);
    });

    it('answers 400 for malformed JSON, 413 for a body over 1 MiB and 415 for a non-JSON body', async () => {
      const malformed = await api.call('POST', '/incidents', { rawBody: '{"title": "x",', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('malformed_json');
      const big = await api.call('POST', '/incidents', { body: { title: 'big', team: 'payments', metadata: { blob: 'x'.repeat(1024 * 1024 + 10) } } });
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe('payload_too_large');
      const form = await api.call('POST', '/incidents', { rawBody: 'title=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(form.status).toBe(415);
      expect(await api.db.prisma.incident.count({ where: { title: { in: ['x', 'big'] } } })).toBe(0);
    });

    it('returns the first result for a repeated create with the same Idempotency-Key', async () => {
      const headers = { 'idempotency-key': 'alert-4711' };
      const first = await api.call('POST', '/incidents', { body: { title: 'Checkout errors', team: 'payments' }, headers });
      const second = await api.call('POST', '/incidents', { body: { title: 'Checkout errors', team: 'payments' }, headers });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(await api.db.prisma.incident.count({ where: { title: 'Checkout errors' } })).toBe(1);

      const different = await api.call('POST', '/incidents', { body: { title: 'Something else', team: 'payments' }, headers });
      expect(different.status).toBe(422);
      expect(different.body.error).toMatchObject({ code: 'idempotency_key_reused', field: 'Idempotency-Key' });
      expect(await api.db.prisma.incident.count({ where: { title: 'Something else' } })).toBe(0);

      // Keys are per token: another token's identical key creates its own incident.
      const other = await createApiToken(api.db.prisma, { name: 'other-alerting', scopes: ['incidents:write'] });
      const third = await api.call('POST', '/incidents', { token: other.token, body: { title: 'Checkout errors', team: 'payments' }, headers });
      expect(third.status).toBe(201);
      expect(third.body.id).not.toBe(first.body.id);
    });

    it('creates one incident when requests with the same key race', async () => {
      const headers = { 'idempotency-key': 'race-1' };
      const results = await Promise.all(Array.from({ length: 6 }, () => api.call('POST', '/incidents', { body: { title: 'Racing', team: 'payments' }, headers })));
      const statuses = results.map((r) => r.status);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      expect(statuses).toContain(201);
      const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
      expect(ids.size).toBe(1);
      expect(await api.db.prisma.incident.count({ where: { title: 'Racing' } })).toBe(1);
    });

    it('takes over a key whose first request was abandoned long ago (process died mid-request)', async () => {
      const principal = await api.db.prisma.apiToken.findFirstOrThrow({ where: { name: 'alerting' } });
      const { createHash } = await import('node:crypto');
      const id = `api:${principal.id}:${createHash('sha256').update('abandoned').digest('hex')}`;
      const body = { title: 'Abandoned', team: 'payments' };
      const { canonicalJson } = await import('../../../src/catalog/checksum.js');
      const fingerprint = createHash('sha256').update(`POST /api/v1/incidents\n${canonicalJson(body)}`).digest('hex');
      await api.db.prisma.processedEvent.create({ data: { id, source: 'api', result: { fingerprint, state: 'pending' }, createdAt: new Date(Date.now() - 10 * 60_000) } });
      const res = await api.call('POST', '/incidents', { body, headers: { 'idempotency-key': 'abandoned' } });
      expect(res.status).toBe(201);
      // A fresh pending record (a request still in flight) is not taken over.
      const fresh = `api:${principal.id}:${createHash('sha256').update('in-flight').digest('hex')}`;
      await api.db.prisma.processedEvent.create({ data: { id: fresh, source: 'api', result: { fingerprint, state: 'pending' } } });
      const busy = await api.call('POST', '/incidents', { body, headers: { 'idempotency-key': 'in-flight' } });
      expect(busy.status).toBe(409);
      expect(await api.db.prisma.incident.count({ where: { title: 'Abandoned' } })).toBe(1);
    });

    it('releases the key of a failed request so a corrected one can use it', async () => {
      const headers = { 'idempotency-key': 'retry-me' };
      expect((await api.call('POST', '/incidents', { body: { title: 'Fix me', team: 'nope' }, headers })).status).toBe(422);
      const fixed = await api.call('POST', '/incidents', { body: { title: 'Fix me', team: 'payments' }, headers });
      expect(fixed.status).toBe(201);
    });

    it('lists, filters and gets incidents by id and by number; 404 for unknown ones; 400 for a bad filter', async () => {
      const created = (await declare('Listed one')).body;
      const list = await api.call('GET', '/incidents?limit=100');
      expect(list.status).toBe(200);
      expect(list.body.incidents.map((i: { id: string }) => i.id)).toContain(created.id);
      const numbers = list.body.incidents.map((i: { number: number }) => i.number);
      expect(numbers).toEqual([...numbers].sort((a: number, b: number) => b - a));
      expect((await api.call('GET', '/incidents?status=resolved')).body.incidents).toEqual([]);
      const bad = await api.call('GET', '/incidents?status=sleeping');
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe('status');

      expect((await api.call('GET', `/incidents/${created.id}`)).body.title).toBe('Listed one');
      expect((await api.call('GET', `/incidents/${created.number}`)).body.id).toBe(created.id);
      const missing = await api.call('GET', '/incidents/999999');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');
      expect((await api.call('GET', '/incidents/not-an-id')).status).toBe(404);
    });

    it('PATCH changes status, priority and assignee; a status change emits state_changed with the previous state', async () => {
      await api.services.workflows.apply(
        { userId: null, name: 'setup', role: 'SYSTEM', platform: 'cli', teamIds: [] },
        [{ file: 'w.json', text: JSON.stringify(workflowDoc('on-mitigated', { type: 'state_changed', to: 'mitigated' }, [{ id: 'say', action: 'chat.post', input: { channel: 'incident', text: 'mitigated' } }])) }],
      );
      const user = await api.db.prisma.user.create({ data: { name: 'Ada' } });
      const incident = (await declare('Patch me')).body;
      const res = await api.call('PATCH', `/incidents/${incident.id}`, { body: { status: 'mitigated', priority: 'P2', assigneeId: user.id } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'mitigated', priority: 'P2', assigneeId: user.id, assigneeName: 'Ada' });
      const runs = await api.db.prisma.workflowExecution.findMany({ where: { incidentId: incident.id } });
      expect(runs).toHaveLength(1);
      expect(runs[0]!.triggerEvent).toMatchObject({ type: 'state_changed', previousState: 'open', newState: 'mitigated', actor: { kind: 'api', name: 'alerting' } });

      // The same status again is a no-op: no second run.
      expect((await api.call('PATCH', `/incidents/${incident.id}`, { body: { status: 'mitigated' } })).status).toBe(200);
      expect(await api.db.prisma.workflowExecution.count({ where: { incidentId: incident.id } })).toBe(1);

      const resolved = await api.call('PATCH', `/incidents/${incident.number}`, { body: { status: 'resolved' } });
      expect(resolved.body.status).toBe('resolved');
      expect((await api.db.prisma.incident.findUniqueOrThrow({ where: { id: incident.id } })).resolvedAt).not.toBeNull();
      // One audit row per PATCH that changed something (the three-field one is one change).
      const audits = await api.db.prisma.auditLog.findMany({ where: { targetId: incident.id, action: 'incident.update' }, orderBy: { id: 'asc' } });
      expect(audits.map((a) => Object.keys((a.details as { changes: object }).changes).sort())).toEqual([['assigneeId', 'priority', 'status'], ['status']]);
    });

    it('PATCH answers 422 for an invalid status, an empty change or an unknown assignee, and 404 for an unknown incident', async () => {
      const incident = (await declare('Bad patches')).body;
      const status = await api.call('PATCH', `/incidents/${incident.id}`, { body: { status: 'sleeping' } });
      expect(status.status).toBe(422);
      expect(status.body.error.field).toBe('status');
      const empty = await api.call('PATCH', `/incidents/${incident.id}`, { body: {} });
      expect(empty.status).toBe(422);
      const assignee = await api.call('PATCH', `/incidents/${incident.id}`, { body: { assigneeId: '3f1d2c4b-5a69-4e7f-8a9b-0c1d2e3f4a5b' } });
      expect(assignee.status).toBe(422);
      expect(assignee.body.error.field).toBe('assigneeId');
      // All or nothing: a valid status with an unknown assignee changes nothing.
      const mixed = await api.call('PATCH', `/incidents/${incident.id}`, { body: { status: 'investigating', assigneeId: '3f1d2c4b-5a69-4e7f-8a9b-0c1d2e3f4a5b' } });
      expect(mixed.status).toBe(422);
      expect((await api.call('PATCH', '/incidents/999999', { body: { status: 'resolved' } })).status).toBe(404);
      expect((await api.call('GET', `/incidents/${incident.id}`)).body.status).toBe('open');
    });

    it('escalates (escalation event), and refuses a resolved incident with 409', async () => {
      await api.services.workflows.apply(
        { userId: null, name: 'setup', role: 'SYSTEM', platform: 'cli', teamIds: [] },
        [{ file: 'w.json', text: JSON.stringify(workflowDoc('on-escalation', { type: 'escalation' }, [{ id: 'say', action: 'chat.post', input: { channel: 'team', text: 'escalated' } }])) }],
      );
      const incident = (await declare('Escalate me')).body;
      const res = await api.call('POST', `/incidents/${incident.id}/escalate`);
      expect(res.status).toBe(200);
      expect(res.body.escalationLevel).toBe(1);
      const runs = await api.db.prisma.workflowExecution.findMany({ where: { incidentId: incident.id }, include: { workflow: true } });
      expect(runs.map((r) => [r.workflow.name, r.triggerType])).toEqual([['on-escalation', 'escalation']]);
      await api.call('PATCH', `/incidents/${incident.id}`, { body: { status: 'resolved' } });
      const refused = await api.call('POST', `/incidents/${incident.id}/escalate`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('conflict');
      expect((await api.call('POST', '/incidents/999999/escalate')).status).toBe(404);
    });
  });

  describe('workflows', () => {
    const doc = workflowDoc('api-managed', { type: 'manual' }, [{ id: 'note', action: 'chat.post', input: { channel: 'incident', text: 'hello {{incident.title}}' } }]);

    it('applies a document: 201 on create, 200 unchanged on a repeat, a new version on a change', async () => {
      const created = await api.call('POST', '/workflows', { body: { document: doc } });
      expect(created.status).toBe(201);
      expect(created.body.changes).toEqual([{ name: 'api-managed', action: 'create', fromVersion: null, toVersion: 1, changed: expect.any(Array) }]);
      expect(created.body.workflow).toMatchObject({ name: 'api-managed', version: 1, enabled: true, scope: 'payments', triggerType: 'manual' });
      const again = await api.call('POST', '/workflows', { body: { document: doc } });
      expect(again.status).toBe(200);
      expect(again.body.changes[0].action).toBe('unchanged');
      const yamlText = ['name: api-managed', 'team: payments', 'description: now in YAML', 'trigger: { type: manual }', 'nodes:', '  - { id: start, type: trigger }', '  - id: note', '    type: action', '    action: chat.post', '    input: { channel: team, text: hi }', 'edges:', '  - { from: start, to: note }', ''].join('\n');
      const updated = await api.call('POST', '/workflows', { body: { document: yamlText } });
      expect(updated.status).toBe(200);
      expect(updated.body.changes[0]).toMatchObject({ action: 'update', fromVersion: 1, toVersion: 2 });
      expect(await api.db.prisma.workflowVersion.count({ where: { workflow: { name: 'api-managed' } } })).toBe(2);
    });

    it('refuses an invalid document with 422 naming the offending path, and writes nothing', async () => {
      const bad = { ...doc, name: 'broken-one', edges: [{ from: 'start', to: 'ghost' }] };
      const res = await api.call('POST', '/workflows', { body: { document: bad } });
      expect(res.status).toBe(422);
      expect(res.body.error.field).toMatch(/^document\.edges/);
      expect(res.body.error.details.length).toBeGreaterThan(0);
      expect(await api.db.prisma.workflow.count({ where: { name: 'broken-one' } })).toBe(0);
      const shape = await api.call('POST', '/workflows', { body: { doc } });
      expect(shape.status).toBe(422);
    });

    it('lists workflows with their last run, shows one with its document, 404 with suggestions for a typo', async () => {
      const list = await api.call('GET', '/workflows');
      expect(list.status).toBe(200);
      const names = list.body.workflows.map((w: { name: string }) => w.name);
      expect(names).toEqual([...names].sort());
      expect(names).toContain('api-managed');
      const paged = list.body.workflows.find((w: { name: string }) => w.name === 'page-on-p1');
      expect(paged.lastRun).toMatchObject({ status: 'PENDING' });

      const shown = await api.call('GET', '/workflows/api-managed');
      expect(shown.status).toBe(200);
      expect(shown.body.definition).toMatchObject({ name: 'api-managed', description: 'now in YAML' });
      const typo = await api.call('GET', '/workflows/api-manged');
      expect(typo.status).toBe(404);
      expect(typo.body.error.message).toContain('Did you mean "api-managed"');
    });

    it('disables a workflow, cancelling its queued runs and removing their jobs; enables it again', async () => {
      const incident = (await declare('Disable test', { priority: 'P1' })).body;
      const run = await api.db.prisma.workflowExecution.findFirstOrThrow({ where: { incidentId: incident.id, workflow: { name: 'page-on-p1' } } });
      expect(await api.queue.getJob(run.id)).toBeDefined();
      const res = await api.call('POST', '/workflows/page-on-p1/disable');
      expect(res.status).toBe(200);
      expect(res.body.enabled).toBe(false);
      const after = await api.db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: run.id } });
      expect(after.status).toBe('CANCELLED');
      expect(after.error).toBe('workflow disabled');
      expect(await api.queue.getJob(run.id)).toBeUndefined();
      // Disabled: a new P1 incident starts nothing.
      const next = (await declare('While disabled', { priority: 'P1' })).body;
      expect(await api.db.prisma.workflowExecution.count({ where: { incidentId: next.id } })).toBe(0);
      const enabled = await api.call('POST', '/workflows/page-on-p1/enable');
      expect(enabled.body.enabled).toBe(true);
      expect((await api.call('POST', '/workflows/nope/enable')).status).toBe(404);
      const audit = await api.db.prisma.auditLog.findFirstOrThrow({ where: { action: 'workflow.disable' } });
      expect((audit.details as { cancelledExecutions: string[] }).cancelledExecutions).toContain(run.id);
    });
  });

  describe('executions', () => {
    it('lists and gets runs with their node results; 404 for unknown ids; 400 for a bad filter', async () => {
      const incident = (await declare('Runs', { priority: 'P1' })).body;
      const list = await api.call('GET', `/executions?incidentId=${incident.id}`);
      expect(list.status).toBe(200);
      expect(list.body.executions).toHaveLength(1);
      const [run] = list.body.executions;
      expect(run).toMatchObject({ workflowName: 'page-on-p1', incidentId: incident.id, status: 'PENDING', nodeResults: {}, attempt: 1 });
      const byNumber = await api.call('GET', `/executions?incidentId=${incident.number}&status=PENDING`);
      expect(byNumber.body.executions.map((e: { id: string }) => e.id)).toEqual([run.id]);
      const one = await api.call('GET', `/executions/${run.id}`);
      expect(one.status).toBe(200);
      expect(one.body.id).toBe(run.id);
      expect((await api.call('GET', '/executions/00000000-0000-4000-8000-000000000000')).status).toBe(404);
      expect((await api.call('GET', '/executions/nope')).status).toBe(404);
      expect((await api.call('GET', '/executions?status=DONE')).status).toBe(400);
    });

    it('cancels a queued run (200), answers 409 for a finished one, retries a cancelled one (202) once', async () => {
      const incident = (await declare('Cancel me', { priority: 'P1' })).body;
      const run = await api.db.prisma.workflowExecution.findFirstOrThrow({ where: { incidentId: incident.id } });
      const cancelled = await api.call('POST', `/executions/${run.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toEqual({ outcome: 'cancelled', status: 'CANCELLED' });
      const again = await api.call('POST', `/executions/${run.id}/cancel`);
      expect(again.status).toBe(409);
      expect(again.body.error.details).toEqual({ outcome: 'already_finished', status: 'CANCELLED' });

      const retried = await api.call('POST', `/executions/${run.id}/retry`, { headers: { 'idempotency-key': 'r1' } });
      expect(retried.status).toBe(202);
      expect(retried.body.outcome).toBe('retrying');
      const row = await api.db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: run.id } });
      expect(row).toMatchObject({ status: 'PENDING', attempt: 2 });
      // The same key replays the first answer; a fresh retry is refused (already queued).
      const replay = await api.call('POST', `/executions/${run.id}/retry`, { headers: { 'idempotency-key': 'r1' } });
      expect(replay.status).toBe(202);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      const refused = await api.call('POST', `/executions/${run.id}/retry`);
      expect(refused.status).toBe(409);
      expect((await api.db.prisma.workflowExecution.findUniqueOrThrow({ where: { id: run.id } })).attempt).toBe(2);
      expect((await api.call('POST', '/executions/00000000-0000-4000-8000-000000000000/cancel')).status).toBe(404);
      expect((await api.call('POST', '/executions/00000000-0000-4000-8000-000000000000/retry')).status).toBe(404);
    });

    it('answers unknown endpoints with a JSON 404', async () => {
      const res = await api.call('GET', '/nothing-here');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    });
  });

  it('uses only scopes it knows', () => {
    expect(ALL_SCOPES).toHaveLength(6);
  });
});
