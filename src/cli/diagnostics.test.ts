import { describe, expect, it } from 'vitest';
import { maskHeader, maskUrl } from './diagnostics.js';

describe('--debug output masks credentials', () => {
  it('shows only the scheme of authorization headers and cookies', () => {
    expect(maskHeader('Authorization', 'Basic YWxpY2U6d29uZGVybGFuZA==')).toBe('Basic ***');
    expect(maskHeader('authorization', 'Bearer eyJhbGciOi')).toBe('Bearer ***');
    expect(maskHeader('Set-Cookie', 'session=abc')).toBe('***');
    expect(maskHeader('Proxy-Authorization', 'secret')).toBe('***');
    expect(maskHeader('content-type', 'application/json')).toBe('application/json');
  });

  it('masks the signatures and tokens of pre-signed URLs, and nothing else', () => {
    expect(
      maskUrl(
        'https://s3.example/bucket/blob?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&X-Amz-Security-Token=t',
      ),
    ).toBe(
      'https://s3.example/bucket/blob?X-Amz-Algorithm=AWS4&X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***',
    );
    expect(maskUrl('https://acct.blob.core.windows.net/c/b?sv=2020&sig=SECRET&se=2030')).toBe(
      'https://acct.blob.core.windows.net/c/b?sv=2020&sig=***&se=2030',
    );
    expect(maskUrl('http://r/v2/app/blobs/uploads/?mount=sha256%3Aab&from=net')).toBe(
      'http://r/v2/app/blobs/uploads/?mount=sha256%3Aab&from=net',
    );
    expect(maskUrl('http://r/token?service=reg&scope=repository:a:pull')).toBe(
      'http://r/token?service=reg&scope=repository:a:pull',
    );
  });
});
