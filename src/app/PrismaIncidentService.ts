/**
 * Incidents on Prisma. Every change is one transaction holding the row lock, the change, its audit
 * row and the PENDING executions of the workflows it triggers; the jobs are added after the commit.
 */
import type { PrismaClient, Prisma } from '../generated/prisma/client.js';
import type { Logger } from '../engine/ports.js';
import type { EventActor, TriggerEvent } from '../engine/types.js';
import { writeAudit } from './audit.js';
import type { RecordedRuns, TriggerDispatcher } from './dispatcher.js';
import { incidentInclude, toIncidentSnapshot, toIncidentSummary, type IncidentSnapshotRow } from './mappers.js';
import { requireTeam, toEventActor } from './permissions.js';
import { TX_OPTIONS } from './ports.js';
import { AppError, type Actor, type ChannelRef, type IncidentService, type IncidentSummary } from './services.js';

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'investigating', 'mitigated', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const INCIDENT_PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
export type IncidentPriority = (typeof INCIDENT_PRIORITIES)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A change to an incident, as the incident.update action asks for it. */
export interface IncidentPatch {
  status?: string;
  priority?: string;
  assigneeId?: string | null;
}

/** Who caused a change and the chain of workflows behind it (cycle detection). */
export interface ChangeOrigin {
  actor: EventActor;
  auditActor: Actor | EventActor;
  executionChain?: string[];
}

export function normaliseStatus(status: string): IncidentStatus {
  const s = status.trim().toLowerCase();
  if ((INCIDENT_STATUSES as readonly string[]).includes(s)) return s as IncidentStatus;
  throw new AppError('invalid', `Unknown status "${status}". Use one of: ${INCIDENT_STATUSES.join(', ')}.`, 'status');
}

export function normalisePriority(priority: string): IncidentPriority {
  const p = priority.trim().toUpperCase();
  if ((INCIDENT_PRIORITIES as readonly string[]).includes(p)) return p as IncidentPriority;
  throw new AppError('invalid', `Unknown priority "${priority}". Use one of: ${INCIDENT_PRIORITIES.join(', ')}.`, 'priority');
}

/** `where` for an incident given its id or its number (`42`, `#42`). */
export function incidentWhere(idOrNumber: string): Prisma.IncidentWhereUniqueInput {
  const s = idOrNumber.trim();
  if (UUID.test(s)) return { id: s.toLowerCase() };
  const m = /^#?(\d{1,9})$/.exec(s);
  if (m?.[1]) return { number: Number(m[1]) };
  throw new AppError('not_found', `No incident ${idOrNumber}.`);
}

/** The incident columns plus the joined team and assignee names (findByChannel's one query). */
type ChannelIncidentRow = IncidentSnapshotRow & { updatedAt: Date; teamName: string; assigneeName: string | null };

export interface IncidentServiceDeps {
  prisma: PrismaClient;
  dispatcher: TriggerDispatcher;
  logger: Logger;
}

export class PrismaIncidentService implements IncidentService {
  private readonly prisma: PrismaClient;
  private readonly dispatcher: TriggerDispatcher;
  private readonly logger: Logger;

  constructor(deps: IncidentServiceDeps) {
    this.prisma = deps.prisma;
    this.dispatcher = deps.dispatcher;
    this.logger = deps.logger;
  }

  async declare(
    actor: Actor,
    input: { title: string; priority?: string; teamId?: string; metadata?: Record<string, unknown>; channel?: ChannelRef },
  ): Promise<IncidentSummary> {
    const title = input.title.trim();
    if (!title) throw new AppError('invalid', 'An incident needs a title.', 'title');
    if (title.length > 500) throw new AppError('invalid', 'The title is longer than 500 characters.', 'title');
    const priority = normalisePriority(input.priority ?? 'P3');
    const teamId = await this.resolveTeam(actor, input.teamId);
    const { row, runs } = await this.prisma.$transaction(async (tx) => {
      if (input.channel) {
        const bound = await tx.incidentChannel.findUnique({
          where: { platform_channelId: { platform: platformEnum(input.channel.platform), channelId: input.channel.channelId } },
          include: { incident: { select: { number: true } } },
        });
        if (bound) throw new AppError('conflict', `This channel already belongs to incident #${bound.incident.number}.`, 'channel');
      }
      const row = await tx.incident.create({
        data: {
          title,
          priority,
          teamId,
          metadata: (input.metadata ?? {}) as Prisma.InputJsonValue,
          ...(input.channel
            ? { channels: { create: { platform: platformEnum(input.channel.platform), channelId: input.channel.channelId } } }
            : {}),
        },
        include: incidentInclude,
      });
      await writeAudit(tx, actor, 'incident.declare', { type: 'incident', id: row.id }, { number: row.number, title, priority, teamId });
      const runs = await this.dispatcher.record(tx, {
        type: 'incident_created',
        incident: toIncidentSnapshot(row),
        actor: toEventActor(actor),
        occurredAt: new Date().toISOString(),
      });
      return { row, runs };
    }, TX_OPTIONS);
    this.logger.info({ incidentId: row.id, number: row.number }, 'incident declared');
    await this.dispatcher.schedule(runs);
    return toIncidentSummary(row);
  }

  /**
   * The incident bound to a chat channel, in one statement (a join). A Prisma `include` would issue
   * one query per relation (channel, incident, team, assignee): four on every command in a room.
   */
  async findByChannel(channel: ChannelRef): Promise<IncidentSummary | null> {
    const rows = await this.prisma.$queryRaw<ChannelIncidentRow[]>`
      SELECT i."id"::text AS "id", i."number", i."title", i."priority", i."status",
             i."teamId"::text AS "teamId", i."assigneeId"::text AS "assigneeId",
             i."escalationLevel", i."metadata", i."createdAt", i."updatedAt",
             t."name" AS "teamName", u."name" AS "assigneeName"
        FROM "IncidentChannel" c
        JOIN "Incident" i ON i."id" = c."incidentId"
        JOIN "Team" t ON t."id" = i."teamId"
        LEFT JOIN "User" u ON u."id" = i."assigneeId"
       WHERE c."platform" = ${platformEnum(channel.platform)}::"ChatPlatform" AND c."channelId" = ${channel.channelId}`;
    const row = rows[0];
    if (!row) return null;
    return toIncidentSummary({
      ...row,
      number: Number(row.number),
      escalationLevel: Number(row.escalationLevel),
      metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as unknown) : row.metadata,
      createdAt: new Date(row.createdAt),
      updatedAt: new Date(row.updatedAt),
      team: { name: row.teamName },
      assignee: row.assigneeName === null ? null : { name: row.assigneeName },
    });
  }

  async get(_actor: Actor, incidentId: string): Promise<IncidentSummary> {
    const row = await this.prisma.incident.findUnique({ where: incidentWhere(incidentId), include: incidentInclude });
    if (!row) throw new AppError('not_found', `No incident ${incidentId}.`);
    return toIncidentSummary(row);
  }

  async list(_actor: Actor, filter: { status?: string; teamId?: string; limit?: number }): Promise<IncidentSummary[]> {
    const where: Prisma.IncidentWhereInput = {};
    if (filter.status) where.status = normaliseStatus(filter.status);
    if (filter.teamId) {
      if (!UUID.test(filter.teamId)) throw new AppError('invalid', 'teamId must be a UUID.', 'teamId');
      where.teamId = filter.teamId;
    }
    const rows = await this.prisma.incident.findMany({
      where,
      include: incidentInclude,
      orderBy: { number: 'desc' },
      take: clampLimit(filter.limit),
    });
    return rows.map(toIncidentSummary);
  }

  async setStatus(actor: Actor, incidentId: string, status: string): Promise<IncidentSummary> {
    normaliseStatus(status);
    return this.applyChange(incidentId, { status }, { actor: toEventActor(actor), auditActor: actor }, actor);
  }

  async setPriority(actor: Actor, incidentId: string, priority: string): Promise<IncidentSummary> {
    normalisePriority(priority);
    return this.applyChange(incidentId, { priority }, { actor: toEventActor(actor), auditActor: actor }, actor);
  }

  async assign(actor: Actor, incidentId: string, assigneeUserId: string | null): Promise<IncidentSummary> {
    return this.applyChange(incidentId, { assigneeId: assigneeUserId }, { actor: toEventActor(actor), auditActor: actor }, actor);
  }

  async escalate(actor: Actor, incidentId: string): Promise<IncidentSummary> {
    const where = incidentWhere(incidentId);
    const { row, runs } = await this.prisma.$transaction(async (tx) => {
      const current = await this.lock(tx, where, incidentId);
      requireTeam(actor, current.teamId, 'escalate this incident');
      if (current.status === 'resolved') throw new AppError('conflict', `Incident #${current.number} is resolved; reopen it before escalating.`);
      const row = await tx.incident.update({
        where: { id: current.id },
        data: { escalationLevel: { increment: 1 } },
        include: incidentInclude,
      });
      await writeAudit(tx, actor, 'incident.escalate', { type: 'incident', id: row.id }, { escalationLevel: row.escalationLevel });
      const runs = await this.dispatcher.record(tx, {
        type: 'escalation',
        incident: toIncidentSnapshot(row),
        actor: toEventActor(actor),
        occurredAt: new Date().toISOString(),
      });
      return { row, runs };
    }, TX_OPTIONS);
    await this.dispatcher.schedule(runs);
    return toIncidentSummary(row);
  }

  async update(actor: Actor, incidentId: string, patch: IncidentPatch): Promise<IncidentSummary> {
    return this.applyChange(incidentId, patch, { actor: toEventActor(actor), auditActor: actor }, actor);
  }

  /**
   * Change status, priority and/or assignee in one transaction. A status change emits
   * `state_changed` carrying `origin.executionChain`; a change to the same value is a no-op.
   * `permissionActor` is checked against the incident's team (absent for workflow-made changes,
   * such as the incident.update action).
   */
  async applyChange(incidentId: string, patch: IncidentPatch, origin: ChangeOrigin, permissionActor?: Actor): Promise<IncidentSummary> {
    const status = patch.status === undefined ? undefined : normaliseStatus(patch.status);
    const priority = patch.priority === undefined ? undefined : normalisePriority(patch.priority);
    const where = incidentWhere(incidentId);
    const { row, runs } = await this.prisma.$transaction(async (tx) => {
      const current = await this.lock(tx, where, incidentId);
      if (permissionActor) requireTeam(permissionActor, current.teamId, 'change this incident');
      const data: Prisma.IncidentUncheckedUpdateInput = {};
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      if (status !== undefined && status !== current.status) {
        data.status = status;
        data.resolvedAt = status === 'resolved' ? new Date() : null;
        changes.status = { from: current.status, to: status };
      }
      if (priority !== undefined && priority !== current.priority) {
        data.priority = priority;
        changes.priority = { from: current.priority, to: priority };
      }
      if (patch.assigneeId !== undefined && patch.assigneeId !== current.assigneeId) {
        if (patch.assigneeId !== null) {
          const user = UUID.test(patch.assigneeId) ? await tx.user.findUnique({ where: { id: patch.assigneeId }, select: { id: true } }) : null;
          if (!user) throw new AppError('invalid', `No user ${patch.assigneeId}.`, 'assigneeId');
        }
        data.assigneeId = patch.assigneeId;
        changes.assigneeId = { from: current.assigneeId, to: patch.assigneeId };
      }
      if (Object.keys(changes).length === 0) {
        const row = await tx.incident.findUniqueOrThrow({ where: { id: current.id }, include: incidentInclude });
        return { row, runs: { jobs: [] } as RecordedRuns };
      }
      const row = await tx.incident.update({ where: { id: current.id }, data, include: incidentInclude });
      await writeAudit(tx, origin.auditActor, 'incident.update', { type: 'incident', id: row.id }, {
        changes,
        ...(origin.executionChain?.length ? { executionChain: origin.executionChain } : {}),
      });
      let runs: RecordedRuns = { jobs: [] };
      if (changes.status) {
        const event: TriggerEvent = {
          type: 'state_changed',
          incident: toIncidentSnapshot(row),
          previousState: current.status,
          newState: row.status,
          actor: origin.actor,
          occurredAt: new Date().toISOString(),
          ...(origin.executionChain?.length ? { executionChain: [...origin.executionChain] } : {}),
        };
        runs = await this.dispatcher.record(tx, event);
      }
      return { row, runs };
    }, TX_OPTIONS);
    await this.dispatcher.schedule(runs);
    return toIncidentSummary(row);
  }

  /** Read the incident under a row lock so concurrent changes see each other's previous state. */
  private async lock(tx: Prisma.TransactionClient, where: Prisma.IncidentWhereUniqueInput, label: string) {
    const found = await tx.incident.findUnique({ where, select: { id: true } });
    if (!found) throw new AppError('not_found', `No incident ${label}.`);
    await tx.$queryRaw`SELECT id FROM "Incident" WHERE id = ${found.id}::uuid FOR UPDATE`;
    return tx.incident.findUniqueOrThrow({ where: { id: found.id } });
  }

  private async resolveTeam(actor: Actor, team: string | undefined): Promise<string> {
    if (team === undefined || team.trim() === '') {
      const [only, ...rest] = actor.teamIds;
      if (only && rest.length === 0) return only;
      throw new AppError('invalid', actor.teamIds.length === 0 ? 'Say which team owns the incident.' : 'You belong to several teams: say which one owns the incident.', 'teamId');
    }
    const row = UUID.test(team)
      ? await this.prisma.team.findUnique({ where: { id: team }, select: { id: true } })
      : await this.prisma.team.findUnique({ where: { name: team }, select: { id: true } });
    if (!row) throw new AppError('invalid', `No team ${team}.`, 'teamId');
    return row.id;
  }
}

function platformEnum(platform: ChannelRef['platform']): 'SLACK' | 'TEAMS' {
  return platform === 'slack' ? 'SLACK' : 'TEAMS';
}

export function clampLimit(limit: number | undefined, fallback = 50, max = 200): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(Math.max(1, Math.trunc(limit)), max);
}
