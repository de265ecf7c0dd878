import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../src/errors/errors-doc.js';
import { renderTroubleshootingDoc } from '../src/errors/troubleshooting-doc.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
writeFileSync(new URL('../docs/troubleshooting.md', import.meta.url), renderTroubleshootingDoc());
