/** Wires the application services over Prisma, the engine's matcher and the worker's queue. */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger, WorkflowRepository } from '../engine/ports.js';
import { VersionCache } from '../engine/definition-cache.js';
import { findMatchingWorkflows, type ParsedDocument } from '../engine/triggers.js';
import { PrismaWorkflowRepository } from '../store/PrismaWorkflowRepository.js';
import { TriggerDispatcher } from './dispatcher.js';
import type { JobScheduler, WorkflowMatcher } from './ports.js';
import { PrismaDirectoryAdmin } from './PrismaDirectoryAdmin.js';
import { PrismaIncidentService } from './PrismaIncidentService.js';
import { PrismaRunService } from './PrismaRunService.js';
import { PrismaUserDirectory } from './PrismaUserDirectory.js';
import { PrismaWorkflowAdminService } from './PrismaWorkflowAdminService.js';
import type { AppServices } from './services.js';

export interface AppServicesDeps {
  prisma: PrismaClient;
  scheduler: JobScheduler;
  logger: Logger;
  /** Where matching reads workflows outside a transaction (default: the store's `PrismaWorkflowRepository`). */
  repository?: WorkflowRepository;
  /** Overrides matching entirely (rarely needed; defaults to `findMatchingWorkflows` over `repository`). */
  match?: WorkflowMatcher;
  now?: () => number;
}

/** The services plus the concrete pieces the worker and the actions need. */
export interface WiredAppServices extends AppServices {
  incidents: PrismaIncidentService;
  runs: PrismaRunService;
  workflows: PrismaWorkflowAdminService;
  users: PrismaUserDirectory;
  /** Teams, members, roles and identity links (admin tooling: the CLI and the API). */
  directory: PrismaDirectoryAdmin;
  dispatcher: TriggerDispatcher;
}

export function createAppServices(deps: AppServicesDeps): WiredAppServices {
  const logger = deps.logger;
  const repository = deps.repository ?? new PrismaWorkflowRepository(deps.prisma);
  // Parsed candidate documents by workflow version, for every event this process dispatches.
  const documents = new VersionCache<ParsedDocument | null>(2000);
  const match: WorkflowMatcher =
    deps.match ??
    ((event, db) =>
      findMatchingWorkflows(event, {
        documents,
        // Inside a transaction, read through it (the repository only issues `workflow.findMany`).
        repository: db && db !== deps.prisma ? new PrismaWorkflowRepository(db as PrismaClient) : repository,
        logger,
      }));
  const dispatcher = new TriggerDispatcher({ prisma: deps.prisma, match, scheduler: deps.scheduler, logger });
  return {
    dispatcher,
    incidents: new PrismaIncidentService({ prisma: deps.prisma, dispatcher, logger }),
    runs: new PrismaRunService({ prisma: deps.prisma, dispatcher, scheduler: deps.scheduler, logger, ...(deps.now ? { now: deps.now } : {}) }),
    workflows: new PrismaWorkflowAdminService({ prisma: deps.prisma, scheduler: deps.scheduler, logger }),
    users: new PrismaUserDirectory(deps.prisma),
    directory: new PrismaDirectoryAdmin(deps.prisma),
  };
}
