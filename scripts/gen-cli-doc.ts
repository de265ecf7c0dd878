import { readFileSync, writeFileSync } from 'node:fs';
import { renderCliDoc } from '../src/cli/cli-doc.js';

const file = new URL('../docs/cli.md', import.meta.url);
writeFileSync(file, renderCliDoc(readFileSync(file, 'utf8')));
