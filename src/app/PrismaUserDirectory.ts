/** Chat identities to stored users: created as MEMBER on first sight, teams read from TeamMember. */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Actor, UserDirectory } from './services.js';

export class PrismaUserDirectory implements UserDirectory {
  constructor(private readonly prisma: PrismaClient) {}

  async resolve(identity: { platform: 'slack' | 'teams'; platformUserId: string; name?: string }): Promise<Actor> {
    const key = identity.platform === 'slack' ? 'slackUserId' : 'teamsUserId';
    const where = identity.platform === 'slack' ? { slackUserId: identity.platformUserId } : { teamsUserId: identity.platformUserId };
    const select = { id: true, name: true, role: true, memberships: { select: { teamId: true } } } as const;
    let user = await this.prisma.user.findUnique({ where, select });
    if (!user) {
      const name = identity.name?.trim() || identity.platformUserId;
      // Two first messages from the same person can race: the unique index decides, the loser reads.
      const created = await this.prisma.user.createMany({ data: [{ name, [key]: identity.platformUserId }], skipDuplicates: true });
      user = await this.prisma.user.findUniqueOrThrow({ where, select });
      if (created.count === 1) {
        await this.prisma.auditLog.create({
          data: { actor: `${identity.platform}:${identity.platformUserId}`, action: 'user.create', targetType: 'user', targetId: user.id, details: { name } },
        });
      }
    } else if (identity.name && identity.name.trim() && user.name === identity.platformUserId) {
      user = await this.prisma.user.update({ where: { id: user.id }, data: { name: identity.name.trim() }, select });
    }
    return {
      userId: user.id,
      name: user.name,
      role: user.role,
      platform: identity.platform,
      teamIds: user.memberships.map((m) => m.teamId),
    };
  }

  async findByPlatformId(platform: 'slack' | 'teams', platformUserId: string): Promise<{ id: string; name: string } | null> {
    const where = platform === 'slack' ? { slackUserId: platformUserId } : { teamsUserId: platformUserId };
    return this.prisma.user.findUnique({ where, select: { id: true, name: true } });
  }
}
