/**
 * Workflows as code: a folder of workflow files is the source of truth and the database follows
 * it. Used by the admin CLI (`workflows validate|diff|apply|list|export`) and by the HTTP API's
 * apply endpoint, so both check and write workflows the same way.
 *
 * - `loadFolder` / `parseSources` validate every file and report every problem (file, line, path).
 * - `diff` says what `apply` would do: create, update (which top-level fields), unchanged, and
 *   workflows in the database that the folder does not mention (deleted only with `prune`).
 * - `apply` writes everything in one transaction: each change is a new `WorkflowVersion`; a
 *   document whose checksum is unchanged writes nothing, so applying twice is a no-op.
 * - Disabling or pruning a workflow cancels its queued (PENDING) runs; the caller removes their
 *   jobs from Redis through `onWorkflowsDisabled` (the catalog knows nothing about BullMQ).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { canonicalJson, documentChecksum } from './checksum.js';
import { columnsOf, parseSource, type CatalogDocument, type CatalogSource } from './documents.js';
import { CatalogError, type CatalogIssue } from './errors.js';

export type { CatalogDocument, CatalogSource } from './documents.js';

/** Prisma, or a transaction client. */
export type CatalogDb = PrismaClient | Prisma.TransactionClient;

/** What loading a folder (or a set of texts) found. */
export interface LoadResult {
  /** Every workflow file considered, in the order they were read. */
  files: string[];
  /** The valid documents (a file with problems contributes none). */
  documents: CatalogDocument[];
  /** Every problem in every file; empty when all are valid. */
  issues: CatalogIssue[];
}

/** What happens (or would happen) to one workflow. */
export type ChangeAction = 'create' | 'update' | 'unchanged' | 'untracked' | 'delete';

export interface CatalogChange {
  action: ChangeAction;
  name: string;
  /** The file that defines it; null for workflows only in the database. */
  file: string | null;
  workflowId: string | null;
  /** Version in the database before; null when the workflow does not exist (or was deleted). */
  fromVersion: number | null;
  /** Version after applying (the same as `fromVersion` when nothing is written). */
  toVersion: number | null;
  /** For `update`: the top-level fields that differ (`trigger`, `nodes`, `enabled`, ...). */
  changed: string[];
}

export interface ApplyOptions {
  /** Who applied: a user's name or e-mail (linked to that user when one matches) or any label. */
  author: string;
  /** How the audit log names who applied (default `cli:<author>`; the HTTP API passes its own). */
  auditActor?: string;
  /** Delete (soft: `deletedAt`, disabled) workflows in the database that the documents do not mention. */
  prune?: boolean;
}

export interface ApplyResult {
  changes: CatalogChange[];
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Workflows that ended up disabled or deleted by this apply. */
  disabledWorkflowIds: string[];
  /** Queued runs of those workflows, now CANCELLED. */
  cancelledExecutionIds: string[];
}

/** An exported workflow: its stored document as YAML. */
export interface ExportedWorkflow {
  name: string;
  /** A file name derived from the workflow name (`<name>.yml`). */
  fileName: string;
  document: Record<string, unknown>;
  yaml: string;
}

export interface WorkflowCatalogOptions {
  /**
   * Called after a committed apply that disabled or deleted workflows, with their ids and the ids
   * of the queued runs it cancelled, so the caller can remove those jobs from the queue. A failure
   * here is logged, not thrown: the runs are already CANCELLED in the database and the worker
   * skips cancelled runs.
   */
  onWorkflowsDisabled?: (workflowIds: string[], cancelledExecutionIds: string[]) => Promise<void> | void;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

const WORKFLOW_FILE = /\.(ya?ml|json)$/i;
/** Serialises concurrent applies (any 32-bit constant unique to this purpose). */
const APPLY_LOCK_KEY = 80_861_502;
const TOP_LEVEL_ORDER = ['name', 'description', 'team', 'enabled', 'trigger', 'conditions', 'settings', 'nodes', 'edges'];
const NESTED_ORDER = ['id', 'type', 'name', 'action', 'field', 'value', 'seconds', 'from', 'to', 'branch', 'minutes', 'timeout', 'input', 'retry'];

/** The workflow catalog. Stateless apart from its options; safe to share. */
export class WorkflowCatalog {
  constructor(private readonly options: WorkflowCatalogOptions = {}) {}

  /**
   * Reads every `*.yml`, `*.yaml` and `*.json` under `dir` (recursively; a single file works too)
   * and validates each. With `prisma`, team names are resolved too (an unknown team is an issue).
   * Never throws for invalid workflows: look at `issues`.
   */
  async loadFolder(dir: string, options: { prisma?: CatalogDb } = {}): Promise<LoadResult> {
    const info = await stat(dir).catch(() => null);
    if (!info) return { files: [], documents: [], issues: [{ file: dir, path: '', message: 'no such file or folder' }] };
    const files = info.isDirectory() ? await listWorkflowFiles(dir) : [dir];
    if (files.length === 0) return { files, documents: [], issues: [{ file: dir, path: '', message: 'no workflow files (*.yml, *.yaml, *.json) found' }] };
    const sources: CatalogSource[] = [];
    for (const file of files) {
      sources.push({ file: displayPath(file), text: await readFile(file, 'utf8') });
    }
    return this.parseSources(sources, options);
  }

  /** Validates workflow texts (for callers that do not read a folder, such as the HTTP API). */
  async parseSources(sources: CatalogSource[], options: { prisma?: CatalogDb } = {}): Promise<LoadResult> {
    const documents: CatalogDocument[] = [];
    const issues: CatalogIssue[] = [];
    for (const source of sources) {
      const parsed = parseSource(source);
      if (parsed.document) documents.push(parsed.document);
      else issues.push(...parsed.issues);
    }
    issues.push(...duplicateIssues(documents));
    if (options.prisma) issues.push(...(await resolveTeams(options.prisma, documents)).issues);
    const invalid = new Set(issues.map((i) => i.file));
    return { files: sources.map((s) => s.file), documents: documents.filter((d) => !invalid.has(d.file)), issues };
  }

  /** What `apply` would do, without writing anything. */
  async diff(prisma: CatalogDb, documents: CatalogDocument[], options: { prune?: boolean } = {}): Promise<CatalogChange[]> {
    const { ids, issues } = await resolveTeams(prisma, documents);
    issues.push(...duplicateIssues(documents));
    if (issues.length > 0) throw new CatalogError(issues);
    return (await plan(prisma, documents, ids, options.prune ?? false)).changes;
  }

  /**
   * Creates or updates every document in one transaction (all or nothing). Each change writes a
   * new `WorkflowVersion` (document, checksum, version + 1, author, time) and updates the
   * `Workflow` row's denormalised columns. Throws `CatalogError` (and writes nothing) when a
   * document names an unknown team or two documents share a name.
   */
  async apply(prisma: PrismaClient, documents: CatalogDocument[], options: ApplyOptions): Promise<ApplyResult> {
    const duplicates = duplicateIssues(documents);
    if (duplicates.length > 0) throw new CatalogError(duplicates);
    const prune = options.prune ?? false;
    const result = await prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1)', APPLY_LOCK_KEY);
        const { ids: teamIds, issues } = await resolveTeams(tx, documents);
        if (issues.length > 0) throw new CatalogError(issues);
        const author = await resolveAuthor(tx, options.author);
        const { changes, rows } = await plan(tx, documents, teamIds, prune);
        const byName = new Map(documents.map((d) => [d.name, d]));
        const now = new Date();
        const disabled: string[] = [];
        const auditActor = options.auditActor ?? `cli:${author.name}`;

        for (const change of changes) {
          if (change.action === 'create' || change.action === 'update') {
            const doc = byName.get(change.name)!;
            const columns = columnsOf(doc.document);
            const row = rows.get(change.name);
            const data = {
              description: columns.description,
              teamId: doc.teamName === null ? null : teamIds.get(doc.teamName)!,
              enabled: columns.enabled,
              triggerType: columns.triggerType,
              trigger: columns.trigger as Prisma.InputJsonValue,
              conditions: columns.conditions as Prisma.InputJsonValue,
              definition: doc.document as unknown as Prisma.InputJsonValue,
              settings: columns.settings as Prisma.InputJsonValue,
              authorId: author.id,
              deletedAt: null,
            };
            let workflowId: string;
            let version: number;
            if (!row) {
              version = 1;
              workflowId = (await tx.workflow.create({ data: { name: doc.name, version, ...data }, select: { id: true } })).id;
            } else {
              const latest = await tx.workflowVersion.aggregate({ where: { workflowId: row.id }, _max: { version: true } });
              version = Math.max(row.version, latest._max.version ?? 0) + 1;
              workflowId = row.id;
              await tx.workflow.update({ where: { id: row.id }, data: { version, ...data } });
              if (row.enabled && !columns.enabled) disabled.push(row.id);
            }
            await tx.workflowVersion.create({
              data: {
                workflowId,
                version,
                document: doc.document as unknown as Prisma.InputJsonValue,
                checksum: doc.checksum,
                authorId: author.id,
                authorName: author.name,
                createdAt: now,
              },
            });
            await tx.auditLog.create({
              data: {
                actor: auditActor,
                action: change.action === 'create' ? 'workflow.created' : 'workflow.updated',
                targetType: 'workflow',
                targetId: workflowId,
                details: { name: doc.name, version, checksum: doc.checksum, changed: change.changed, file: doc.file },
              },
            });
            change.workflowId = workflowId;
            change.toVersion = version;
          } else if (change.action === 'delete') {
            const row = rows.get(change.name)!;
            await tx.workflow.update({ where: { id: row.id }, data: { enabled: false, deletedAt: now } });
            await tx.auditLog.create({
              data: { actor: auditActor, action: 'workflow.deleted', targetType: 'workflow', targetId: row.id, details: { name: row.name, version: row.version } },
            });
            disabled.push(row.id);
          }
        }

        const cancelled = disabled.length === 0 ? [] : await cancelQueuedRuns(tx, disabled, author.name, now);
        return { changes, disabled, cancelled };
      },
      // A large folder can take a while; the advisory lock makes other applies wait their turn.
      { timeout: 120_000, maxWait: 60_000 },
    );

    if (result.disabled.length > 0 && this.options.onWorkflowsDisabled) {
      try {
        await this.options.onWorkflowsDisabled(result.disabled, result.cancelled);
      } catch (error) {
        this.options.logger?.warn(
          { err: error, workflowIds: result.disabled },
          'could not remove queued jobs of disabled workflows; their runs are CANCELLED and will be skipped',
        );
      }
    }
    const count = (action: ChangeAction) => result.changes.filter((c) => c.action === action).length;
    this.options.logger?.info(
      { created: count('create'), updated: count('update'), deleted: count('delete'), author: options.author },
      'workflows applied',
    );
    return {
      changes: result.changes,
      created: count('create'),
      updated: count('update'),
      unchanged: count('unchanged'),
      deleted: count('delete'),
      disabledWorkflowIds: result.disabled,
      cancelledExecutionIds: result.cancelled,
    };
  }

  /** Every workflow's stored document as YAML (deleted workflows excluded), by name. */
  async export(prisma: CatalogDb): Promise<ExportedWorkflow[]> {
    const rows = await prisma.workflow.findMany({
      where: { deletedAt: null },
      orderBy: { name: 'asc' },
      select: { name: true, enabled: true, definition: true },
    });
    const used = new Set<string>();
    return rows.map((row) => {
      // The `enabled` column is the truth (it can be switched from chat); the document follows it.
      const document = orderKeys({ ...(row.definition as Record<string, unknown>), enabled: row.enabled }, TOP_LEVEL_ORDER) as Record<string, unknown>;
      let fileName = `${row.name.replace(/[^a-z0-9_-]/gi, '-')}.yml`;
      for (let n = 2; used.has(fileName); n++) fileName = `${row.name}-${n}.yml`;
      used.add(fileName);
      return { name: row.name, fileName, document, yaml: stringify(document, { lineWidth: 0 }) };
    });
  }
}

/** A path as the admin would type it: relative to the working directory when inside it. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** Every workflow file under `dir`, sorted; hidden folders and node_modules are skipped. */
async function listWorkflowFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    const entries = await readdir(current, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && WORKFLOW_FILE.test(entry.name)) out.push(full);
    }
  };
  await walk(dir);
  return out;
}

function duplicateIssues(documents: CatalogDocument[]): CatalogIssue[] {
  const first = new Map<string, CatalogDocument>();
  const issues: CatalogIssue[] = [];
  for (const doc of documents) {
    const seen = first.get(doc.name);
    if (!seen) {
      first.set(doc.name, doc);
      continue;
    }
    const seenLine = seen.lineOf(['name']);
    const line = doc.lineOf(['name']);
    issues.push({
      file: doc.file,
      ...(line === undefined ? {} : { line }),
      path: 'name',
      message: `duplicate workflow name "${doc.name}" (also defined in ${seen.file}${seenLine === undefined ? '' : `:${seenLine}`})`,
    });
  }
  return issues;
}

/** Team name -> id for every document's team; an unknown team is an issue at the `team` line. */
async function resolveTeams(db: CatalogDb, documents: CatalogDocument[]): Promise<{ ids: Map<string, string>; issues: CatalogIssue[] }> {
  const names = [...new Set(documents.map((d) => d.teamName).filter((n): n is string => n !== null))];
  const teams = names.length === 0 ? [] : await db.team.findMany({ where: { name: { in: names } }, select: { id: true, name: true } });
  const ids = new Map(teams.map((t) => [t.name, t.id]));
  const issues: CatalogIssue[] = [];
  for (const doc of documents) {
    if (doc.teamName === null || ids.has(doc.teamName)) continue;
    const line = doc.lineOf(['team']);
    issues.push({ file: doc.file, ...(line === undefined ? {} : { line }), path: 'team', message: `unknown team "${doc.teamName}"` });
  }
  return { ids, issues };
}

/** The stored user an author label names (by e-mail, then by a unique name), if any. */
async function resolveAuthor(db: CatalogDb, author: string): Promise<{ id: string | null; name: string }> {
  const name = author.trim() || 'unknown';
  const byEmail = await db.user.findUnique({ where: { email: name }, select: { id: true } });
  if (byEmail) return { id: byEmail.id, name };
  const byName = await db.user.findMany({ where: { name }, select: { id: true }, take: 2 });
  return { id: byName.length === 1 ? byName[0]!.id : null, name };
}

interface WorkflowRow {
  id: string;
  name: string;
  teamId: string | null;
  enabled: boolean;
  version: number;
  definition: unknown;
  deletedAt: Date | null;
}

/** Compares documents with the database. */
async function plan(db: CatalogDb, documents: CatalogDocument[], teamIds: Map<string, string>, prune: boolean): Promise<{ changes: CatalogChange[]; rows: Map<string, WorkflowRow> }> {
  const found = await db.workflow.findMany({
    select: { id: true, name: true, teamId: true, enabled: true, version: true, definition: true, deletedAt: true },
    orderBy: { name: 'asc' },
  });
  const rows = new Map(found.map((r) => [r.name, r as WorkflowRow]));
  const changes: CatalogChange[] = [];
  for (const doc of documents) {
    const row = rows.get(doc.name);
    const base = { name: doc.name, file: doc.file };
    if (!row || row.deletedAt) {
      changes.push({ ...base, action: 'create', workflowId: row?.id ?? null, fromVersion: null, toVersion: row ? row.version + 1 : 1, changed: [] });
      continue;
    }
    const changed = row.definition && typeof row.definition === 'object' && documentChecksum(row.definition) === doc.checksum ? [] : topLevelChanges(row.definition, doc.document);
    // The columns can drift from the document (a workflow disabled from chat); the folder wins.
    if (row.enabled !== doc.document.enabled && !changed.includes('enabled')) changed.push('enabled');
    const teamId = doc.teamName === null ? null : (teamIds.get(doc.teamName) ?? null);
    if (row.teamId !== teamId && !changed.includes('team')) changed.push('team');
    if (changed.length === 0) changes.push({ ...base, action: 'unchanged', workflowId: row.id, fromVersion: row.version, toVersion: row.version, changed });
    else changes.push({ ...base, action: 'update', workflowId: row.id, fromVersion: row.version, toVersion: row.version + 1, changed });
  }
  const named = new Set(documents.map((d) => d.name));
  for (const row of found) {
    if (named.has(row.name) || row.deletedAt) continue;
    changes.push({
      action: prune ? 'delete' : 'untracked',
      name: row.name,
      file: null,
      workflowId: row.id,
      fromVersion: row.version,
      toVersion: row.version,
      changed: [],
    });
  }
  return { changes, rows };
}

/** Top-level fields whose values differ, in document order. */
function topLevelChanges(before: unknown, after: Record<string, unknown> | object): string[] {
  const old = before && typeof before === 'object' && !Array.isArray(before) ? (before as Record<string, unknown>) : {};
  const now = after as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(now), ...Object.keys(old)])];
  keys.sort((a, b) => rank(a) - rank(b));
  return keys.filter((k) => canonicalJson(old[k]) !== canonicalJson(now[k]));
}

function rank(key: string): number {
  const i = TOP_LEVEL_ORDER.indexOf(key);
  return i === -1 ? TOP_LEVEL_ORDER.length : i;
}

/** Marks the queued runs of these workflows CANCELLED (reason manual, by the author). */
async function cancelQueuedRuns(db: CatalogDb, workflowIds: string[], by: string, now: Date): Promise<string[]> {
  // One statement with RETURNING so a run a worker claims meanwhile is neither cancelled nor reported.
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    UPDATE "WorkflowExecution"
       SET "status" = 'CANCELLED', "cancelReason" = 'manual', "cancelRequestedAt" = ${now},
           "cancelRequestedBy" = ${by}, "completedAt" = ${now}, "updatedAt" = ${now}
     WHERE "workflowId" = ANY(${workflowIds}::uuid[]) AND "status" = 'PENDING'
     RETURNING "id"`;
  return rows.map((r) => r.id);
}

/** Orders object keys for readable YAML: the given order first, then the rest alphabetically. */
function orderKeys(value: unknown, order: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => orderKeys(v, NESTED_ORDER));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? Infinity : ia) - (ib === -1 ? Infinity : ib);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = orderKeys((value as Record<string, unknown>)[key], NESTED_ORDER);
  return out;
}
