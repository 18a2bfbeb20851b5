import { describe, expect, it } from 'vitest';
import { textToAdf } from '../../../src/integrations/actions/adf.js';
import { signWebhook, verifyWebhook } from '../../../src/integrations/actions/signing.js';
import { parseRetryAfter } from '../../../src/integrations/http-errors.js';
import { createScrubber } from '../../../src/integrations/scrub.js';
import { uuidV5 } from '../../../src/integrations/uuid.js';

describe('scrub', () => {
  const scrub = createScrubber(['s3cr3t-value!', 'tok_123456']);
  it('removes values and their encoded spellings', () => {
    expect(scrub('a s3cr3t-value! b')).toBe('a [REDACTED] b');
    expect(scrub(`q=${encodeURIComponent('s3cr3t-value!')}`)).toBe('q=[REDACTED]');
    expect(scrub(Buffer.from('s3cr3t-value!').toString('base64'))).toBe('[REDACTED]');
  });
  it('removes Authorization headers, Basic/Bearer tokens and URL userinfo whatever their value', () => {
    expect(scrub('Authorization: Basic Ym90QGV4YW1wbGUuY29tOnh5eg==')).toBe('Authorization: Basic [REDACTED]');
    expect(scrub('{"authorization":"Bearer abc.def.ghi"}')).toBe('{"authorization":"Bearer [REDACTED]"}');
    expect(scrub('sent Bearer eyJhbGciOiJIUzI1NiJ9xyz')).toBe('sent Bearer [REDACTED]');
    expect(scrub('https://user:pa55@host/x')).toBe('https://[REDACTED]@host/x');
    expect(scrub('nothing to see here')).toBe('nothing to see here');
  });
});

describe('ADF', () => {
  it('paragraphs from blank-line blocks, hard breaks inside', () => {
    expect(textToAdf('a\nb\n\n\nc')).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'a' }, { type: 'hardBreak' }, { type: 'text', text: 'b' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'c' }] },
      ],
    });
    expect(textToAdf('   \n').content).toEqual([]);
  });
});

describe('uuidV5', () => {
  it('matches the RFC 9562 test vector and is deterministic', () => {
    // RFC 9562 appendix A.4: DNS namespace, "www.example.com".
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(uuidV5('e:n')).toBe(uuidV5('e:n'));
    expect(uuidV5('e:n')).not.toBe(uuidV5('e:m'));
  });
});

describe('Standard Webhooks signing', () => {
  it('matches the reference scheme and rejects old timestamps', () => {
    // Standard Webhooks reference test vector.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    expect(signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    const headers = { id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: '1614265330', signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
    expect(verifyWebhook(secret, headers, body, 1614265330)).toBe(true);
    expect(verifyWebhook(secret, headers, body, 1614265330 + 3600)).toBe(false);
  });
});

describe('Retry-After', () => {
  it('seconds, HTTP dates and fallbacks', () => {
    expect(parseRetryAfter('5', 0)).toBe(5000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 0)).toBe(10_000);
    expect(parseRetryAfter(undefined, 0, 1234)).toBe(1234);
    expect(parseRetryAfter('soon', 0, 99)).toBe(99);
  });
});
