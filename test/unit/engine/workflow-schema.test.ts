/**
 * The published JSON Schema (schemas/workflow.schema.json) must equal the one generated from the
 * zod schema. To regenerate after changing definition.ts:
 *   UPDATE_WORKFLOW_SCHEMA=1 npx vitest run test/unit/engine/workflow-schema.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { workflowJsonSchema, workflowJsonSchemaText } from '../../../src/engine/definition.js';

const schemaPath = fileURLToPath(new URL('../../../schemas/workflow.schema.json', import.meta.url));

describe('published workflow JSON Schema', () => {
  it('is the schema generated from the zod definition', () => {
    if (process.env.UPDATE_WORKFLOW_SCHEMA === '1') writeFileSync(schemaPath, workflowJsonSchemaText());
    expect(readFileSync(schemaPath, 'utf8')).toBe(workflowJsonSchemaText());
  });

  it('describes node types, action types and timeouts for editors', () => {
    const text = JSON.stringify(workflowJsonSchema());
    for (const word of ['"trigger"', '"action"', '"condition"', '"delay"', '"jira.create_issue"', '"linear.create_issue"', '"15min"', '"state_changed"']) {
      expect(text).toContain(word);
    }
    const schema = workflowJsonSchema() as { required?: string[]; additionalProperties?: boolean };
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'trigger', 'nodes']));
    expect(schema.required).not.toContain('settings');
    expect(schema.additionalProperties).toBe(false);
  });
});
