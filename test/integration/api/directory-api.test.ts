/** Teams, members and roles over HTTP: scopes, validation, JSON errors, audit rows, the OpenAPI document. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../../src/http/api/index.js';
import { startApi, type ApiHarness } from './harness.js';

describe('HTTP API v1: directory', () => {
  let api: ApiHarness;
  let admin: string;
  let reader: string;

  beforeAll(async () => {
    api = await startApi();
    admin = (await createApiToken(api.db.prisma, { name: 'provisioning', scopes: ['directory:read', 'directory:write'] })).token;
    reader = (await createApiToken(api.db.prisma, { name: 'dashboard', scopes: ['directory:read'] })).token;
  });
  afterAll(async () => {
    await api?.close();
  });

  it('documents every directory route with its scope', async () => {
    const doc = (await api.call('GET', '/openapi.json', { token: null })).body;
    expect(doc.paths['/teams'].post.security).toEqual([{ bearer: ['directory:write'] }]);
    expect(doc.paths['/users'].get.security).toEqual([{ bearer: ['directory:read'] }]);
    expect(doc.paths['/users/{user}'].patch.requestBody.content['application/json'].schema.properties.role.enum).toEqual(['ADMIN', 'MEMBER']);
    expect(Object.keys(doc.paths['/teams/{name}/members/{user}']).sort()).toEqual(['delete', 'post']);
  });

  it('needs the directory scopes: the all-incidents token and a read-only token cannot change it', async () => {
    const noScope = await api.call('GET', '/teams');
    expect(noScope.status).toBe(403);
    expect(noScope.body.error).toMatchObject({ code: 'forbidden', message: 'This token lacks the "directory:read" scope.' });
    expect((await api.call('GET', '/teams', { token: reader })).status).toBe(200);
    const write = await api.call('POST', '/teams', { token: reader, body: { name: 'nope' } });
    expect(write.status).toBe(403);
    expect(await api.db.prisma.team.count({ where: { name: 'nope' } })).toBe(0);
  });

  it('creates a team, sets up its people and roles, and answers errors as JSON with codes', async () => {
    const call = (method: string, path: string, body?: unknown) => api.call(method, path, { token: admin, ...(body !== undefined ? { body } : {}) });

    const created = await call('POST', '/teams', { name: 'search', slackChannelId: 'C0SEARCH' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/teams/search');
    expect(created.body).toMatchObject({ name: 'search', slackChannelId: 'C0SEARCH', teamsConversationId: null, memberCount: 0 });

    const duplicate = await call('POST', '/teams', { name: 'search' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toMatchObject({ code: 'conflict', field: 'name' });
    const badChannel = await call('POST', '/teams', { name: 'x', slackChannelId: '#general' });
    expect(badChannel.status).toBe(422);
    expect(badChannel.body.error).toMatchObject({ code: 'validation_failed', field: 'slackChannelId' });
    const extra = await call('POST', '/teams', { name: 'x', owner: 'me' });
    expect(extra.status).toBe(422);

    const patched = await call('PATCH', '/teams/search', { teamsConversationId: '19:search@thread.tacv2', name: 'search-infra' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'search-infra', slackChannelId: 'C0SEARCH', teamsConversationId: '19:search@thread.tacv2' });
    expect((await call('PATCH', '/teams/search-infra', {})).status).toBe(422);
    const unknownTeam = await call('PATCH', '/teams/serch', { slackChannelId: 'C0X1' });
    expect(unknownTeam.status).toBe(404);
    expect(unknownTeam.body.error).toMatchObject({ code: 'not_found', field: 'team' });

    // Dana is known only from chat so far (her first slash command created her as a MEMBER).
    const dana = await api.services.users.resolve({ platform: 'slack', platformUserId: 'U0DANA', name: 'dana' });
    const added = await call('POST', '/teams/search-infra/members/U0DANA');
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ added: true, team: { name: 'search-infra', memberCount: 1 }, user: { id: dana.userId, teams: ['search-infra'] } });
    const again = await call('POST', `/teams/search-infra/members/${dana.userId}`);
    expect(again.status).toBe(200);
    expect(again.body.added).toBe(false);
    const unknownUser = await call('POST', '/teams/search-infra/members/nobody%40example.com');
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.body.error).toMatchObject({ code: 'not_found', field: 'user' });

    const role = await call('PATCH', '/users/U0DANA', { role: 'ADMIN' });
    expect(role.status).toBe(200);
    expect(role.body).toMatchObject({ id: dana.userId, role: 'ADMIN', slackUserId: 'U0DANA' });
    expect((await call('PATCH', '/users/U0DANA', { role: 'OWNER' })).status).toBe(422);
    expect((await api.services.users.resolve({ platform: 'slack', platformUserId: 'U0DANA' })).role).toBe('ADMIN');

    const listed = await api.call('GET', '/users?team=search-infra', { token: reader });
    expect(listed.status).toBe(200);
    expect(listed.body.users.map((u: { name: string; role: string }) => [u.name, u.role])).toEqual([['dana', 'ADMIN']]);
    expect((await api.call('GET', '/users?role=OWNER', { token: reader })).status).toBe(400);
    const teams = await api.call('GET', '/teams', { token: reader });
    expect(teams.body.teams.map((t: { name: string; memberCount: number }) => [t.name, t.memberCount])).toEqual([
      ['payments', 0],
      ['search-infra', 1],
    ]);

    const removed = await call('DELETE', '/teams/search-infra/members/U0DANA');
    expect(removed.status).toBe(200);
    expect(removed.body.team.memberCount).toBe(0);
    const twice = await call('DELETE', '/teams/search-infra/members/U0DANA');
    expect(twice.status).toBe(404);

    const actions = (await api.db.prisma.auditLog.findMany({ where: { actor: 'api:provisioning' }, orderBy: { id: 'asc' }, select: { action: true } })).map((a) => a.action);
    expect(actions).toEqual(['team.create', 'team.update', 'team.member.add', 'user.role', 'team.member.remove']);
  });
});
