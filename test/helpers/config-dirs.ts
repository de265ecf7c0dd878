import { afterEach } from 'vitest';
import { ConfigDir } from './cli.js';

/**
 * A maker of throw-away configuration directories for one test file: each directory made during a
 * test is removed after it. Call at the top of the file.
 */
export function configDirsPerTest(): () => ConfigDir {
  const made: ConfigDir[] = [];
  afterEach(() => {
    for (const c of made.splice(0)) c.cleanup();
  });
  return () => {
    const c = new ConfigDir();
    made.push(c);
    return c;
  };
}
