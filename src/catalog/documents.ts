/**
 * Turning workflow file texts into validated catalog documents: the engine's
 * `parseWorkflowDocument` does the checking; this adds the file name, the stored form of the
 * document, its checksum and the columns the `Workflow` row denormalises.
 */
import { parseWorkflowDocument, type WorkflowDefinition } from '../engine/definition.js';
import type { TriggerType } from '../engine/types.js';
import { documentChecksum } from './checksum.js';
import type { CatalogIssue } from './errors.js';
import { createLineLocator, type LineLocator } from './locate.js';

/** One workflow file's text. */
export interface CatalogSource {
  /** Shown in every message about this file (relative to the folder the admin named). */
  file: string;
  text: string;
}

/** A valid workflow document, ready to diff and apply. */
export interface CatalogDocument {
  file: string;
  name: string;
  /** The validated definition, as stored in `WorkflowVersion.document` and `Workflow.definition`. */
  document: WorkflowDefinition;
  checksum: string;
  /** The `team` field; null for a global workflow. */
  teamName: string | null;
  /** Line of a top-level field (for messages about it, such as an unknown team). */
  lineOf(path: ReadonlyArray<string | number>): number | undefined;
}

/** The columns of a `Workflow` row that are copied out of its document. */
export interface WorkflowColumns {
  name: string;
  description: string;
  enabled: boolean;
  triggerType: TriggerType;
  trigger: WorkflowDefinition['trigger'];
  conditions: WorkflowDefinition['conditions'];
  settings: WorkflowDefinition['settings'];
}

/** Fields that only help editors and are not part of the workflow. */
const EDITOR_ONLY_FIELDS = ['$schema'] as const;

/** The stored form: the validated definition without editor-only fields. */
export function storedForm(definition: WorkflowDefinition): WorkflowDefinition {
  const copy: Record<string, unknown> = { ...definition };
  for (const key of EDITOR_ONLY_FIELDS) delete copy[key];
  return copy as WorkflowDefinition;
}

/** The denormalised columns of a workflow document. */
export function columnsOf(definition: WorkflowDefinition): WorkflowColumns {
  return {
    name: definition.name,
    description: definition.description,
    enabled: definition.enabled,
    triggerType: definition.trigger.type,
    trigger: definition.trigger,
    conditions: definition.conditions,
    settings: definition.settings,
  };
}

/** Parses and validates one file. Returns the document or all its issues (with lines). */
export function parseSource(source: CatalogSource): { document: CatalogDocument; issues: [] } | { document: null; issues: CatalogIssue[] } {
  const result = parseWorkflowDocument(source.text, { fileName: source.file });
  if (!result.ok) {
    return {
      document: null,
      issues: result.errors.map((e) => ({ file: source.file, ...(e.line === undefined ? {} : { line: e.line }), path: e.path, message: e.message })),
    };
  }
  const document = storedForm(result.definition);
  const locator: LineLocator = createLineLocator(source.text);
  return {
    document: {
      file: source.file,
      name: document.name,
      document,
      checksum: documentChecksum(document),
      teamName: document.team ?? null,
      lineOf: (path) => locator.lineOf(path),
    },
    issues: [],
  };
}
