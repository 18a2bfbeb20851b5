/**
 * A local Jira Cloud REST v3 server with the real shapes: `POST /rest/api/3/issue` -> 201
 * `{ id, key, self }`, `POST /rest/api/3/search/jql` -> `{ issues, isLast }`, errors as
 * `{ errorMessages, errors }`, Basic authentication. It can be told to misbehave on the next
 * creates: create then drop the connection, create then answer 5xx, answer 429 with Retry-After.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeJiraIssue {
  id: string;
  key: string;
  fields: Record<string, unknown> & { labels: string[]; summary: string };
}

export interface JiraRecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export type JiraMisbehaviour =
  | { kind: 'create-then-drop' }
  | { kind: 'create-then-status'; status: number }
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  /** Answers 400 with an error text that echoes the request's Authorization header (scrubbing test). */
  | { kind: 'echo-auth-error' };

export class FakeJira {
  readonly issues: FakeJiraIssue[] = [];
  readonly requests: JiraRecordedRequest[] = [];
  readonly projects = new Set(['OPS']);
  private readonly queue: JiraMisbehaviour[] = [];
  private nextId = 10000;

  private constructor(
    private readonly server: http.Server,
    readonly credentials: { email: string; apiToken: string },
  ) {}

  static async start(credentials = { email: 'bot@example.com', apiToken: 'jira-token' }): Promise<FakeJira> {
    const server = http.createServer();
    const fake = new FakeJira(server, credentials);
    server.on('request', (req, res) => fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next `times` create requests misbehave this way. */
  misbehave(mode: JiraMisbehaviour, times = 1): void {
    for (let i = 0; i < times; i++) this.queue.push(mode);
  }

  creates(): JiraRecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/rest/api/3/issue');
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        return this.send(res, 400, { errorMessages: ['Unexpected character in request body'], errors: {} });
      }
      const path = (req.url ?? '').split('?')[0]!;
      this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const expected = `Basic ${Buffer.from(`${this.credentials.email}:${this.credentials.apiToken}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        return this.send(res, 401, { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} });
      }
      if (req.method === 'POST' && path === '/rest/api/3/issue') return this.createIssue(req, res, body);
      if (req.method === 'POST' && path === '/rest/api/3/search/jql') return this.search(res, body);
      const get = /^\/rest\/api\/3\/issue\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && get) {
        const issue = this.issues.find((i) => i.key === get[1] || i.id === get[1]);
        return issue ? this.send(res, 200, this.view(issue)) : this.send(res, 404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });
      }
      this.send(res, 404, { errorMessages: [`No route for ${req.method} ${path}`], errors: {} });
    });
  }

  private view(issue: FakeJiraIssue): Record<string, unknown> {
    return { id: issue.id, key: issue.key, self: `${this.url}/rest/api/3/issue/${issue.id}`, fields: issue.fields };
  }

  private createIssue(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): void {
    const fields = ((body as { fields?: Record<string, unknown> } | undefined)?.fields ?? {}) as Record<string, unknown>;
    const errors: Record<string, string> = {};
    const project = (fields.project as { key?: string } | undefined)?.key;
    if (!project) errors.project = "Field 'project' is required";
    else if (!this.projects.has(project)) errors.project = 'valid project is required';
    if (typeof fields.summary !== 'string' || fields.summary === '') errors.summary = 'You must specify a summary of the issue.';
    if (!(fields.issuetype as { name?: string } | undefined)?.name) errors.issuetype = 'Specify an issue type';
    if (fields.description !== undefined && (fields.description as { type?: string }).type !== 'doc') errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    if (Array.isArray(fields.labels) && fields.labels.some((l) => typeof l !== 'string' || /\s/.test(l))) errors.labels = 'The label cannot contain spaces.';
    const mode = this.queue[0];
    if (mode?.kind === 'rate-limit') {
      this.queue.shift();
      return this.send(res, 429, { errorMessages: ['Rate limit exceeded.'], errors: {} }, { 'retry-after': String(mode.retryAfterSeconds) });
    }
    if (mode?.kind === 'echo-auth-error') {
      this.queue.shift();
      return this.send(res, 400, { errorMessages: [`Bad request with header ${req.headers.authorization} and token ${this.credentials.apiToken}`], errors: {} });
    }
    if (Object.keys(errors).length > 0) return this.send(res, 400, { errorMessages: [], errors });
    const id = String(this.nextId++);
    const issue: FakeJiraIssue = {
      id,
      key: `${project}-${this.issues.length + 1}`,
      fields: { ...fields, labels: (fields.labels as string[] | undefined) ?? [], summary: fields.summary as string },
    };
    this.issues.push(issue);
    if (mode?.kind === 'create-then-drop') {
      this.queue.shift();
      req.socket.destroy();
      return;
    }
    if (mode?.kind === 'create-then-status') {
      this.queue.shift();
      return this.send(res, mode.status, { errorMessages: ['Gateway timeout'], errors: {} });
    }
    this.send(res, 201, { id, key: issue.key, self: `${this.url}/rest/api/3/issue/${id}` });
  }

  private search(res: http.ServerResponse, body: unknown): void {
    const jql = String((body as { jql?: unknown } | undefined)?.jql ?? '');
    const match = /^labels\s*=\s*"?([^"\s]+)"?$/.exec(jql.trim());
    if (!match) return this.send(res, 400, { errorMessages: [`Error in the JQL Query: unsupported by the fake: ${jql}`], errors: {} });
    const max = Number((body as { maxResults?: unknown }).maxResults ?? 50);
    const issues = this.issues.filter((i) => i.fields.labels.includes(match[1]!)).slice(0, max);
    this.send(res, 200, { issues: issues.map((i) => this.view(i)), isLast: true });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
