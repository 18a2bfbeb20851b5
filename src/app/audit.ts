/** One AuditLog row per change, written in the same transaction as the change. */
import type { Prisma } from '../generated/prisma/client.js';
import type { EventActor } from '../engine/types.js';
import type { Actor } from './services.js';
import type { Db } from './ports.js';

/** A stable, readable audit name for an actor: `slack:U123`, `api:alerting`, `workflow:<executionId>`. */
export function auditActor(actor: Actor | EventActor): string {
  if ('platform' in actor) return `${actor.platform}:${actor.userId ?? actor.name}`;
  return `${actor.kind}:${actor.id ?? actor.name ?? 'unknown'}`;
}

export async function writeAudit(
  db: Db,
  actor: Actor | EventActor,
  action: string,
  target: { type: string; id?: string | null },
  details: Record<string, unknown> = {},
): Promise<void> {
  await db.auditLog.create({
    data: {
      actor: auditActor(actor),
      action,
      targetType: target.type,
      targetId: target.id ?? null,
      details: details as Prisma.InputJsonValue,
    },
  });
}
