import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredWorkflow } from '../../../src/engine/ports.js';
import type { TriggerEvent } from '../../../src/engine/types.js';
import { AgeScanner } from '../../../src/worker/age-scan.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { lineWorkflow, seedIncident, seedWorkflow, waitFor } from '../../helpers/worker-process-fixtures.js';

describe('age trigger scan', () => {
  let db: TestDatabase;
  const prefix = uniquePrefix('age');

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await deletePrefix(prefix);
    await db.drop();
  });

  it('fires once per workflow and old open incident, even when scans overlap; the job scheduler runs the scan', async () => {
    const hour = 3600_000;
    const old = await seedIncident(db.prisma, { title: 'old', createdAt: new Date(Date.now() - 2 * hour) });
    const young = await seedIncident(db.prisma, { title: 'young', createdAt: new Date(Date.now() - 5 * 60_000) });
    const resolved = await seedIncident(db.prisma, { title: 'resolved', createdAt: new Date(Date.now() - 3 * hour) });
    await db.prisma.incident.update({ where: { id: resolved.incidentId }, data: { status: 'resolved', resolvedAt: new Date() } });
    const otherTeam = await seedIncident(db.prisma, { teamName: 'other', title: 'other team', createdAt: new Date(Date.now() - 2 * hour) });

    const hourly = await seedWorkflow(db.prisma, lineWorkflow('after-an-hour', 'http://127.0.0.1:9', ['a1'], { trigger: { type: 'age', minutes: 60 } }), { teamId: old.teamId });
    const daily = await seedWorkflow(db.prisma, lineWorkflow('after-a-day', 'http://127.0.0.1:9', ['a1'], { trigger: { type: 'age', minutes: 1440 } }));
    await seedWorkflow(db.prisma, lineWorkflow('not-age', 'http://127.0.0.1:9', ['a1']));

    const fired: Array<{ event: TriggerEvent; workflow: StoredWorkflow }> = [];
    const emit = async (event: TriggerEvent, workflow: StoredWorkflow) => {
      fired.push({ event, workflow });
    };
    const logger = new MemoryLogger();
    const a = new AgeScanner({ connection: REDIS_URL, prefix, prisma: db.prisma, emit, logger });
    const b = new AgeScanner({ connection: REDIS_URL, prefix, prisma: db.prisma, emit, logger });
    const counts = await Promise.all([a.scanOnce(), b.scanOnce(), a.scanOnce()]);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(1);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.workflow.id).toBe(hourly);
    expect(fired[0]!.event).toMatchObject({ type: 'age', incident: { id: old.incidentId, teamId: old.teamId } });
    expect(fired.some((f) => f.workflow.id === daily)).toBe(false);
    expect(fired.some((f) => [young.incidentId, resolved.incidentId, otherTeam.incidentId].includes(f.event.incident.id))).toBe(false);
    expect(await db.prisma.ageTriggerFiring.count()).toBe(1);

    // A failed emit is forgotten, so the next scan tries again.
    const young2 = await seedIncident(db.prisma, { title: 'now old', createdAt: new Date(Date.now() - 2 * hour) });
    const failing = new AgeScanner({ connection: REDIS_URL, prefix, prisma: db.prisma, emit: async () => Promise.reject(new Error('db down')), logger });
    expect(await failing.scanOnce()).toBe(0);
    expect(await db.prisma.ageTriggerFiring.count({ where: { incidentId: young2.incidentId } })).toBe(0);

    // The BullMQ job scheduler drives scans without anyone calling scanOnce.
    const scheduled = new AgeScanner({ connection: REDIS_URL, prefix, prisma: db.prisma, emit, logger, everyMs: 300 });
    try {
      await scheduled.start();
      await waitFor('a scheduled scan to fire for the newly old incident', () => fired.some((f) => f.event.incident.id === young2.incidentId), 15_000);
    } finally {
      await scheduled.close();
    }
    expect(fired.filter((f) => f.event.incident.id === young2.incidentId)).toHaveLength(1);
    expect(fired.filter((f) => f.event.incident.id === old.incidentId)).toHaveLength(1);
  });
});
