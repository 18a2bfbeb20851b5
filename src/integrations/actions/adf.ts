/**
 * Plain text to Atlassian Document Format: blank lines separate paragraphs, single line breaks
 * inside a paragraph become `hardBreak` nodes. Jira Cloud REST v3 rejects plain-string descriptions.
 */

export interface AdfNode {
  type: string;
  text?: string;
  content?: AdfNode[];
}

export interface AdfDocument {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

export function textToAdf(text: string): AdfDocument {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((p) => p.split('\n').map((l) => l.trimEnd()))
    .filter((lines) => lines.some((l) => l.trim() !== ''));
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map((lines) => {
      const content: AdfNode[] = [];
      lines.forEach((line, i) => {
        if (i > 0) content.push({ type: 'hardBreak' });
        if (line !== '') content.push({ type: 'text', text: line });
      });
      return { type: 'paragraph', content };
    }),
  };
}
