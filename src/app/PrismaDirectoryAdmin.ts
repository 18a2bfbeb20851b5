/**
 * Directory administration on Prisma: teams (with their Slack channel and Teams conversation),
 * their members, users and their roles, and linking a person's e-mail, Slack and Teams identities
 * into one user row. Every change writes an AuditLog row in the same transaction. Changes are for
 * admins (and SYSTEM: the CLI and API tokens, whose scopes the API checks); anyone may read.
 */
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { writeAudit } from './audit.js';
import { closestNames } from './closest-names.js';
import { requireAdmin } from './permissions.js';
import { TX_OPTIONS, type Db } from './ports.js';
import { AppError, type Actor } from './services.js';

export type DirectoryRole = 'ADMIN' | 'MEMBER';

export interface TeamSummary {
  id: string;
  name: string;
  slackChannelId: string | null;
  teamsConversationId: string | null;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface UserSummary {
  id: string;
  name: string;
  email: string | null;
  slackUserId: string | null;
  teamsUserId: string | null;
  role: DirectoryRole;
  /** Names of the teams the user belongs to, sorted. */
  teams: string[];
  createdAt: string;
}

/** `users upsert`: the identities to create or link (at least one of email, slackUserId, teamsUserId). */
export interface UpsertUserInput {
  email?: string;
  name?: string;
  slackUserId?: string;
  teamsUserId?: string;
}

export interface DirectoryAdminService {
  createTeam(actor: Actor, name: string, channels?: { slackChannelId?: string; teamsConversationId?: string }): Promise<TeamSummary>;
  /** Rename and/or set the channels; `null` clears a channel. */
  updateTeam(actor: Actor, team: string, patch: { name?: string; slackChannelId?: string | null; teamsConversationId?: string | null }): Promise<TeamSummary>;
  listTeams(actor: Actor): Promise<TeamSummary[]>;
  /** Idempotent: `added` is false when the user already was a member. */
  addMember(actor: Actor, team: string, user: string): Promise<{ team: TeamSummary; user: UserSummary; added: boolean }>;
  removeMember(actor: Actor, team: string, user: string): Promise<{ team: TeamSummary; user: UserSummary }>;
  listUsers(actor: Actor, filter?: { team?: string; role?: DirectoryRole }): Promise<UserSummary[]>;
  /**
   * Create a user, or link more identities to the one user they already point at. When the given
   * identities point at two different users, or would replace an identity the user already has,
   * nothing changes and the AppError('conflict') says which.
   */
  upsertUser(actor: Actor, input: UpsertUserInput): Promise<{ user: UserSummary; action: 'created' | 'updated' | 'unchanged' }>;
  setRole(actor: Actor, user: string, role: DirectoryRole): Promise<UserSummary>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Slack user ids: `U…` (workspace) or `W…` (Enterprise Grid). */
export const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
/** Slack conversation ids a team channel can have: public `C…` or private `G…`. */
export const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const teamSelect = {
  id: true,
  name: true,
  slackChannelId: true,
  teamsConversationId: true,
  createdAt: true,
  updatedAt: true,
  _count: { select: { members: true } },
} as const;
const userSelect = {
  id: true,
  name: true,
  email: true,
  slackUserId: true,
  teamsUserId: true,
  role: true,
  createdAt: true,
  memberships: { select: { team: { select: { name: true } } } },
} as const;

type TeamRow = Prisma.TeamGetPayload<{ select: typeof teamSelect }>;
type UserRow = Prisma.UserGetPayload<{ select: typeof userSelect }>;

function toTeam(row: TeamRow): TeamSummary {
  return {
    id: row.id,
    name: row.name,
    slackChannelId: row.slackChannelId,
    teamsConversationId: row.teamsConversationId,
    memberCount: row._count.members,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toUser(row: UserRow): UserSummary {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    slackUserId: row.slackUserId,
    teamsUserId: row.teamsUserId,
    role: row.role,
    teams: row.memberships.map((m) => m.team.name).sort(),
    createdAt: row.createdAt.toISOString(),
  };
}

function describeUser(row: { id: string; name: string; email?: string | null }): string {
  return `"${row.name}"${row.email ? ` <${row.email}>` : ''} (id ${row.id})`;
}

/** The unique-constraint violation Prisma reports (P2002), e.g. two concurrent creates. */
function uniqueWhere(field: 'email' | 'slackUserId' | 'teamsUserId', value: string): Prisma.UserWhereUniqueInput {
  if (field === 'email') return { email: value };
  return field === 'slackUserId' ? { slackUserId: value } : { teamsUserId: value };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

function teamName(value: string, field: string): string {
  const name = value.trim();
  if (!name) throw new AppError('invalid', 'A team needs a name.', field);
  if (name.length > 100) throw new AppError('invalid', 'A team name has at most 100 characters.', field);
  if (UUID.test(name)) throw new AppError('invalid', 'A team name cannot look like an id (a UUID).', field);
  return name;
}

function slackChannel(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const id = value.trim();
  if (!SLACK_CHANNEL_ID.test(id)) throw new AppError('invalid', `"${value}" is not a Slack channel id (C… or G…, as in the channel's "About" panel).`, 'slackChannelId');
  return id;
}

function teamsConversation(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const id = value.trim();
  if (!id) throw new AppError('invalid', 'A Teams conversation id cannot be empty.', 'teamsConversationId');
  return id;
}

export class PrismaDirectoryAdmin implements DirectoryAdminService {
  constructor(private readonly prisma: PrismaClient) {}

  async createTeam(actor: Actor, name: string, channels: { slackChannelId?: string; teamsConversationId?: string } = {}): Promise<TeamSummary> {
    requireAdmin(actor, 'create teams');
    const data = {
      name: teamName(name, 'name'),
      slackChannelId: slackChannel(channels.slackChannelId) ?? null,
      teamsConversationId: teamsConversation(channels.teamsConversationId) ?? null,
    };
    try {
      return await this.prisma.$transaction(async (tx) => {
        const row = await tx.team.create({ data, select: teamSelect });
        await writeAudit(tx, actor, 'team.create', { type: 'team', id: row.id }, data);
        return toTeam(row);
      }, TX_OPTIONS);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `A team named "${data.name}" already exists.`, 'name');
      throw error;
    }
  }

  async updateTeam(actor: Actor, team: string, patch: { name?: string; slackChannelId?: string | null; teamsConversationId?: string | null }): Promise<TeamSummary> {
    requireAdmin(actor, 'change teams');
    const data: { name?: string; slackChannelId?: string | null; teamsConversationId?: string | null } = {};
    if (patch.name !== undefined) data.name = teamName(patch.name, 'name');
    const slack = slackChannel(patch.slackChannelId);
    if (slack !== undefined) data.slackChannelId = slack;
    const teams = teamsConversation(patch.teamsConversationId);
    if (teams !== undefined) data.teamsConversationId = teams;
    if (Object.keys(data).length === 0) throw new AppError('invalid', 'Nothing to change: give a new name, a Slack channel or a Teams conversation.');
    const found = await this.findTeam(this.prisma, team);
    const changed = Object.fromEntries(Object.entries(data).filter(([k, v]) => found[k as keyof typeof data] !== v));
    if (Object.keys(changed).length === 0) return toTeam(found);
    try {
      return await this.prisma.$transaction(async (tx) => {
        const row = await tx.team.update({ where: { id: found.id }, data: changed, select: teamSelect });
        const before = Object.fromEntries(Object.keys(changed).map((k) => [k, found[k as keyof typeof data]]));
        await writeAudit(tx, actor, 'team.update', { type: 'team', id: row.id }, { name: found.name, before, after: changed });
        return toTeam(row);
      }, TX_OPTIONS);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `A team named "${data.name ?? ''}" already exists.`, 'name');
      throw error;
    }
  }

  async listTeams(_actor: Actor): Promise<TeamSummary[]> {
    const rows = await this.prisma.team.findMany({ select: teamSelect, orderBy: { name: 'asc' } });
    return rows.map(toTeam);
  }

  async addMember(actor: Actor, team: string, user: string): Promise<{ team: TeamSummary; user: UserSummary; added: boolean }> {
    requireAdmin(actor, 'change team members');
    return this.prisma.$transaction(async (tx) => {
      const t = await this.findTeam(tx, team);
      const u = await this.findUser(tx, user);
      // Insert-if-absent: a concurrent add of the same pair neither fails nor writes a second audit row.
      const { count } = await tx.teamMember.createMany({ data: [{ teamId: t.id, userId: u.id }], skipDuplicates: true });
      if (count === 1) await writeAudit(tx, actor, 'team.member.add', { type: 'team', id: t.id }, { team: t.name, userId: u.id, user: u.name });
      return { team: toTeam(await this.reloadTeam(tx, t.id)), user: toUser(await this.reloadUser(tx, u.id)), added: count === 1 };
    }, TX_OPTIONS);
  }

  async removeMember(actor: Actor, team: string, user: string): Promise<{ team: TeamSummary; user: UserSummary }> {
    requireAdmin(actor, 'change team members');
    return this.prisma.$transaction(async (tx) => {
      const t = await this.findTeam(tx, team);
      const u = await this.findUser(tx, user);
      const { count } = await tx.teamMember.deleteMany({ where: { teamId: t.id, userId: u.id } });
      if (count === 0) throw new AppError('not_found', `${describeUser(u)} is not a member of team "${t.name}".`, 'user');
      await writeAudit(tx, actor, 'team.member.remove', { type: 'team', id: t.id }, { team: t.name, userId: u.id, user: u.name });
      return { team: toTeam(await this.reloadTeam(tx, t.id)), user: toUser(await this.reloadUser(tx, u.id)) };
    }, TX_OPTIONS);
  }

  async listUsers(_actor: Actor, filter: { team?: string; role?: DirectoryRole } = {}): Promise<UserSummary[]> {
    const teamId = filter.team !== undefined ? (await this.findTeam(this.prisma, filter.team, 'team')).id : undefined;
    const rows = await this.prisma.user.findMany({
      where: { ...(teamId ? { memberships: { some: { teamId } } } : {}), ...(filter.role ? { role: filter.role } : {}) },
      select: userSelect,
      orderBy: [{ name: 'asc' }, { createdAt: 'asc' }],
    });
    return rows.map(toUser);
  }

  async upsertUser(actor: Actor, input: UpsertUserInput): Promise<{ user: UserSummary; action: 'created' | 'updated' | 'unchanged' }> {
    requireAdmin(actor, 'create or link users');
    const email = input.email?.trim().toLowerCase() || undefined;
    const slackUserId = input.slackUserId?.trim() || undefined;
    const teamsUserId = input.teamsUserId?.trim() || undefined;
    const name = input.name?.trim() || undefined;
    if (email !== undefined && !EMAIL.test(email)) throw new AppError('invalid', `"${input.email}" is not an e-mail address.`, 'email');
    if (slackUserId !== undefined && !SLACK_USER_ID.test(slackUserId))
      throw new AppError('invalid', `"${input.slackUserId}" is not a Slack user id (U… or W…, from the profile's "Copy member ID").`, 'slackUserId');
    if (!email && !slackUserId && !teamsUserId) throw new AppError('invalid', 'Give at least one of an e-mail, a Slack user id or a Teams user id.', 'email');

    const identities = [
      ...(email ? [{ field: 'email' as const, value: email, kind: 'e-mail' }] : []),
      ...(slackUserId ? [{ field: 'slackUserId' as const, value: slackUserId, kind: 'Slack user' }] : []),
      ...(teamsUserId ? [{ field: 'teamsUserId' as const, value: teamsUserId, kind: 'Teams user' }] : []),
    ].map((i) => ({ ...i, label: `${i.kind} ${i.value}` }));
    try {
      return await this.prisma.$transaction(async (tx) => {
        const owners = await Promise.all(
          identities.map(async (identity) => ({
            identity,
            row: await tx.user.findUnique({ where: uniqueWhere(identity.field, identity.value), select: userSelect }),
          })),
        );
        const found = owners.filter((o) => o.row !== null) as Array<{ identity: (typeof identities)[number]; row: UserRow }>;
        const [first] = found;
        const other = found.find((o) => first && o.row.id !== first.row.id);
        if (first && other) {
          throw new AppError(
            'conflict',
            `${first.identity.label} belongs to ${describeUser(first.row)} but ${other.identity.label} belongs to ${describeUser(other.row)}; nothing was changed. ` +
              `Link the identities to one user only after removing them from the other.`,
            other.identity.field,
          );
        }
        if (!first) {
          const data = { name: name ?? email?.split('@')[0] ?? slackUserId ?? teamsUserId ?? 'unknown', email: email ?? null, slackUserId: slackUserId ?? null, teamsUserId: teamsUserId ?? null };
          const row = await tx.user.create({ data, select: userSelect });
          await writeAudit(tx, actor, 'user.create', { type: 'user', id: row.id }, data);
          return { user: toUser(row), action: 'created' as const };
        }
        const row = first.row;
        for (const { field, value, kind } of identities) {
          const current = row[field];
          if (current !== null && current !== value) {
            throw new AppError('conflict', `${describeUser(row)} is already linked to ${kind} ${current}, not ${value}; nothing was changed.`, field);
          }
        }
        const changed: Record<string, string> = {};
        for (const { field, value } of identities) if (row[field] === null) changed[field] = value;
        if (name !== undefined && name !== row.name) changed.name = name;
        if (Object.keys(changed).length === 0) return { user: toUser(row), action: 'unchanged' as const };
        const updated = await tx.user.update({ where: { id: row.id }, data: changed, select: userSelect });
        await writeAudit(tx, actor, 'user.update', { type: 'user', id: row.id }, { before: Object.fromEntries(Object.keys(changed).map((k) => [k, row[k as keyof UserRow]])), after: changed });
        return { user: toUser(updated), action: 'updated' as const };
      }, TX_OPTIONS);
    } catch (error) {
      // A chat message can create the same identity between our read and our write.
      if (isUniqueViolation(error)) throw new AppError('conflict', 'One of these identities was just linked to another user; run the command again to see which.', 'user');
      throw error;
    }
  }

  async setRole(actor: Actor, user: string, role: DirectoryRole): Promise<UserSummary> {
    requireAdmin(actor, 'change roles');
    if (role !== 'ADMIN' && role !== 'MEMBER') throw new AppError('invalid', `Unknown role "${String(role)}" (admin or member).`, 'role');
    return this.prisma.$transaction(async (tx) => {
      const u = await this.findUser(tx, user);
      if (u.role === role) return u;
      const row = await tx.user.update({ where: { id: u.id }, data: { role }, select: userSelect });
      await writeAudit(tx, actor, 'user.role', { type: 'user', id: u.id }, { name: u.name, from: u.role, to: role });
      return toUser(row);
    }, TX_OPTIONS);
  }

  /** A team by id or name; unknown names are answered with the closest ones. */
  private async findTeam(db: Db, ref: string, field = 'team'): Promise<TeamRow> {
    const key = ref.trim();
    const row = UUID.test(key)
      ? await db.team.findUnique({ where: { id: key.toLowerCase() }, select: teamSelect })
      : await db.team.findUnique({ where: { name: key }, select: teamSelect });
    if (row) return row;
    const names = (await db.team.findMany({ select: { name: true } })).map((t) => t.name);
    const close = closestNames(key, names);
    throw new AppError('not_found', `No team "${key}".${close.length ? ` Did you mean ${close.map((n) => `"${n}"`).join(', ')}?` : ''}`, field);
  }

  /** A user by id, e-mail, Slack user id (U…/W…) or Teams user id. */
  private async findUser(db: Db, ref: string): Promise<UserSummary> {
    const key = ref.trim();
    let row: UserRow | null = null;
    if (UUID.test(key)) row = await db.user.findUnique({ where: { id: key.toLowerCase() }, select: userSelect });
    if (!row && key.includes('@')) row = await db.user.findUnique({ where: { email: key.toLowerCase() }, select: userSelect });
    // Chat ids are opaque to us (Teams: `29:…` or an AAD object id, which is also a UUID), so both are tried last.
    if (!row && key) row = await db.user.findUnique({ where: { slackUserId: key }, select: userSelect });
    if (!row && key) row = await db.user.findUnique({ where: { teamsUserId: key }, select: userSelect });
    if (!row) throw new AppError('not_found', `No user "${key}" (give a user id, an e-mail, a Slack user id or a Teams user id).`, 'user');
    return toUser(row);
  }

  private reloadTeam(db: Db, id: string): Promise<TeamRow> {
    return db.team.findUniqueOrThrow({ where: { id }, select: teamSelect });
  }

  private async reloadUser(db: Db, id: string): Promise<UserRow> {
    return db.user.findUniqueOrThrow({ where: { id }, select: userSelect });
  }
}
