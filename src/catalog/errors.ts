/**
 * Errors of the workflow catalog. Every problem with a workflow file is a `CatalogIssue` that
 * names the file, the line (when known) and the path inside the document, so an admin can jump
 * straight to it; `CatalogError` carries all of them at once.
 */

/** One problem in one workflow file. */
export interface CatalogIssue {
  /** The file as the admin named it (relative to the folder given on the command line). */
  file: string;
  /** 1-based line in the file, when the problem can be located. */
  line?: number;
  /** Dotted path inside the document (`nodes.2.input.url`), empty for the whole document. */
  path: string;
  message: string;
}

/** `file:line path: message`, the format `workflows validate` prints. */
export function formatIssue(issue: CatalogIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** One or more workflow files are invalid; nothing was written. */
export class CatalogError extends Error {
  constructor(readonly issues: CatalogIssue[]) {
    super(
      issues.length === 1
        ? `1 problem in the workflow files:\n${formatIssue(issues[0]!)}`
        : `${issues.length} problems in the workflow files:\n${issues.map(formatIssue).join('\n')}`,
    );
    this.name = 'CatalogError';
  }
}
