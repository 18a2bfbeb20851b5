import { describe, expect, it } from 'vitest';
import { parseCommand, parseMessage } from '../../../src/bot/commands.js';

describe('parseCommand', () => {
  it('parses every /workflow subcommand', () => {
    expect(parseCommand('/workflow', 'run page-oncall')).toEqual({ ok: true, intent: { kind: 'workflow.run', name: 'page-oncall', dryRun: false } });
    expect(parseCommand('/workflow', 'run page-oncall --dry-run')).toEqual({ ok: true, intent: { kind: 'workflow.run', name: 'page-oncall', dryRun: true } });
    expect(parseCommand('workflow', 'RUN "Page on call"')).toEqual({ ok: true, intent: { kind: 'workflow.run', name: 'Page on call', dryRun: false } });
    expect(parseCommand('/workflow', 'list')).toEqual({ ok: true, intent: { kind: 'workflow.list' } });
    expect(parseCommand('/workflow', 'show x')).toEqual({ ok: true, intent: { kind: 'workflow.show', name: 'x' } });
    expect(parseCommand('/workflow', 'history')).toEqual({ ok: true, intent: { kind: 'workflow.history' } });
    expect(parseCommand('/workflow', 'enable x')).toEqual({ ok: true, intent: { kind: 'workflow.enable', name: 'x' } });
    expect(parseCommand('/workflow', 'disable x')).toEqual({ ok: true, intent: { kind: 'workflow.disable', name: 'x' } });
    expect(parseCommand('/workflow', 'help')).toEqual({ ok: true, intent: { kind: 'workflow.help' } });
    expect(parseCommand('/workflow', '   ')).toEqual({ ok: true, intent: { kind: 'workflow.help' } });
  });

  it('parses every /incident subcommand', () => {
    expect(parseCommand('/incident', 'declare Database is down P1')).toEqual({ ok: true, intent: { kind: 'incident.declare', title: 'Database is down', priority: 'P1' } });
    expect(parseCommand('/incident', 'declare Database is down')).toEqual({ ok: true, intent: { kind: 'incident.declare', title: 'Database is down' } });
    expect(parseCommand('/incident', 'declare p2')).toEqual({ ok: true, intent: { kind: 'incident.declare', title: 'p2' } });
    expect(parseCommand('/incident', 'declare DB failover P2 --new-channel')).toEqual({ ok: true, intent: { kind: 'incident.declare', title: 'DB failover', priority: 'P2', newChannel: true } });
    expect(parseCommand('/incident', 'declare --new-channel DB failover')).toEqual({ ok: true, intent: { kind: 'incident.declare', title: 'DB failover', newChannel: true } });
    expect(parseCommand('/incident', 'status Investigating')).toEqual({ ok: true, intent: { kind: 'incident.status', status: 'investigating' } });
    expect(parseCommand('/incident', 'assign <@U123|ana>')).toEqual({ ok: true, intent: { kind: 'incident.assign', assignee: { kind: 'mention', platformUserId: 'U123', label: 'ana' } } });
    expect(parseCommand('/incident', 'assign <@29:1abc|Ana Maria Lopez>')).toEqual({ ok: true, intent: { kind: 'incident.assign', assignee: { kind: 'mention', platformUserId: '29:1abc', label: 'Ana Maria Lopez' } } });
    expect(parseCommand('/incident', 'assign "<@U9|Bo B>"')).toEqual({ ok: true, intent: { kind: 'incident.assign', assignee: { kind: 'mention', platformUserId: 'U9', label: 'Bo B' } } });
    expect(parseCommand('/incident', 'assign <@U123>')).toEqual({ ok: true, intent: { kind: 'incident.assign', assignee: { kind: 'mention', platformUserId: 'U123' } } });
    expect(parseCommand('/incident', 'assign me')).toEqual({ ok: true, intent: { kind: 'incident.assign', assignee: { kind: 'me' } } });
    expect(parseCommand('/incident', 'assign nobody')).toEqual({ ok: true, intent: { kind: 'incident.assign', assignee: { kind: 'nobody' } } });
    expect(parseCommand('/incident', 'escalate')).toEqual({ ok: true, intent: { kind: 'incident.escalate' } });
    expect(parseCommand('/incident', 'resolve')).toEqual({ ok: true, intent: { kind: 'incident.resolve' } });
  });

  it('suggests the closest subcommand for a typo', () => {
    const result = parseCommand('/workflow', 'lsit');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.suggestions).toContain('list');
    expect(result.message).toContain('Did you mean `/workflow list`?');
    const inc = parseCommand('/incident', 'escalte');
    expect(!inc.ok && inc.suggestions[0]).toBe('escalate');
  });

  it('refuses bad arguments with a usage line', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['/workflow', 'run', /Which workflow\?/],
      ['/workflow', 'run x --force', /Unknown option `--force`/],
      ['/workflow', 'list extra', /takes no arguments/],
      ['/incident', 'declare', /title/],
      ['/incident', 'declare Outage P9', /Priority must be one of/],
      ['/incident', 'declare Outage --private', /Unknown option `--private`/],
      ['/incident', 'status', /Say which state/],
      ['/incident', 'assign ana', /Mention the person/],
      ['/incident', 'declare "unclosed', /quote is not closed/],
      ['/deploy', 'x', /Unknown command `\/deploy`/],
      ['/workflow', `run ${'x'.repeat(300)}`, /too long/],
    ];
    for (const [command, text, pattern] of cases) {
      const result = parseCommand(command, text);
      expect(result.ok, `${command} ${text}`).toBe(false);
      if (!result.ok) expect(result.message).toMatch(pattern);
    }
  });

  it('parses whole messages (Teams, app mentions)', () => {
    expect(parseMessage('workflow run a --dry-run')).toEqual({ ok: true, intent: { kind: 'workflow.run', name: 'a', dryRun: true } });
    expect(parseMessage('/incident resolve')).toEqual({ ok: true, intent: { kind: 'incident.resolve' } });
  });
});
