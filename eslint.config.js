// Lint rules, including the one that keeps layers importing downward only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layers, lowest first. A folder may import only from folders it lists here (and itself).
 * See docs/architecture.md for the picture. Adding a folder means adding it here.
 */
const ALLOWED = {
  errors: [],
  util: ['errors'],
  oci: ['errors', 'util'],
  reference: ['errors', 'util'],
  x509: ['errors', 'util', 'envelope-types'],
  timestamp: ['errors', 'util', 'x509'],
  envelope: ['errors', 'util', 'oci', 'x509'],
  policy: ['errors', 'util', 'x509', 'reference'],
  verify: ['errors', 'util', 'oci', 'x509', 'timestamp', 'envelope', 'policy'],
  policyset: ['errors', 'util', 'x509', 'policy'],
  layout: ['errors', 'util', 'oci'],
  registry: ['errors', 'util', 'oci', 'reference'],
  revocation: ['errors', 'util', 'x509', 'verify'],
  config: ['errors', 'util', 'x509', 'policy', 'envelope'],
  signing: ['errors', 'util', 'oci', 'x509', 'envelope', 'timestamp', 'config', 'plugin'],
  plugin: ['errors', 'util', 'verify'],
  'policy-source': ['errors', 'util', 'x509', 'policy', 'policyset'],
  // Importers of other tools' policies (portcullis import): pure, text in, manifests out.
  migrate: ['errors', 'util', 'x509', 'reference', 'policy', 'policyset', 'policy-source'],
  metrics: ['errors'],
  log: [],
  transfer: ['errors', 'util', 'oci', 'reference', 'layout', 'registry'],
  executor: [
    'errors',
    'util',
    'oci',
    'reference',
    'x509',
    'policy',
    'verify',
    'policyset',
    'registry',
    'revocation',
    'metrics',
  ],
  http: ['errors', 'util', 'reference', 'policyset', 'executor', 'metrics', 'log'],
  // What runs in a cluster, decided by the executor (portcullis audit, the background audit): pure.
  audit: ['errors', 'util', 'policyset', 'executor'],
  kube: ['errors', 'util', 'x509', 'policy', 'policyset', 'executor'],
  cli: [
    'errors',
    'util',
    'oci',
    'reference',
    'x509',
    'timestamp',
    'envelope',
    'policy',
    'verify',
    'layout',
    'registry',
    'transfer',
    'revocation',
    'config',
    'plugin',
    'signing',
    'policyset',
    'policy-source',
    'migrate',
    'metrics',
    'log',
    'executor',
    'audit',
    'http',
    'kube',
  ],
};
const FOLDERS = Object.keys(ALLOWED);

// The pure core: no I/O, no clock, no runtime frameworks.
const PURE = ['errors', 'util', 'oci', 'reference', 'x509', 'timestamp', 'envelope', 'policy', 'verify', 'policyset'];
const IO_MODULES = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'http',
  'node:http',
  'https',
  'node:https',
  'net',
  'node:net',
  'tls',
  'node:tls',
  'child_process',
  'node:child_process',
  'undici',
  'fastify',
  'pino',
  'prom-client',
  'lru-cache',
  '@kubernetes/client-node',
];

function layerRule(folder) {
  const allowed = new Set([folder, ...ALLOWED[folder]]);
  const forbidden = FOLDERS.filter((f) => !allowed.has(f));
  const patterns = forbidden.map((f) => ({
    group: [`../${f}`, `../${f}/*`, `../../${f}`, `../../${f}/*`, `../../../${f}/*`],
    message: `layer rule: src/${folder} may not import src/${f} (imports point down only; see eslint.config.js)`,
  }));
  // x509 may use the envelope *types* (SignatureAlgorithm) but nothing else of envelope.
  if (folder === 'x509') {
    patterns[patterns.findIndex((p) => p.group[0] === '../envelope')] = {
      group: ['../envelope/*', '!../envelope/types.js'],
      message: 'layer rule: src/x509 may only import envelope/types.js',
    };
  }
  const paths = PURE.includes(folder)
    ? IO_MODULES.map((name) => ({ name, message: `src/${folder} is part of the pure core: no I/O modules` }))
    : [];
  return {
    files: [`src/${folder}/**/*.ts`],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns, paths }],
      ...(PURE.includes(folder)
        ? {
            'no-restricted-syntax': [
              'error',
              {
                selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
                message: 'the pure core reads no clock: pass the time in',
              },
              {
                selector: "NewExpression[callee.name='Date'][arguments.length=0]",
                message: 'the pure core reads no clock: pass the time in',
              },
              {
                selector: "MemberExpression[object.name='process'][property.name='env']",
                message: 'the pure core reads no environment',
              },
            ],
          }
        : {}),
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...FOLDERS.map(layerRule),
  // The CommonJS entry of the CLI (main.cts, code-cache.cts): `import x = require()` is how
  // TypeScript writes CommonJS under verbatimModuleSyntax.
  { files: ['src/**/*.cts'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['scripts/**/*.mjs'], languageOptions: { globals: { console: 'readonly', process: 'readonly' } } },
);
