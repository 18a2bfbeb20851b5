/** `workflows test <name> --incident <id|number>`: the dry run, printed for a person or as JSON. */
import { dryRunWorkflow, DryRunError } from '../../catalog/dry-run.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

export async function dryRunCommand(ctx: CliContext, name: string, opts: { incident: string; json?: boolean }): Promise<void> {
  let result;
  try {
    result = await dryRunWorkflow(ctx.prisma, name, opts.incident);
  } catch (error) {
    if (error instanceof DryRunError) throw new CliError(error.message);
    throw error;
  }
  if (opts.json) {
    ctx.io.out(JSON.stringify(result, null, 2));
    return;
  }
  ctx.io.out(`workflow ${result.workflow.name} v${result.workflow.version} against incident #${result.incident.number} "${result.incident.title}" (dry run, nothing is sent)`);
  if (result.matches) ctx.io.out(`trigger (${result.event.type}) and conditions: match`);
  else {
    ctx.io.out(`trigger (${result.event.type}) and conditions: no match`);
    for (const reason of result.reasons) ctx.io.out(`  - ${reason}`);
  }
  ctx.io.out(result.actions.length === 0 ? 'actions: none' : 'actions, in order:');
  for (const action of result.actions) {
    ctx.io.out(`  ${action.nodeId} (${action.action})${action.note ? `: ${action.note}` : ''}`);
    for (const line of JSON.stringify(action.input, null, 2).split('\n')) ctx.io.out(`    ${line}`);
  }
}
