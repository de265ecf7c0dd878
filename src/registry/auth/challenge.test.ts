import { describe, expect, it } from 'vitest';
import { parseChallengeHeader, parseChallenges, pickChallenge } from './challenge.js';

describe('parseChallenges', () => {
  const table: Array<[string, Array<{ scheme: string; params: Record<string, string> }>]> = [
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/nginx:pull',
          },
        },
      ],
    ],
    // Quoted strings with commas, escapes, spaces around "=" and ",", upper-case names.
    [
      'Bearer Realm = "https://a/token?x=1,2" , service="s\\"q", scope="repository:a:pull,push repository:b:pull"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://a/token?x=1,2', service: 's"q', scope: 'repository:a:pull,push repository:b:pull' },
        },
      ],
    ],
    // Token (unquoted) values.
    [
      'Bearer realm=https://a/token,service=reg',
      [{ scheme: 'bearer', params: { realm: 'https://a/token', service: 'reg' } }],
    ],
    // Two challenges in one header.
    [
      'Basic realm="basic, one", Bearer realm="https://t/token",service="svc"',
      [
        { scheme: 'basic', params: { realm: 'basic, one' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', service: 'svc' } },
      ],
    ],
    ['Negotiate', [{ scheme: 'negotiate', params: {} }]],
    ['', []],
    // Unterminated quoted string: the challenge so far, without the broken parameter.
    ['Bearer realm="https://t/token', [{ scheme: 'bearer', params: {} }]],
  ];
  for (const [header, expected] of table) {
    it(JSON.stringify(header), () => {
      const parsed = parseChallenges(header).map((c) => ({ scheme: c.scheme, params: { ...c.params } }));
      expect(parsed).toEqual(expected);
    });
  }

  it('reads repeated headers and prefers Bearer over Basic', () => {
    const challenges = parseChallengeHeader(['Basic realm="x"', 'Bearer realm="https://t/token",service="s"']);
    expect(pickChallenge(challenges)?.scheme).toBe('bearer');
    expect(pickChallenge(parseChallengeHeader('Basic realm="x"'))?.scheme).toBe('basic');
    // A Bearer challenge without a realm cannot be answered.
    expect(pickChallenge(parseChallengeHeader('Bearer service="s"'))).toBeUndefined();
    expect(pickChallenge(parseChallengeHeader(undefined))).toBeUndefined();
  });

  it('does not let parameter names reach the prototype', () => {
    const [challenge] = parseChallenges('Bearer __proto__="x", realm="r"');
    expect(challenge?.params.realm).toBe('r');
    expect(Object.getPrototypeOf(challenge?.params)).toBeNull();
  });
});
