/**
 * A local Linear GraphQL endpoint answering the documents @linear/sdk sends: `mutation createIssue`
 * (IssuePayload: `{ issueCreate: { __typename, lastSyncId, issue: { id }, success } }`) and
 * `query issue` (the SDK's Issue fragment, enough for its model constructor). Like Linear, it
 * accepts a client-chosen issue `id` and rejects a second create with the same id. It can be told
 * to misbehave on the next creates.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLinearIssue {
  id: string;
  identifier: string;
  number: number;
  title: string;
  description?: string;
  priority: number;
  teamId: string;
  labelIds: string[];
  createdAt: string;
}

export interface LinearRecordedRequest {
  operation: string;
  headers: http.IncomingHttpHeaders;
  query: string;
  variables: Record<string, unknown>;
}

export type LinearMisbehaviour =
  | { kind: 'create-then-drop' }
  | { kind: 'create-then-status'; status: number }
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  | { kind: 'echo-auth-error' };

function gqlError(message: string, type: string, userPresentableMessage?: string): Record<string, unknown> {
  return { message, extensions: { type, code: type.toUpperCase().replace(/ /g, '_'), userError: true, ...(userPresentableMessage ? { userPresentableMessage } : {}) } };
}

export class FakeLinear {
  readonly issues: FakeLinearIssue[] = [];
  readonly requests: LinearRecordedRequest[] = [];
  readonly teams = new Map([['team-ops', 'OPS']]);
  private readonly queue: LinearMisbehaviour[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly apiKey: string,
  ) {}

  static async start(apiKey = 'lin_api_test'): Promise<FakeLinear> {
    const server = http.createServer();
    const fake = new FakeLinear(server, apiKey);
    server.on('request', (req, res) => fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/graphql`;
  }

  misbehave(mode: LinearMisbehaviour, times = 1): void {
    for (let i = 0; i < times; i++) this.queue.push(mode);
  }

  creates(): LinearRecordedRequest[] {
    return this.requests.filter((r) => r.operation === 'createIssue');
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let parsed: { query?: string; variables?: Record<string, unknown> };
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
      } catch {
        return this.send(res, 400, { errors: [gqlError('Invalid JSON', 'graphql error')] });
      }
      const query = parsed.query ?? '';
      const operation = /\b(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? '';
      const variables = parsed.variables ?? {};
      this.requests.push({ operation, headers: req.headers, query, variables });
      if (req.headers.authorization !== this.apiKey) {
        return this.send(res, 400, { errors: [gqlError('Authentication required, not authenticated', 'authentication error', 'You need to authenticate to access this operation.')] });
      }
      if (operation === 'createIssue') return this.createIssue(req, res, (variables.input ?? {}) as Record<string, unknown>);
      if (operation === 'issue') return this.issue(res, String(variables.id ?? ''));
      this.send(res, 400, { errors: [gqlError(`Operation ${operation} not supported by the fake`, 'graphql error')] });
    });
  }

  private createIssue(req: http.IncomingMessage, res: http.ServerResponse, input: Record<string, unknown>): void {
    const mode = this.queue[0];
    if (mode?.kind === 'rate-limit') {
      this.queue.shift();
      return this.send(res, 429, { errors: [gqlError('Rate limit exceeded', 'ratelimited')] }, { 'retry-after': String(mode.retryAfterSeconds) });
    }
    if (mode?.kind === 'echo-auth-error') {
      this.queue.shift();
      return this.send(res, 200, { data: null, errors: [gqlError(`Argument Validation Error for key ${req.headers.authorization}`, 'invalid input')] });
    }
    const teamId = String(input.teamId ?? '');
    const teamKey = this.teams.get(teamId);
    if (!teamKey) return this.send(res, 200, { data: null, errors: [gqlError('Entity not found: Team', 'invalid input', 'Could not find referenced Team.')] });
    if (typeof input.title !== 'string' || input.title === '') return this.send(res, 200, { data: null, errors: [gqlError('Argument Validation Error', 'invalid input', 'title should not be empty')] });
    const id = typeof input.id === 'string' ? input.id : crypto.randomUUID();
    if (this.issues.some((i) => i.id === id)) {
      return this.send(res, 200, { data: null, errors: [gqlError('Entity already exists', 'invalid input', 'An issue with this id already exists.')] });
    }
    const number = this.issues.filter((i) => i.teamId === teamId).length + 1;
    const issue: FakeLinearIssue = {
      id,
      identifier: `${teamKey}-${number}`,
      number,
      title: input.title,
      description: typeof input.description === 'string' ? input.description : undefined,
      priority: typeof input.priority === 'number' ? input.priority : 0,
      teamId,
      labelIds: Array.isArray(input.labelIds) ? (input.labelIds as string[]) : [],
      createdAt: new Date().toISOString(),
    };
    this.issues.push(issue);
    if (mode?.kind === 'create-then-drop') {
      this.queue.shift();
      req.socket.destroy();
      return;
    }
    if (mode?.kind === 'create-then-status') {
      this.queue.shift();
      return this.send(res, mode.status, { errors: [gqlError('Gateway timeout', 'internal error')] });
    }
    this.send(res, 200, { data: { issueCreate: { __typename: 'IssuePayload', lastSyncId: this.issues.length, issue: { id }, success: true } } });
  }

  private issue(res: http.ServerResponse, id: string): void {
    const issue = this.issues.find((i) => i.id === id || i.identifier === id);
    if (!issue) return this.send(res, 200, { data: null, errors: [gqlError('Entity not found: Issue', 'invalid input', 'Could not find referenced Issue.')] });
    this.send(res, 200, {
      data: {
        issue: {
          __typename: 'Issue',
          id: issue.id,
          identifier: issue.identifier,
          number: issue.number,
          title: issue.title,
          description: issue.description ?? null,
          priority: issue.priority,
          priorityLabel: ['No priority', 'Urgent', 'High', 'Medium', 'Low'][issue.priority],
          url: `https://linear.app/acme/issue/${issue.identifier}`,
          branchName: `${issue.identifier.toLowerCase()}`,
          createdAt: issue.createdAt,
          updatedAt: issue.createdAt,
          labelIds: issue.labelIds,
          team: { __typename: 'Team', id: issue.teamId },
          reactions: [],
          reactionData: {},
          sharedAccess: { isShared: false, sharedWithCount: 0, viewerHasOnlySharedAccess: false, disallowedIssueFields: [], sharedWithUsers: [] },
        },
      },
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
