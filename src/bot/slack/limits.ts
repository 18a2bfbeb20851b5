/**
 * Block Kit's documented limits and a checker that lists every violation in a message.
 * Renderers stay inside these by construction; the checker backs the property tests and a
 * last-line guard before anything is sent.
 */
import { containsMassMention } from '../text.js';

/** Limits from https://api.slack.com/reference/block-kit (the strictest value where docs differ). */
export const LIMITS = {
  blocksPerMessage: 50,
  /** Top-level `text` fallback: Slack truncates at 40,000; we keep it short for notifications. */
  fallbackText: 3000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 2000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

/** A Slack message payload as we build it (chat.postMessage / chat.update / response bodies). */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
}

/** The subset of Block Kit blocks the renderers use. */
export type SlackBlock =
  | { type: 'header'; block_id?: string; text: PlainText }
  | { type: 'section'; block_id?: string; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; block_id?: string; elements: TextObject[] }
  | { type: 'divider'; block_id?: string }
  | { type: 'actions'; block_id?: string; elements: ButtonElement[] };

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
  verbatim?: boolean;
}
export type TextObject = PlainText | MrkdwnText;

export interface ButtonElement {
  type: 'button';
  action_id: string;
  text: PlainText;
  value?: string;
  url?: string;
  style?: 'primary' | 'danger';
  confirm?: { title: PlainText; text: TextObject; confirm: PlainText; deny: PlainText };
}

/** Every limit the message breaks (empty when it is fine), plus any mass mention found in its text. */
export function checkMessage(message: SlackMessage): string[] {
  const problems: string[] = [];
  const over = (what: string, value: string | undefined, max: number) => {
    if (value !== undefined && value.length > max) problems.push(`${what}: ${value.length} > ${max}`);
  };
  const pings = (what: string, value: string | undefined) => {
    if (value !== undefined && containsMassMention(value)) problems.push(`${what}: contains a mass mention`);
  };
  over('text', message.text, LIMITS.fallbackText);
  pings('text', message.text);
  if (message.blocks.length > LIMITS.blocksPerMessage) problems.push(`blocks: ${message.blocks.length} > ${LIMITS.blocksPerMessage}`);
  const blockIds = new Set<string>();
  message.blocks.forEach((block, i) => {
    const where = `blocks[${i}] (${block.type})`;
    if (block.block_id !== undefined) {
      over(`${where}.block_id`, block.block_id, LIMITS.blockId);
      if (blockIds.has(block.block_id)) problems.push(`${where}: duplicate block_id ${block.block_id}`);
      blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'header':
        over(`${where}.text`, block.text.text, LIMITS.headerText);
        pings(`${where}.text`, block.text.text);
        if (block.text.type !== 'plain_text') problems.push(`${where}: header text must be plain_text`);
        break;
      case 'section':
        if (!block.text && !block.fields) problems.push(`${where}: needs text or fields`);
        over(`${where}.text`, block.text?.text, LIMITS.sectionText);
        pings(`${where}.text`, block.text?.text);
        if (block.text && block.text.text.length === 0) problems.push(`${where}.text: empty`);
        if (block.fields) {
          if (block.fields.length > LIMITS.sectionFields) problems.push(`${where}.fields: ${block.fields.length} > ${LIMITS.sectionFields}`);
          block.fields.forEach((f, j) => {
            over(`${where}.fields[${j}]`, f.text, LIMITS.sectionFieldText);
            pings(`${where}.fields[${j}]`, f.text);
            if (f.text.length === 0) problems.push(`${where}.fields[${j}]: empty`);
          });
        }
        break;
      case 'context':
        if (block.elements.length === 0 || block.elements.length > LIMITS.contextElements) problems.push(`${where}.elements: ${block.elements.length} not in 1..${LIMITS.contextElements}`);
        block.elements.forEach((e, j) => {
          over(`${where}.elements[${j}]`, e.text, LIMITS.contextText);
          pings(`${where}.elements[${j}]`, e.text);
          if (e.text.length === 0) problems.push(`${where}.elements[${j}]: empty`);
        });
        break;
      case 'actions': {
        if (block.elements.length === 0 || block.elements.length > LIMITS.actionsElements) problems.push(`${where}.elements: ${block.elements.length} not in 1..${LIMITS.actionsElements}`);
        const actionIds = new Set<string>();
        block.elements.forEach((b, j) => {
          const at = `${where}.elements[${j}]`;
          over(`${at}.text`, b.text.text, LIMITS.buttonText);
          over(`${at}.action_id`, b.action_id, LIMITS.actionId);
          over(`${at}.value`, b.value, LIMITS.buttonValue);
          over(`${at}.url`, b.url, LIMITS.buttonUrl);
          pings(`${at}.text`, b.text.text);
          if (actionIds.has(b.action_id)) problems.push(`${at}: duplicate action_id ${b.action_id}`);
          actionIds.add(b.action_id);
          if (b.confirm) {
            over(`${at}.confirm.title`, b.confirm.title.text, LIMITS.confirmTitle);
            over(`${at}.confirm.text`, b.confirm.text.text, LIMITS.confirmText);
            over(`${at}.confirm.confirm`, b.confirm.confirm.text, LIMITS.confirmButton);
            over(`${at}.confirm.deny`, b.confirm.deny.text, LIMITS.confirmButton);
          }
        });
        break;
      }
      case 'divider':
        break;
    }
  });
  return problems;
}
