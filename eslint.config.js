// Lint rules, including the one that keeps layers importing downward only.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
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
  x509: ['errors', 'util'],
  timestamp: ['errors', 'util', 'x509'],
  envelope: ['errors', 'util', 'oci', 'x509'],
  policy: ['errors', 'util', 'x509', 'reference'],
  verify: ['errors', 'util', 'oci', 'x509', 'timestamp', 'envelope', 'policy'],
  policyset: ['errors', 'util', 'x509', 'policy'],
  layout: ['errors', 'util', 'oci'],
  registry: ['errors', 'util', 'oci', 'reference'],
  revocation: ['errors', 'util', 'x509', 'verify'],
  config: ['errors', 'util'],
  'notation-config': ['errors', 'util', 'x509', 'policy'],
  signing: ['errors', 'util', 'oci', 'x509', 'envelope', 'timestamp', 'notation-config', 'plugin'],
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
  // portcullis explain: a decision beside the snapshot it was made from: pure.
  explain: ['errors', 'util', 'policy', 'policyset', 'verify', 'executor'],
  kube: ['errors', 'util', 'x509', 'policy', 'policyset', 'policy-source', 'registry'],
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
    'notation-config',
    'plugin',
    'signing',
    'policyset',
    'policy-source',
    'migrate',
    'metrics',
    'log',
    'executor',
    'audit',
    'explain',
    'http',
    'kube',
  ],
};
const FOLDERS = Object.keys(ALLOWED);

// The pure core: no I/O, no clock, no runtime frameworks. (lru-cache is a data structure; the
// core's caches set no TTL, so it reads no clock there.)
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
  '@kubernetes/client-node',
];

function layerRule(folder) {
  const allowed = new Set([folder, ...ALLOWED[folder]]);
  const forbidden = FOLDERS.filter((f) => !allowed.has(f));
  const patterns = forbidden.map((f) => ({
    group: [`../${f}`, `../${f}/*`, `../../${f}`, `../../${f}/*`, `../../../${f}/*`],
    message: `layer rule: src/${folder} may not import src/${f} (imports point down only; see eslint.config.js)`,
  }));
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

const SRC = resolve(import.meta.dirname, 'src');
for (const folder of FOLDERS) {
  if (!existsSync(join(SRC, folder, 'index.ts')))
    throw new Error(`src/${folder} has no index.ts: every folder has a public face (see publicFace below)`);
}

/**
 * Each folder's index.ts is its public face: across folders, only `../<folder>/index.js` may be
 * imported (anything in a folder may import anything of its own folder). The one exception is the
 * side-effect import of the Reflect polyfill, which must run before @peculiar's schemas load.
 */
const publicFace = {
  meta: {
    type: 'problem',
    messages: {
      face: 'import src/{{folder}} through its public face, {{face}} (src/{{own}} may not reach into another folder)',
    },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const own = relative(SRC, file).split(sep)[0];
    function check(node, source) {
      const spec = source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const from = dirname(file);
      const parts = relative(SRC, resolve(from, spec)).split(sep);
      if (parts[0] === '..' || parts[0] === own) return;
      if (parts.length === 2 && parts[1] === 'index.js') return;
      if (parts.join('/') === 'x509/reflect-polyfill.js' && node.specifiers?.length === 0) return;
      const face = relative(from, resolve(SRC, parts[0], 'index.js'))
        .split(sep)
        .join('/');
      context.report({ node: source, messageId: 'face', data: { folder: parts[0], own, face } });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : undefined),
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // prettier wraps code at 120; comments are wrapped by hand, to the same width.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  ...FOLDERS.map(layerRule),
  {
    files: ['src/**/*.ts', 'src/**/*.cts'],
    ignores: ['src/**/*.test.ts'],
    plugins: { portcullis: { rules: { 'public-face': publicFace } } },
    rules: { 'portcullis/public-face': 'error' },
  },
  // Small files with one job each: a source file past 400 lines holds more than one.
  { files: ['src/**/*.ts'], ignores: ['src/**/*.test.ts'], rules: { 'max-lines': ['error', { max: 400 }] } },
  // The CommonJS entry of the CLI (main.cts, code-cache.cts): `import x = require()` is how
  // TypeScript writes CommonJS under verbatimModuleSyntax.
  { files: ['src/**/*.cts'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['scripts/**/*.mjs'], languageOptions: { globals: { console: 'readonly', process: 'readonly' } } },
);
