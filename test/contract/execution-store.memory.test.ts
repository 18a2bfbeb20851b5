import { randomUUID } from 'node:crypto';
import type { ExecutionRecord } from '../../src/engine/ports.js';
import { MemoryExecutionStore } from '../helpers/memory-store.js';
import { describeExecutionStoreContract } from './execution-store.contract.js';

describeExecutionStoreContract('memory', async () => {
  const store = new MemoryExecutionStore();
  return {
    store,
    missingId: () => randomUUID(),
    async seed(overrides = {}) {
      const record: ExecutionRecord = {
        id: randomUUID(),
        workflowId: randomUUID(),
        workflowVersion: 1,
        incidentId: randomUUID(),
        status: 'PENDING',
        triggerEvent: {
          type: 'manual',
          incident: { id: 'i', title: 't', priority: 'P1', status: 'open', teamId: 'team', metadata: {}, createdAt: '2026-01-01T00:00:00.000Z' },
          occurredAt: '2026-01-01T00:00:00.000Z',
        },
        definitionSnapshot: { nodes: [{ id: 'start', type: 'trigger' }], edges: [] },
        currentNodeId: null,
        completedNodes: [],
        nodeResults: {},
        executionChain: [],
        error: null,
        cancelReason: null,
        cancelRequestedAt: null,
        attempt: 1,
        fence: 0,
        createdAt: '2026-01-01T00:00:00.000Z',
        startedAt: null,
        completedAt: null,
        ...overrides,
      };
      return store.insert(record);
    },
  };
});
