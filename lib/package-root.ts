import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Rotor's package root: the nearest directory above `from` holding package.json. The same code
 * runs from lib/ (the CDK app, the tests) and bundled into dist/cli/rotor.js (`rotor local`,
 * which synthesizes the stage to enforce its IAM policies), at different depths below it.
 */
export function packageRoot(from: string): string {
  for (let directory = from; ; directory = dirname(directory)) {
    if (existsSync(join(directory, 'package.json'))) return directory;
    if (dirname(directory) === directory) throw new Error(`no package.json above ${from}`);
  }
}
