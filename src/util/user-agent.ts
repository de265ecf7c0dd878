/**
 * The User-Agent of every request Portcullis makes (registries, OCSP responders, CRL
 * distribution points, token servers): one string, kept equal to package.json's version by
 * user-agent.test.ts.
 */
export const USER_AGENT = 'portcullis/0.1.0';
