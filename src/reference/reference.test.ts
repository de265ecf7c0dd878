import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors/index.js';
import { parseReference } from './reference.js';
import { isLoopbackRegistry } from './registry-name.js';
import { canonicalScope } from './scope.js';

const D256 = `sha256:${'a'.repeat(64)}`;
const D384 = `sha384:${'b'.repeat(96)}`;
const D512 = `sha512:${'c'.repeat(128)}`;

describe('parseReference: valid references', () => {
  const table: Array<[string, string, string, string | undefined, string | undefined]> = [
    // input, registry, repository, tag, digest
    ['nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', undefined],
    ['user/app', 'docker.io', 'user/app', 'latest', undefined],
    ['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['index.docker.io/nginx:v1', 'docker.io', 'library/nginx', 'v1', undefined],
    ['index.docker.io/user/app', 'docker.io', 'user/app', 'latest', undefined],
    ['docker.io/library/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['localhost:5000/app', 'localhost:5000', 'app', 'latest', undefined],
    ['localhost/app:v2', 'localhost', 'app', 'v2', undefined],
    ['localhost', 'docker.io', 'library/localhost', 'latest', undefined],
    ['[::1]:5000/app', '[::1]:5000', 'app', 'latest', undefined],
    ['[::1]/app:t', '[::1]', 'app', 't', undefined],
    ['[2001:db8::1]:5443/a/b/c:v', '[2001:db8::1]:5443', 'a/b/c', 'v', undefined],
    ['127.0.0.1:5000/ns/app:v1', '127.0.0.1:5000', 'ns/app', 'v1', undefined],
    ['ghcr.io/org/team/app', 'ghcr.io', 'org/team/app', 'latest', undefined],
    ['Registry.Example.com/app', 'registry.example.com', 'app', 'latest', undefined],
    ['myreg/app', 'docker.io', 'myreg/app', 'latest', undefined],
    [`reg.io/app@${D256}`, 'reg.io', 'app', undefined, D256],
    [`reg.io/app:v1@${D256}`, 'reg.io', 'app', 'v1', D256],
    [`reg.io/app@${D384}`, 'reg.io', 'app', undefined, D384],
    [`reg.io/app@${D512}`, 'reg.io', 'app', undefined, D512],
    [`localhost:5000/app:v1@${D256}`, 'localhost:5000', 'app', 'v1', D256],
    [`nginx@${D256}`, 'docker.io', 'library/nginx', undefined, D256],
    ['reg.io/a_b/c__d/e-f/g--h/i.j:_tag', 'reg.io', 'a_b/c__d/e-f/g--h/i.j', '_tag', undefined],
    [`reg.io/app:${'x'.repeat(128)}`, 'reg.io', 'app', 'x'.repeat(128), undefined],
    ['reg.io/app:V1.0-rc_1', 'reg.io', 'app', 'V1.0-rc_1', undefined],
  ];
  for (const [input, registry, repository, tag, digest] of table) {
    it(input.length > 60 ? `${input.slice(0, 60)}…` : input, () => {
      const ref = parseReference(input);
      expect(ref.registry).toBe(registry);
      expect(ref.repository).toBe(repository);
      expect(ref.tag).toBe(tag);
      expect(ref.digest).toBe(digest);
      expect(ref.name).toBe(`${registry}/${repository}`);
      // The normalised form parses to itself.
      expect(parseReference(ref.reference).reference).toBe(ref.reference);
    });
  }

  it('formats name, reference and fetch reference', () => {
    const ref = parseReference(`nginx:1.25@${D256}`);
    expect(ref.name).toBe('docker.io/library/nginx');
    expect(ref.reference).toBe(`docker.io/library/nginx:1.25@${D256}`);
    expect(String(ref)).toBe(ref.reference);
    expect(JSON.stringify({ ref })).toBe(JSON.stringify({ ref: ref.reference }));
    expect(ref.fetchReference).toBe(D256);
    expect(parseReference('nginx:1.25').fetchReference).toBe('1.25');
    const pinned = parseReference('nginx:1.25').withDigest(D256);
    expect(pinned.reference).toBe(`docker.io/library/nginx:1.25@${D256}`);
    expect(() => parseReference('nginx').withDigest('sha256:abc')).toThrow(/64 hex/);
  });

  it('does not carry absent tag/digest as own properties (exactOptionalPropertyTypes)', () => {
    const ref = parseReference(`reg.io/app@${D256}`);
    expect(Object.hasOwn(ref, 'tag')).toBe(false);
    expect(Object.hasOwn(parseReference('reg.io/app'), 'digest')).toBe(false);
  });
});

describe('parseReference: invalid references', () => {
  const table: Array<[string, RegExp]> = [
    ['', /empty/],
    ['nginx ', /white space/],
    ['https://reg.io/app', /URL scheme/],
    ['Nginx', /lower-case/],
    ['reg.io/App', /must be lower-case/],
    ['reg.io/app/UPPER:v1', /must be lower-case/],
    ['reg.io/app:', /tag after ":" is empty/],
    ['reg.io/app:-bad', /tag "-bad"/],
    ['reg.io/app:.bad', /tag ".bad"/],
    ['reg.io/app:bad+tag', /tag "bad\+tag"/],
    [`reg.io/app:${'x'.repeat(129)}`, /129 characters, at most 128/],
    ['reg.io/app@', /not <algorithm>:<hex>/],
    ['reg.io/app@sha256', /not <algorithm>:<hex>/],
    ['reg.io/app@sha256:abc', /64 hex characters, got 3/],
    [`reg.io/app@sha256:${'A'.repeat(64)}`, /lower-case hexadecimal/],
    [`reg.io/app@md5:${'a'.repeat(32)}`, /"md5" is not supported/],
    [`reg.io/app@sha384:${'a'.repeat(64)}`, /96 hex characters/],
    [`reg.io/app@${D256}@${D256}`, /more than one "@"/],
    ['reg.io/', /no repository after the registry/],
    ['reg.io//app', /empty path component/],
    ['reg.io/app/', /empty path component/],
    ['reg.io/-app', /path component "-app"/],
    ['reg.io/app_', /path component "app_"/],
    ['reg.io/a___b', /path component "a___b"/],
    ['reg.io/a..b', /path component "a..b"/],
    ['-reg.io/app', /not a valid host name/],
    ['reg..io/app', /not a valid host name/],
    ['reg.io:99999/app', /port "99999"/],
    ['reg.io:abc/app', /port "abc"/],
    ['reg.io:/app', /port ""/],
    ['[::1/app', /unclosed IPv6 bracket/],
    ['[zz]:5000/app', /not a valid IPv6 literal/],
    ['[::1]x/app', /text after the IPv6 literal/],
    ['[::1]:5000', /no repository path/],
    [':tag', /repository name is empty/],
    [`${'a'.repeat(250)}.io/${'b'.repeat(10)}`, /at most 255/],
  ];
  for (const [input, message] of table) {
    it(JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input), () => {
      let error: unknown;
      try {
        parseReference(input);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PortcullisError);
      expect((error as PortcullisError).code).toBe('ERR_REF_INVALID');
      expect((error as PortcullisError).message).toMatch(message);
    });
  }

  it('keeps messages printable and short', () => {
    try {
      parseReference(`reg.io/\u0007${'x'.repeat(400)}`);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message.includes('\u0007')).toBe(false);
      expect((e as Error).message.length).toBeLessThan(800);
    }
  });
});

/**
 * Every spelling the container runtime resolves to the same registry and repository reads as one
 * canonical reference here, so that no spelling escapes a trust policy statement scoped to it;
 * spellings that may mean another registry or repository are refused.
 */
describe('parseReference: one canonical form per registry', () => {
  const same: Array<[string, string]> = [
    // written → canonical
    ['LOCALHOST:5012/test-repo:unsigned', 'localhost:5012/test-repo:unsigned'],
    ['localhost:05012/test-repo:unsigned', 'localhost:5012/test-repo:unsigned'],
    ['LocalHost:005012/test-repo:unsigned', 'localhost:5012/test-repo:unsigned'],
    ['LOCALHOST/test-repo', 'localhost/test-repo:latest'],
    ['REGISTRY.EXAMPLE/team/app', 'registry.example/team/app:latest'],
    ['[0:0:0:0:0:0:0:1]:5000/app', '[::1]:5000/app:latest'],
    ['[0000::0001]:5000/app', '[::1]:5000/app:latest'],
    ['[2001:DB8::1]:5000/app', '[2001:db8::1]:5000/app:latest'],
    ['[::ffff:127.0.0.1]:5000/app', '127.0.0.1:5000/app:latest'],
    ['[::FFFF:7f00:1]:5000/app', '127.0.0.1:5000/app:latest'],
    ['127.0.0.1:05000/app', '127.0.0.1:5000/app:latest'],
    ['nginx', 'docker.io/library/nginx:latest'],
    ['library/nginx', 'docker.io/library/nginx:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['registry-1.docker.io/library/nginx', 'docker.io/library/nginx:latest'],
    ['DOCKER.IO/library/nginx', 'docker.io/library/nginx:latest'],
    ['Index.Docker.IO/user/app', 'docker.io/user/app:latest'],
    ['REGISTRY-1.DOCKER.IO/user/app:v1', 'docker.io/user/app:v1'],
    ['myreg:443/app', 'myreg:443/app:latest'],
  ];
  it.each(same)('%s is %s', (written, canonical) => {
    const ref = parseReference(written);
    expect(ref.reference).toBe(canonical);
    expect(ref.written).toBe(written);
    expect(parseReference(ref.reference).reference).toBe(ref.reference);
  });

  it('shows the reference as written and as canonicalised', () => {
    expect(parseReference('LOCALHOST:05012/test-repo:unsigned').shown).toBe(
      'LOCALHOST:05012/test-repo:unsigned (localhost:5012/test-repo:unsigned)',
    );
    expect(parseReference('localhost:5012/test-repo:unsigned').shown).toBe('localhost:5012/test-repo:unsigned');
  });

  const refused: Array<[string, RegExp]> = [
    ['127.1:5000/app', /numeric address/],
    ['127.000.000.001:5000/app', /numeric address/],
    ['0x7f.0.0.1:5000/app', /numeric address/],
    ['2130706433:5000/app', /numeric address/],
    ['1.2.3.4.5/app', /numeric address/],
    ['registry.example:443/app', /default port 443/],
    ['registry.example:0443/app', /default port 443/],
    ['registry.example:80/app', /default port 80/],
    ['localhost:443/app', /default port 443/],
    ['[::1]:443/app', /default port 443/],
    ['docker.io:443/library/nginx', /default port 443/],
    ['registry-1.docker.io/nginx', /docker.io\/library\/nginx/],
    ['DOCKER.IO/nginx', /docker.io\/library\/nginx/],
    ['Index.Docker.IO/nginx', /docker.io\/library\/nginx/],
    ['MyReg/app', /upper-case/],
  ];
  it.each(refused)('refuses %s (ERR_REF_AMBIGUOUS)', (input, message) => {
    let error: unknown;
    try {
      parseReference(input);
    } catch (e) {
      error = e;
    }
    expect((error as PortcullisError).code).toBe('ERR_REF_AMBIGUOUS');
    expect((error as PortcullisError).message).toMatch(message);
  });
});

describe('isLoopbackRegistry', () => {
  it.each([
    'localhost',
    'LOCALHOST:5000',
    'LocalHost',
    '127.0.0.1:5000',
    '127.1.2.3',
    '[::1]:5000',
    '[0:0:0:0:0:0:0:1]',
    '[::ffff:127.0.0.1]:5000',
    'localhost:443',
  ])('%s is loopback', (registry) => {
    expect(isLoopbackRegistry(registry)).toBe(true);
  });
  it.each(['registry.example', 'localhost.example', '128.0.0.1', '[::2]', '127.1', 'docker.io', 'mylocalhost:5000'])(
    '%s is not',
    (registry) => {
      expect(isLoopbackRegistry(registry)).toBe(false);
    },
  );
});

describe('canonicalScope', () => {
  it.each([
    ['*', '*'],
    ['LOCALHOST:05012/test-repo', 'localhost:5012/test-repo'],
    ['Registry.Example/team/app', 'registry.example/team/app'],
    ['docker.io/nginx', 'docker.io/library/nginx'],
    ['index.docker.io/library/nginx', 'docker.io/library/nginx'],
    ['registry-1.docker.io/library/nginx', 'docker.io/library/nginx'],
    ['myreg/app', 'myreg/app'],
    ['local/mylayout', 'local/mylayout'],
  ])('%s is %s', (scope, canonical) => {
    expect(canonicalScope(scope)).toEqual({ value: canonical });
  });
  it.each(['registry-1.docker.io/nginx', 'registry.example:443/app', '127.1:5000/app'])(
    '%s has no canonical form',
    (scope) => {
      expect(canonicalScope(scope)).toMatchObject({ error: expect.stringContaining(scope) });
    },
  );
});
