import { randomUUID } from 'node:crypto';
import type { Prisma } from '../../src/generated/prisma/client.js';
import { PrismaExecutionStore } from '../../src/store/PrismaExecutionStore.js';
import { createTestDatabase } from '../helpers/db.js';
import { describeExecutionStoreContract } from './execution-store.contract.js';

describeExecutionStoreContract('prisma', async () => {
  const db = await createTestDatabase();
  const store = new PrismaExecutionStore(db.prisma);
  const team = await db.prisma.team.create({ data: { name: 'contract-team' } });
  const incident = await db.prisma.incident.create({ data: { title: 'Contract incident', teamId: team.id } });
  const definition = { nodes: [{ id: 'start', type: 'trigger' }], edges: [] };
  const workflow = await db.prisma.workflow.create({
    data: { name: 'contract-workflow', triggerType: 'manual', trigger: { type: 'manual' }, definition, teamId: team.id },
  });
  return {
    store,
    missingId: () => randomUUID(),
    async seed(overrides = {}) {
      const row = await db.prisma.workflowExecution.create({
        data: {
          workflowId: workflow.id,
          workflowVersion: 1,
          incidentId: incident.id,
          triggerType: 'manual',
          triggerEvent: {
            type: 'manual',
            incident: { id: incident.id, title: incident.title, priority: 'P3', status: 'open', teamId: team.id, metadata: {}, createdAt: incident.createdAt.toISOString() },
            occurredAt: '2026-01-01T00:00:00.000Z',
          },
          definitionSnapshot: definition,
          ...(overrides.status ? { status: overrides.status } : {}),
          ...(overrides.nodeResults ? { nodeResults: overrides.nodeResults as unknown as Prisma.InputJsonValue } : {}),
          ...(overrides.completedNodes ? { completedNodes: overrides.completedNodes } : {}),
          ...(overrides.currentNodeId !== undefined ? { currentNodeId: overrides.currentNodeId } : {}),
          ...(overrides.cancelRequestedAt !== undefined ? { cancelRequestedAt: overrides.cancelRequestedAt } : {}),
          ...(overrides.startedAt !== undefined ? { startedAt: overrides.startedAt } : {}),
          ...(overrides.executionChain ? { executionChain: overrides.executionChain } : {}),
          ...(overrides.error !== undefined ? { error: overrides.error } : {}),
        },
      });
      const stored = await store.get(row.id);
      if (!stored) throw new Error('seeded run not found');
      return stored;
    },
    close: () => db.drop(),
  };
});
