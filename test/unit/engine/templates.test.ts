import { describe, expect, it } from 'vitest';
import { REDACTED, findReferences, redactSecrets, renderTemplates, secretMarker, type TemplateContext } from '../../../src/engine/templates.js';
import { incident } from './fixtures.js';

const ctx: TemplateContext = {
  incident: incident() as unknown as Record<string, unknown>,
  trigger: { type: 'state_changed', previousState: 'open', newState: 'resolved' },
  steps: { ticket: { output: { key: 'OPS-1', labels: ['a', 'b'], count: 3 } } },
  execution: { id: 'exec-1' },
  workflow: { id: 'wf-1', name: 'p1' },
};
const secrets = new Map([['TOKEN', 'tok-123"&/+=']]);

describe('renderTemplates', () => {
  it('renders every string in nested objects and arrays, leaving other values alone', () => {
    const input = { a: 'Title: {{incident.title}}', nested: { list: ['{{trigger.previousState}} -> {{ trigger.newState }}', 7, true, null] } };
    expect(renderTemplates(input, ctx, secrets, 'send')).toEqual({ a: 'Title: Database down', nested: { list: ['open -> resolved', 7, true, null] } });
  });

  it('keeps the type of a string that is exactly one reference', () => {
    expect(renderTemplates({ n: '{{incident.number}}', labels: '{{steps.ticket.output.labels}}', count: '{{ steps.ticket.output.count }}' }, ctx, secrets, 'send')).toEqual({
      n: 42,
      labels: ['a', 'b'],
      count: 3,
    });
  });

  it('never builds JSON from strings: quotes in values stay data', () => {
    const evil = { ...ctx, incident: { ...ctx.incident, title: '", "admin": true, "x": "' } };
    const out = renderTemplates({ body: { title: '{{incident.title}}', admin: false } }, evil, secrets, 'send');
    expect(out).toEqual({ body: { title: '", "admin": true, "x": "', admin: false } });
  });

  it('drops a whole reference to something missing and renders it empty inside text', () => {
    expect(renderTemplates({ a: '{{incident.metadata.nope}}', b: 'x{{incident.metadata.nope}}y' }, ctx, secrets, 'send')).toEqual({ b: 'xy' });
  });

  it('substitutes secrets only when sending, and puts a marker in for display', () => {
    const input = { headers: { Authorization: 'Bearer {{secrets.TOKEN}}' } };
    expect(renderTemplates(input, ctx, secrets, 'send')).toEqual({ headers: { Authorization: 'Bearer tok-123"&/+=' } });
    expect(renderTemplates(input, ctx, secrets, 'display')).toEqual({ headers: { Authorization: `Bearer ${secretMarker('TOKEN')}` } });
  });

  it('throws for a secret that is not configured when sending', () => {
    expect(() => renderTemplates({ a: '{{secrets.MISSING}}' }, ctx, secrets, 'send')).toThrow(/MISSING/);
    expect(renderTemplates({ a: '{{secrets.MISSING}}' }, ctx, secrets, 'display')).toEqual({ a: secretMarker('MISSING') });
  });

  it('finds references', () => {
    expect(findReferences('a {{x.y}} b {{ z }}')).toEqual(['x.y', 'z']);
  });
});

describe('redactSecrets', () => {
  const secret = 'p@ss word/+=?';

  it('removes the raw value and its encoded forms from text', () => {
    const forms = [
      secret,
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret).toString('base64url'),
      encodeURIComponent(secret),
      new URLSearchParams({ q: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
    ];
    for (const form of forms) {
      const out = redactSecrets(`error: got ${form} back`, new Map([['S', secret]]));
      expect(out).toBe(`error: got ${REDACTED} back`);
    }
  });

  it('walks objects, arrays, keys and errors, accepting a map, a record or a list', () => {
    const value = { message: `401 for ${secret}`, nested: [{ [secret]: secret }], err: new Error(`bad ${secret}`), n: 1 };
    for (const source of [new Map([['S', secret]]), { S: secret }, [secret]]) {
      const out = redactSecrets(value, source);
      expect(JSON.stringify(out)).not.toContain(secret);
      expect(out.n).toBe(1);
      expect(out.message).toBe(`401 for ${REDACTED}`);
    }
  });

  it('leaves text alone when there are no secrets, and ignores empty values', () => {
    expect(redactSecrets('hello', new Map())).toBe('hello');
    expect(redactSecrets('hello', { EMPTY: '' })).toBe('hello');
  });

  it('prefers the longest match so overlapping secrets are fully removed', () => {
    expect(redactSecrets('key=abcdef', ['abc', 'abcdef'])).toBe(`key=${REDACTED}`);
  });
});

describe('redactSecrets (properties)', () => {
  it('leaves no secret (raw, base64 or URL-encoded) in any text that embeds it', async () => {
    const fc = await import('fast-check');
    fc.assert(
      fc.property(fc.string({ minLength: 4, maxLength: 40 }), fc.string(), fc.string(), fc.constantFrom('raw', 'base64', 'url'), (secret, before, after, form) => {
        const encoded = form === 'raw' ? secret : form === 'base64' ? Buffer.from(secret).toString('base64') : encodeURIComponent(secret);
        const out = redactSecrets(`${before}${encoded}${after}`, [secret]);
        return !out.includes(encoded);
      }),
    );
  });
});
